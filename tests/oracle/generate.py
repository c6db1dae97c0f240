"""Seeded random environments for the start-up oracle (issue 18).

    python -I -S tests/oracle/generate.py --seed N --version X.Y --out DIR [--keep 0,3,7]
    python -I -S tests/oracle/generate.py --plan CASE/plan.json --out DIR
    python -I -S tests/oracle/generate.py --batch     (lines `SEED VERSION OUT` in, OUT out)

writes `DIR/plan.json` (every file operation, so a case can be minimised), the tree under
`DIR/env`, and `DIR/spec.json` for `oracle.py` and `pthscan debug-startup --spec`. `--keep`
materialises only the listed operations of the plan (a minimised case); `--plan` materialises a
stored plan (`corpus/startup/*/plan.json`), whatever the generator has become since.

Every planted piece of code proves it never ran: module sources, zip members and `.pth` import
lines write a file under `DIR/markers/`, bytecode writes `<its own path>.ran`. The harness fails
when any such file appears. Run this under the target interpreter (`-I -S`) so that the bytecode
it writes is that version's; the tree is the same whatever runs it.
"""

import base64
import io
import json
import marshal
import os
import random
import shutil
import struct
import sys
import zipfile

# Every X.Y the generator knows: extension-module tags, bytecode magic numbers.
VERSIONS = ["3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
MAGIC = {"3.6": 3379, "3.7": 3394, "3.8": 3413, "3.9": 3425, "3.10": 3439, "3.11": 3495,
         "3.12": 3531, "3.13": 3571, "3.14": 3627, "3.15": 3666}

NAMES = ["sitecustomize", "usercustomize", "foo", "bar", "nsp", "acme", "_virtualenv", "Foo"]
PTH_NAMES = ["a.pth", "easy-install.pth", "Z.pth", "_virtualenv.pth", ".hidden.pth",
             "distutils-precedence.pth", "__editable__.foo-1.0.pth", "zz.pth", "x.PTH",
             "\u00fcn\u00ef.pth", "a.pth.bak", "_.pth"]


def nodot(version):
    return version.replace(".", "")


def ext_tag(version):
    """`cpython-312-x86_64-linux-gnu` (3.6 and 3.7 carry the `m` ABI flag)."""
    flag = "m" if version in ("3.6", "3.7") else ""
    return "cpython-%s%s-x86_64-linux-gnu" % (nodot(version), flag)


def marker(name):
    return "open('@MARKERS@/%s.ran', 'w').close()" % name


class Plan(object):
    def __init__(self, rng, version):
        self.rng = rng
        self.version = version
        self.ops = []
        self.counter = 0

    def uid(self, prefix):
        self.counter += 1
        return "%s%d" % (prefix, self.counter)

    def dir(self, path):
        self.ops.append({"op": "dir", "path": path})

    def text(self, path, text):
        self.ops.append({"op": "file", "path": path, "text": text})

    def raw(self, path, data):
        self.ops.append({"op": "file", "path": path, "b64": base64.b64encode(data).decode()})

    def symlink(self, path, target):
        self.ops.append({"op": "symlink", "path": path, "target": target})

    def zip(self, path, members):
        self.ops.append({"op": "zip", "path": path, "members": members})

    def pyc(self, path, source=None):
        """Bytecode (valid for the target when this runs under it) that writes
        `<__file__>.ran`. With `source` (the bytes of the `.py` it caches), one of PEP 552's
        forms, each with a header that matches the source or not."""
        marker_src = "open(__file__ + '.ran', 'w').close()\n"
        if source is None:
            if self.rng.random() < 0.3:
                self.raw(path, b"")  # an empty bytecode file is legal to locate too
                return
            source = b""
        this = self.version == "%d.%d" % sys.version_info[:2]
        code = marshal.dumps(compile(marker_src, path, "exec"))
        magic = struct.pack("<H", MAGIC[self.version]) + b"\r\n"
        if this:
            import importlib.util
            magic = importlib.util.MAGIC_NUMBER
        modes = ["timestamp", "stale", "garbage"]
        if self.version != "3.6":
            modes += ["unchecked", "checked", "checked_bad"]
        mode = self.rng.choice(modes)
        if mode == "garbage":
            self.raw(path, magic[:2])
            return
        mtime = FIXED_MTIME - (100 if mode == "stale" else 0)
        stamp = struct.pack("<II", mtime & 0xFFFFFFFF, len(source))
        if self.version == "3.6":
            header = magic + stamp
        elif mode in ("timestamp", "stale"):
            header = magic + struct.pack("<I", 0) + stamp
        else:
            digest = b"\0" * 8
            if mode == "checked" and this:
                import importlib.util
                digest = importlib.util.source_hash(source)
            header = magic + struct.pack("<I", 1 if mode == "unchecked" else 3) + digest
        self.raw(path, header + code)


# every file the generator writes has this mtime, so a timestamp pyc can match its source
FIXED_MTIME = 1767225600  # 2026-01-01


def module_source(plan, name):
    return "# planted %s\n%s\n" % (name, marker(plan.uid("mod-" + name + "-")))


def cached_source(name):
    """A source whose bytes do not depend on where the tree is (its pyc header must match):
    it marks `<itself>.ran`."""
    return "# planted %s\nopen(__file__ + '.ran', 'w').close()\n" % name


def place_module(plan, directory, name):
    """One form of `name` in `directory` (a path relative to the root)."""
    rng = plan.rng
    v = plan.version
    other = rng.choice(VERSIONS)
    if name == "nsp" and rng.random() < 0.6:
        # namespace portions in several path entries, sometimes beside a module of the name
        form = rng.choice(["nsdir", "nsdir_sub", "nsdir_sub", "file_and_dir"])
    else:
        form = rng.choice(["file_and_dir"] + [
        "py", "py", "pkg", "pkg_pyc", "pkg_ext", "ext_this", "ext_other", "abi3", "so", "pyd",
        "pyc", "pycache_only", "pycache_with_source", "nsdir", "nsdir_sub", "dir_named_py",
        "broken_symlink", "upper", "pkg_init_other_ext", "pycache_with_source", "pkg_pycache",
        ])
    d = directory + "/"
    if form == "py":
        plan.text(d + name + ".py", module_source(plan, name))
    elif form == "pkg":
        plan.text(d + name + "/__init__.py", module_source(plan, name))
    elif form == "pkg_pyc":
        plan.pyc(d + name + "/__init__.pyc")
    elif form == "pkg_ext":
        plan.raw(d + name + "/__init__." + ext_tag(v) + ".so", b"")
    elif form == "pkg_init_other_ext":
        plan.raw(d + name + "/__init__." + ext_tag(other) + ".so", b"")
    elif form == "ext_this":
        plan.raw(d + name + "." + ext_tag(v) + ".so", b"")
    elif form == "ext_other":
        plan.raw(d + name + "." + ext_tag(other) + ".so", b"")
    elif form == "abi3":
        plan.raw(d + name + ".abi3.so", b"")
    elif form == "so":
        plan.raw(d + name + ".so", b"")
    elif form == "pyd":
        plan.raw(d + name + ".pyd", b"")
    elif form == "pyc":
        plan.pyc(d + name + ".pyc")
    elif form == "pycache_only":
        plan.pyc(d + "__pycache__/" + name + ".cpython-" + nodot(rng.choice([v, other])) + ".pyc")
    elif form == "pycache_with_source":
        text = cached_source(name)
        plan.text(d + name + ".py", text)
        plan.pyc(d + "__pycache__/" + name + ".cpython-" + nodot(v) + ".pyc",
                 text.encode("utf-8"))
    elif form == "pkg_pycache":
        text = cached_source(name)
        plan.text(d + name + "/__init__.py", text)
        plan.pyc(d + name + "/__pycache__/__init__.cpython-" + nodot(v) + ".pyc",
                 text.encode("utf-8"))
    elif form == "nsdir":
        plan.dir(d + name)
    elif form == "nsdir_sub":
        plan.text(d + name + "/sub.py", module_source(plan, name + ".sub"))
    elif form == "file_and_dir":
        # a module file beside a directory of the same name: the file wins over a namespace
        plan.text(d + name + "/sub.py", module_source(plan, name + ".sub"))
        plan.text(d + name + rng.choice([".py", ".abi3.so"]), module_source(plan, name))
    elif form == "dir_named_py":
        plan.dir(d + name + ".py")
    elif form == "broken_symlink":
        plan.symlink(d + name + ".py", "missing-" + name + ".py")
    elif form == "upper":
        plan.text(d + name.upper() + ".py", module_source(plan, name.upper()))


def exec_line(plan, name):
    rng = plan.rng
    m = marker(plan.uid("line-"))
    return rng.choice([
        "import %s; %s" % (name, m),
        "import %s; %s" % (name, m),
        "import\t%s; %s" % (name, m),
        "import%s" % name,
        " import %s; %s" % (name, m),
        "import %s, os.path; %s" % (name, m),
        "from %s import x" % name,
        "import \uff41\uff43\uff4d\uff45; %s" % m,
        "import %s %s" % (name, name),
        "import sys; exec(%r)" % m,
        "\x0cimport %s; %s" % (name, m),
        "import os\u2028import %s; %s" % (name, m),
        "import os\x85import %s; %s" % (name, m),
        "import os\x0bimport %s; %s" % (name, m),
        "IMPORT %s" % name,
        "import %s # trailing comment; %s" % (name, m),
        "import %s.sub; %s" % (name, m),
        "import %s;\\" % name,
        "import os; return",
    ])


def path_line(plan, targets):
    rng = plan.rng
    t = rng.choice(targets)
    return rng.choice([
        t, t, t, " " + t, t + " ", t + "\t", t + " \t ", "./" + t, t + "/", t + "//", "nope-" + t,
        "# " + t, " # " + t, "", "   ", "\t", "@ROOT@/ext/a", "@ROOT@/ext/b/", "@ROOT@/pp.zip",
        "@ROOT@/ext/data.dat", "@ROOT@/missing", "README.txt", "foo-1.0.egg", "bar.egg",
        "../" + t, "@ROOT@/ext/a/../b", "vendor\x00x" if rng.random() < 0.2 else t,
    ])


START_NAMES = ["a.start", "zz.start", "_virtualenv.start", "easy-install.start", "b.start",
               ".hidden.start", "x.START", "a.start.bak", "__editable__.foo-1.0.start"]


def entry_point(rng, name):
    return rng.choice([
        "%s:main" % name, "%s:main" % name, "%s.sub:run" % name, " %s:f.g " % name,
        "\t%s:f\t" % name, name, "%s:" % name, "%s:a:b" % name, "1%s:f" % name,
        "# %s:main" % name, "", "   ", "\uff41\uff43\uff4d\uff45:f", name + "\u0903:f",
        "\u00b2%s:f" % name, "%s :f" % name, "nonexistent_mod:f", "%s..x:f" % name,
        "%s:f # comment" % name, "import %s" % name,
    ])


def write_start(plan, rng, sitedir):
    """A `.start` file: entry points, valid and not, for the names planted."""
    path = sitedir + "/" + rng.choice(START_NAMES)
    if rng.random() < 0.05:
        plan.dir(path)  # a directory named *.start: not readable, skipped
        return
    lines = [entry_point(rng, rng.choice(NAMES)) for _ in range(rng.randint(0, 5))]
    eol = rng.choice(["\n", "\n", "\r\n", "\r", "\u2028"])
    data = (eol.join(lines) + (eol if rng.random() < 0.7 else "")).encode("utf-8")
    if rng.random() < 0.1:
        data = b"\xef\xbb\xbf" + data
    if rng.random() < 0.1:
        data += b"\xff"  # not UTF-8: the whole file is ignored, and silences nothing
    plan.raw(path, data)


def write_pth(plan, sitedir, targets, names, allow_bad_bytes):
    rng = plan.rng
    name = rng.choice(PTH_NAMES)
    path = sitedir + "/" + name
    if rng.random() < 0.05:
        plan.dir(path)  # a directory named *.pth: open() fails, site goes on
        return
    if rng.random() < 0.05:
        plan.symlink(path, rng.choice(["a.pth", "missing.pth", "../x.pth"]))
        return
    lines = []
    for _ in range(rng.randint(1, 8)):
        if rng.random() < 0.4:
            lines.append(exec_line(plan, rng.choice(names)))
        else:
            lines.append(path_line(plan, targets))
        if lines and rng.random() < 0.1:
            lines.append(lines[rng.randrange(len(lines))])  # a duplicate
    eol = rng.choice(["\n", "\n", "\r\n", "\r"])
    text = eol.join(lines) + (eol if rng.random() < 0.8 else "")
    data = text.encode("utf-8")
    if rng.random() < 0.1:
        data = b"\xef\xbb\xbf" + data  # BOM: utf-8-sig on 3.13+, part of line 1 before
    if allow_bad_bytes and rng.random() < 0.3:
        at = rng.randrange(len(data) + 1)
        data = data[:at] + rng.choice([b"\xff", b"\xe9", b"\x81\x36\xa6\x35"]) + data[at:]
    plan.raw(path, data)


def build(seed, version):
    """The plan of one environment: a list of operations and a spec (`@ROOT@` for the root)."""
    rng = random.Random("pthscan-oracle-%s-%s" % (seed, version))
    plan = Plan(rng, version)
    xy = "python" + version
    kind = rng.choice(["system", "system", "venv", "venv", "venv"])
    base = rng.choice(["usr", "usr/local", "opt/python" + version])
    prefix = base if kind == "system" else rng.choice(["venv", "home/u/proj/.venv"])
    site_dirs = []  # directories CPython may treat as site directories (relative to root)
    places = []     # directories modules may be planted in

    stdlib = base + "/lib/" + xy
    if rng.random() < 0.6:
        plan.dir(stdlib + "/lib-dynload")
        places += [stdlib, stdlib + "/lib-dynload"]
    if rng.random() < 0.2:
        plan.zip(base + "/lib/python%s.zip" % nodot(version),
                 {"sitecustomize.py": module_source(plan, "zip-sitecustomize")})
    base_site = base + "/lib/" + xy + "/site-packages"
    if kind == "system" or rng.random() < 0.8:
        if rng.random() < 0.15:  # site-packages a symlink: CPython lists the link's path
            plan.dir("store/base-sp")
            plan.symlink(base_site, "@ROOT@/store/base-sp")
        else:
            plan.dir(base_site)
        site_dirs.append(base_site)
    if rng.random() < 0.3:  # lib64: a symlink to lib, or a directory of its own
        if rng.random() < 0.5:
            plan.symlink(base + "/lib64", "lib")
        else:
            plan.dir(base + "/lib64/" + xy + "/site-packages")
            site_dirs.append(base + "/lib64/" + xy + "/site-packages")
    if rng.random() < 0.3:  # Debian's layout: not site directories for an upstream CPython
        for d in ["/lib/python3/dist-packages", "/local/lib/" + xy + "/dist-packages"]:
            plan.dir(base + d)
            site_dirs.append(base + d)

    venv_base = None
    if kind == "venv":
        venv_base = "@ROOT@/" + base
        venv_site = prefix + "/lib/" + xy + "/site-packages"
        if rng.random() < 0.25:
            plan.dir("store/sp")
            plan.symlink(venv_site, rng.choice(["@ROOT@/store/sp", "../../../store/sp"]
                                               if prefix == "venv" else ["@ROOT@/store/sp"]))
        else:
            plan.dir(venv_site)
        site_dirs.append(venv_site)
        if rng.random() < 0.6:
            plan.symlink(prefix + "/lib64", "lib")
        flag = rng.choice(["false", "true", "True", " TRUE ", "yes", None])
        cfg = ["home = @ROOT@/%s/bin" % base]
        if flag is not None:
            key = rng.choice(["include-system-site-packages", "Include-System-Site-Packages"])
            cfg.append("%s = %s" % (key, flag))
        cfg.append("version = %s.0" % version)
        where = rng.choice([prefix, prefix, prefix + "/bin"]) + "/pyvenv.cfg"
        if rng.random() < 0.95:
            plan.text(where, "\n".join(cfg) + "\n")
        plan.dir(prefix + "/bin")

    user_base = None
    if rng.random() < 0.6:
        user_base = "home/u/.local"
        if rng.random() < 0.7:
            user_site = user_base + "/lib/" + xy + "/site-packages"
            plan.dir(user_site)
            site_dirs.append(user_site)
        if rng.random() < 0.2:
            plan.dir(user_base + "/lib/python3.99/site-packages")

    pythonpath = []
    if rng.random() < 0.5:
        for entry in rng.sample(["app", "pp", "pp.zip", "missing", "app/sub"], rng.randint(1, 3)):
            if entry.endswith(".zip"):
                plan.zip(entry, {"sitecustomize.py": module_source(plan, "pp-sitecustomize"),
                                 "nsp/inner.py": module_source(plan, "pp-nsp")})
            elif entry != "missing":
                plan.dir(entry)
                places.append(entry)
            deco = rng.choice(["", "", "/", "//", "/."])
            pythonpath.append("@ROOT@/" + entry + deco)

    # targets of .pth path lines: directories next to the site directories and elsewhere
    targets = ["vendor", " vendor", "vendor ", "lib", "src", "foo-1.0.egg"]
    for d in ["ext/a", "ext/b"]:
        plan.dir(d)
        places.append(d)
    if rng.random() < 0.3:
        plan.zip("ext/data.dat", {"foo.py": module_source(plan, "dat-foo"),
                                  "usercustomize/__init__.py": module_source(plan, "dat-uc")})
    for sd in site_dirs:
        places.append(sd)
        for t in rng.sample(targets, rng.randint(0, 3)):
            plan.dir(sd + "/" + t)
            places.append(sd + "/" + t)
        if rng.random() < 0.2:
            plan.zip(sd + "/bar.egg", {"bar.py": module_source(plan, "egg-bar")})
        if rng.random() < 0.1:
            plan.text(sd + "/README.txt", "not a zip\n")
    if not site_dirs:
        site_dirs.append(base_site)
        plan.dir(base_site)
        places.append(base_site)

    allow_bad = rng.random() < 0.08
    for sd in site_dirs:
        for _ in range(rng.randint(0, 3)):
            write_pth(plan, sd, targets, NAMES, allow_bad)
    if "app" in places and rng.random() < 0.5:
        write_pth(plan, "app", targets, NAMES, False)  # on PYTHONPATH: never processed

    for name in NAMES:
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            place_module(plan, rng.choice(places), name)

    platlib = "lib64" if rng.random() < 0.2 else None  # Fedora's sys.platlibdir (3.9+)
    if platlib:
        for d in ["/lib64/" + xy + "/lib-dynload", "/lib64/" + xy + "/site-packages"]:
            if rng.random() < 0.7:
                plan.dir(base + d)
        if rng.random() < 0.5:
            place_module(plan, base + "/lib64/" + xy + "/site-packages", rng.choice(NAMES))
        if rng.random() < 0.5:
            write_pth(plan, base + "/lib64/" + xy + "/site-packages", targets, NAMES, False)

    # PEP 829 `.start` files (read by 3.15, ignored before), from a stream of their own so
    # that the environments of the seeds measured before they were added stay the same
    srng = random.Random("start-%d-%s" % (seed, version))
    for sd in site_dirs:
        for _ in range(srng.choice([0, 0, 1, 2])):
            write_start(plan, srng, sd)

    rng.shuffle(plan.ops)  # creation order does not matter; removal order in minimising does
    spec = {
        "version": version,
        "root": "@ROOT@",
        "prefix": "@ROOT@/" + prefix,
        "kind": kind,
        "venv_base_prefix": venv_base,
        "user_base": None if user_base is None else "@ROOT@/" + user_base,
        "enable_user_site": rng.random() < 0.7,
        "env": {"PYTHONPATH": ":".join(pythonpath)} if pythonpath else {},
        "modules": list(NAMES) + ["nonexistent_mod"],
    }
    if platlib:
        spec["platlibdir"] = platlib
    return {"seed": seed, "version": version, "spec": spec, "ops": plan.ops}


def _subst(text, root, markers):
    return text.replace("@ROOT@", root).replace("@MARKERS@", markers)


def materialize(plan, out, keep=None):
    """Writes `out/env` (the tree), `out/markers/` (empty) and `out/spec.json`; returns the
    spec. `keep`: indices of the operations to apply (all by default)."""
    out = os.path.abspath(out)
    root = os.path.join(out, "env")
    markers = os.path.join(out, "markers")
    for d in (root, markers):
        if os.path.lexists(d):
            shutil.rmtree(d)
    os.makedirs(root)
    os.makedirs(markers)
    ops = plan["ops"] if keep is None else [plan["ops"][i] for i in keep]
    # symlinks first, so that what is planted under a linked directory lands in its target;
    # nothing is written where a link would lead out of the root
    ops = sorted(ops, key=lambda op: op["op"] != "symlink")
    real_root = os.path.realpath(root)
    for op in ops:
        path = os.path.join(root, op["path"])
        if os.path.lexists(path):
            continue
        parent = os.path.dirname(path)
        if not _ensure_dir(parent, real_root):
            continue
        if op["op"] == "dir":
            os.makedirs(path)
        elif op["op"] == "file":
            if "text" in op:
                data = _subst(op["text"], root, markers).encode("utf-8")
            else:
                data = base64.b64decode(op["b64"])
                data = data.replace(b"@ROOT@", root.encode()).replace(
                    b"@MARKERS@", markers.encode())
            with open(path, "wb") as f:
                f.write(data)
            os.utime(path, (FIXED_MTIME, FIXED_MTIME))
        elif op["op"] == "symlink":
            os.symlink(_subst(op["target"], root, markers), path)
        elif op["op"] == "zip":
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                for member in sorted(op["members"]):
                    info = zipfile.ZipInfo(member, date_time=(2026, 1, 1, 0, 0, 0))
                    z.writestr(info, _subst(op["members"][member], root, markers))
            with open(path, "wb") as f:
                f.write(buf.getvalue())
    spec = json.loads(_subst(json.dumps(plan["spec"]), root, markers))
    with open(os.path.join(out, "spec.json"), "w") as f:
        json.dump(spec, f, indent=1, sort_keys=True)
    return spec


def _inside(real, real_root):
    return real == real_root or real.startswith(real_root + os.sep)


def _ensure_dir(path, real_root):
    """Makes `path` a directory inside the root, creating the target of a dangling link on
    the way (a `site-packages` linked to a store not made yet); False where it cannot."""
    if not os.path.isdir(path):
        if os.path.lexists(path) and not os.path.islink(path):
            return False
        if os.path.islink(path):
            target = os.path.realpath(path)
            if not _inside(target, real_root) or not _ensure_dir(target, real_root):
                return False
        else:
            if not _ensure_dir(os.path.dirname(path), real_root):
                return False
            os.mkdir(path)
    return _inside(os.path.realpath(path), real_root)


def ran(out):
    """Everything planted that ran: marker files, `*.ran` beside bytecode."""
    found = [os.path.join(out, "markers", n) for n in os.listdir(os.path.join(out, "markers"))]
    for dirpath, dirnames, filenames in os.walk(os.path.join(out, "env")):
        found += [os.path.join(dirpath, n) for n in filenames if n.endswith(".ran")]
    return sorted(found)


def generate(seed, version, out, keep=None):
    plan = build(seed, version)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "plan.json"), "w") as f:
        json.dump(plan, f, sort_keys=True)
    return materialize(plan, out, keep)


def main(argv):
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int)
    parser.add_argument("--version")
    parser.add_argument("--out")
    parser.add_argument("--keep", help="comma-separated indices of plan operations to apply")
    parser.add_argument("--plan", help="materialise this plan.json (a stored corpus case)")
    parser.add_argument("--batch", action="store_true")
    args = parser.parse_args(argv[1:])
    if args.batch:
        for line in sys.stdin:
            if line.strip():
                seed, version, out = line.rstrip("\n").split(" ", 2)
                generate(int(seed), version, out)
                sys.stdout.write(out + "\n")
                sys.stdout.flush()
        return 0
    if args.plan and args.out:
        with open(args.plan) as f:
            materialize(json.load(f), args.out)
        return 0
    if args.seed is None or not args.version or not args.out:
        parser.error("--seed, --version and --out are needed (or --plan and --out, or --batch)")
    keep = None
    if args.keep is not None:
        keep = [int(i) for i in args.keep.split(",") if i]
    generate(args.seed, args.version, args.out, keep)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
