# python2.7 -S oracle.py spec.json: 2.7's own site and imp on a generated installation (see compare.py)
import sys, json, os, imp
spec = json.load(open(sys.argv[1]))
import site
prefix = spec["prefix"]
init = [prefix + "/lib/python27.zip", prefix + "/lib/python2.7", prefix + "/lib/python2.7/plat-linux2",
        prefix + "/lib/python2.7/lib-tk", prefix + "/lib/python2.7/lib-old", prefix + "/lib/python2.7/lib-dynload"]
pp = spec.get("env", {}).get("PYTHONPATH")
if pp:
    init = [p for p in pp.split(":") if p] + init
sys.path[:] = init
site.PREFIXES = [prefix, prefix]
site.ENABLE_USER_SITE = bool(spec.get("enable_user_site"))
site.USER_BASE = spec.get("user_base") or "/nonexistent"
site.USER_SITE = site.USER_BASE + "/lib/python2.7/site-packages"
known = site.removeduppaths()
if site.ENABLE_USER_SITE:
    known = site.addusersitepackages(known)
known = site.addsitepackages(known)
mods = {}
for name in spec.get("modules", []):
    try:
        f, p, (suf, mode, typ) = imp.find_module(name, list(sys.path))
        if f: f.close()
        kind = {imp.PY_SOURCE: "source", imp.PY_COMPILED: "bytecode", imp.C_EXTENSION: "extension", imp.PKG_DIRECTORY: "package"}.get(typ, str(typ))
        if kind == "package":
            for i in ("__init__.py", "__init__.pyc"):
                if os.path.isfile(os.path.join(p, i)):
                    p = os.path.join(p, i); break
        mods[name] = {"file": p, "kind": kind}
    except ImportError:
        mods[name] = None
print(json.dumps({"sys_path": sys.path, "modules": mods}))
