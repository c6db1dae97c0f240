"""2.7 against the start-up model: sys.path and module resolution only (no `.pth` import
lines: 2.7's `exec line` is a statement, which no recorder can replace).

    python3 tests/oracle27/compare.py COUNT SEED PTHSCAN [PYTHON2.7]

Generates COUNT environments (system installations: site-packages, site-python, user site,
PYTHONPATH, path lines with odd whitespace, blank lines, dot-named files, modules in every 2.7
form), asks `oracle.py` under `python2.7 -S` (2.7's own `site.addsitepackages` and
`imp.find_module`, which locate and never load) and `PTHSCAN debug-startup`, and prints the
agreement. Nothing generated holds code that could run.
"""
import os, sys, json, random, shutil, subprocess, tempfile
NAMES = ["sitecustomize", "mod_a", "mod_b", "evil"]
def w(path, data=b""):
    d = os.path.dirname(path)
    if not os.path.isdir(d):
        try: os.makedirs(d)
        except OSError: return
    if os.path.isdir(path) or os.path.islink(path): return
    open(path, "wb").write(data if isinstance(data, bytes) else data.encode())
def gen(root, rnd):
    prefix = root + "/usr"
    std = prefix + "/lib/python2.7"
    os.makedirs(std + "/lib-dynload"); w(std + "/os.py", "")
    sites = [std + "/site-packages", prefix + "/lib/site-python"]
    for s in sites:
        if rnd.random() < 0.8: os.makedirs(s)
    ub = root + "/home/.local"; us = ub + "/lib/python2.7/site-packages"
    if rnd.random() < 0.5: os.makedirs(us); sites.append(us)
    env = {}
    if rnd.random() < 0.3:
        env["PYTHONPATH"] = root + "/pp"; os.makedirs(root + "/pp")
    extra = []
    for s in [x for x in sites if os.path.isdir(x)]:
        for d in ["vendor", " vendor", "sub/inner"]:
            if rnd.random() < 0.4:
                os.makedirs(os.path.join(s, d)); extra.append(os.path.join(s, d))
        for i in range(rnd.randint(0, 3)):
            lines = [rnd.choice(["vendor", " vendor", "vendor ", "./sub/inner", "# c", "", "nope", "..", "sub/inner/", "\tvendor"]) for _ in range(rnd.randint(1, 4))]
            sep = rnd.choice(["\n", "\r\n", "\r"])
            w(os.path.join(s, rnd.choice(["a.pth", ".h.pth", "B.pth", "z.pth"])), sep.join(lines) + sep)
    places = [d for d in sites + extra + [std] + ([root + "/pp"] if env else []) if os.path.isdir(d)]
    for _ in range(rnd.randint(0, 6)):
        if not places: break
        d = rnd.choice(places); m = rnd.choice(NAMES)
        form = rnd.choice(["py", "pkg", "pkgpyc", "ns", "so", "modso", "pyc", "bare"])
        if form == "py": w(os.path.join(d, m + ".py"), "x=1\n")
        elif form == "pkg": w(os.path.join(d, m, "__init__.py"), "")
        elif form == "pkgpyc": w(os.path.join(d, m, "__init__.pyc"), b"\x03\xf3\r\n" + b"\0" * 12)
        elif form == "ns":
            if not os.path.lexists(os.path.join(d, m)): os.makedirs(os.path.join(d, m))
        elif form == "so": w(os.path.join(d, m + ".so"), b"")
        elif form == "modso": w(os.path.join(d, m + "module.so"), b"")
        elif form == "pyc": w(os.path.join(d, m + ".pyc"), b"\x03\xf3\r\n" + b"\0" * 12)
        elif form == "bare": w(os.path.join(d, m), "x")
    return {"version": "2.7", "root": root, "prefix": prefix, "kind": "system", "venv_base_prefix": None,
            "user_base": ub, "enable_user_site": rnd.random() < 0.7, "env": env, "modules": NAMES}
n = int(sys.argv[1]); rnd = random.Random(int(sys.argv[2])); agree = 0; fails = []
PTHSCAN = sys.argv[3]
PY27 = sys.argv[4] if len(sys.argv) > 4 else os.path.expanduser("~/.pyenv/versions/2.7.18/bin/python")
ORACLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle.py")
WORK = tempfile.mkdtemp(prefix="pthscan-oracle27-")
for i in range(n):
    root = os.path.join(WORK, str(i))
    shutil.rmtree(root, ignore_errors=True)
    spec = gen(root, rnd); sp = root + ".json"; json.dump(spec, open(sp, "w"))
    o = json.loads(subprocess.check_output([PY27, "-S", ORACLE, sp]))
    m = json.loads(subprocess.check_output([PTHSCAN, "debug-startup", "--spec", sp], stderr=subprocess.DEVNULL))
    mm = {k: (v and {"file": v["file"], "kind": v["kind"]}) for k, v in m["modules"].items() if k in NAMES}
    if o["sys_path"] == m["sys_path"] and o["modules"] == mm:
        agree += 1; shutil.rmtree(root); os.remove(sp)
    else:
        fails.append((i, o, {"sys_path": m["sys_path"], "modules": mm}))
print("2.7: %d/%d agree" % (agree, n))
for f in fails[:2]: print(json.dumps(f, indent=1)[:3000])
