"""Checks the oracle itself against a really started CPython, on inert environments.

    python3 tests/oracle/live.py --versions auto --count 200

`oracle.py` models one thing instead of asking it: the `sys.path` getpath computes before `site`
(and it assumes the locale). This starts the real interpreter, `site` and all, on generated
environments made inert, and compares the `sys.path` it prints with the oracle's (and a fatal
start with the oracle's `fatal`).

Inert, so that starting the interpreter runs nothing planted: every `import` in a `.pth` file
becomes `imp0rt` (no line of any version's splitting is an import line any more), and every
`sitecustomize`/`usercustomize` in any form (file, package, zip member) is left out. Nothing
else planted is imported at start-up (`-c` code uses only the built-in `sys`), which
`assert_inert` checks on the tree before each start (no `.pth` holds `import`, no file,
directory or zip member is named as a module start-up imports), and the markers are checked
as in `compare.py`. This is the one place an interpreter runs without `-I -S`.

Each environment becomes a venv on the real interpreter (its prefix gets `bin/python`, a link
to the interpreter, and a `pyvenv.cfg` whose `home` is the interpreter's `bin`), since a real
interpreter cannot be moved under a generated prefix: the base prefix is the interpreter's own.
Its own site-packages' `.pth` files run as they do whenever it starts.
"""

import argparse
import ast
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402
import generate  # noqa: E402

CUSTOMIZE = ("sitecustomize", "usercustomize")
PRINT_PATH = "import sys; sys.stdout.write(repr(sys.path))"


def planted_customize(path):
    return any(part.split(".")[0] in CUSTOMIZE for part in path.split("/"))


def inert(plan, real_exe, real_bin, real_prefix, rng):
    ops = []
    cfgs = 0
    for op in plan["ops"]:
        if planted_customize(op["path"]) or op["path"].endswith(".start"):
            # a customize module runs by its name, a PEP 829 entry point (3.15) by its line
            continue
        op = dict(op)
        if op["op"] == "zip":
            op["members"] = {m: t for m, t in op["members"].items() if not planted_customize(m)}
        elif op["op"] == "file" and op["path"].endswith(".pth"):
            data = (op["text"].encode("utf-8") if "text" in op
                    else base64.b64decode(op["b64"])).replace(b"import", b"imp0rt")
            op.pop("text", None)
            op["b64"] = base64.b64encode(data).decode()
        elif op["op"] == "file" and op["path"].endswith("pyvenv.cfg"):
            lines = [l for l in op["text"].splitlines() if not l.startswith("home")]
            op["text"] = "\n".join(["home = " + real_bin] + lines) + "\n"
            cfgs += 1
        ops.append(op)
    spec = dict(plan["spec"])
    prefix = spec["prefix"][len("@ROOT@/"):]
    if spec["kind"] == "system":
        # the generated system prefix becomes the venv
        flag = rng.choice(["false", "true"])
        ops.append({"op": "file", "path": prefix + "/pyvenv.cfg",
                    "text": "home = %s\ninclude-system-site-packages = %s\n" % (real_bin, flag)})
    ops.append({"op": "symlink", "path": prefix + "/bin/python", "target": real_exe})
    spec["kind"] = "venv"
    spec["venv_base_prefix"] = real_prefix
    spec.pop("platlibdir", None)  # the interpreter's own applies for real
    return dict(plan, ops=ops, spec=spec)


# what a normal start imports by name from `sys.path` (beyond the customize modules), in
# some version: none of it may be planted
STARTUP = {"encodings", "codecs", "io", "abc", "os", "stat", "posixpath", "genericpath",
           "_collections_abc", "_sitebuiltins", "site", "sysconfig", "_bootlocale", "locale",
           "traceback", "zipimport", "_distutils_hack", "importlib", "types", "warnings"}


def assert_inert(root):
    """Refuses to start an interpreter on a tree where anything could run: a `.pth` with
    `import` in it, or a file, directory or zip member named as a module start-up imports."""
    names = set(CUSTOMIZE) | STARTUP
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            if n.split(".")[0] in names:
                raise SystemExit("live: refusing, %s is planted" % os.path.join(dirpath, n))
        for n in filenames:
            p = os.path.join(dirpath, n)
            real = os.path.realpath(p)
            if not os.path.exists(p) or not real.startswith(os.path.realpath(root) + os.sep):
                continue  # a dangling link, or the interpreter the venv links to
            with open(p, "rb") as f:
                data = f.read()
            if n.endswith(".pth") and b"import" in data:
                raise SystemExit("live: refusing, %s has an import line" % p)
            if n.endswith(".start"):
                raise SystemExit("live: refusing, %s names entry points" % p)
            if data.startswith(b"PK"):
                import zipfile
                with zipfile.ZipFile(p) as z:
                    for m in z.namelist():
                        if any(part.split(".")[0] in names for part in m.split("/")):
                            raise SystemExit("live: refusing, %s holds %s" % (p, m))


def live_path(spec, out):
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8",
           "HOME": os.path.join(out, "no-home")}
    if spec.get("user_base"):
        env["PYTHONUSERBASE"] = spec["user_base"]
    if (spec.get("env") or {}).get("PYTHONPATH"):
        env["PYTHONPATH"] = spec["env"]["PYTHONPATH"]
    argv = [os.path.join(spec["prefix"], "bin", "python")]
    if not spec.get("enable_user_site"):
        argv.append("-s")
    scratch = os.path.join(out, "cwd")
    os.makedirs(scratch, exist_ok=True)
    proc = subprocess.run(argv + ["-c", PRINT_PATH], cwd=scratch, env=env, timeout=60,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        last = proc.stderr.decode(errors="replace").strip().splitlines()[-1:]
        name = last[0].split(":")[0] if last else "?"
        return {"fatal": name, "stderr": proc.stderr.decode(errors="replace")[-800:]}
    return {"sys_path": ast.literal_eval(proc.stdout.decode())[1:]}  # [0]: `-c`'s ''


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", default="auto")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=3, help="disagreements shown per version")
    args = parser.parse_args(argv[1:])
    wanted = compare.KNOWN if args.versions == "auto" else args.versions.split(",")
    status = 0
    work = tempfile.mkdtemp(prefix="pthscan-live-")
    try:
        for version in wanted:
            exe = compare.find_python(version)
            if not exe:
                continue
            real_exe = os.path.realpath(exe)
            real_prefix = subprocess.run(
                [exe, "-I", "-S", "-c", "import sys; print(sys.base_prefix)"],
                stdout=subprocess.PIPE, check=True).stdout.decode().strip()
            oracle = compare.Batch(exe, compare.ORACLE, work)
            agree, shown, fatal = 0, 0, 0
            for seed in range(args.seed, args.seed + args.count):
                out = os.path.join(work, "env-%s" % version)
                plan = generate.build(seed, version)
                rng = generate.random.Random("live-%d" % seed)
                plan = inert(plan, real_exe, os.path.dirname(real_exe), real_prefix, rng)
                spec = generate.materialize(plan, out)
                assert_inert(os.path.join(out, "env"))
                said = json.loads(oracle.ask(os.path.join(out, "spec.json")))
                real = live_path(spec, out)
                ran = generate.ran(out)
                if ran:
                    sys.stderr.write("live: planted code ran: %s\n" % ran)
                    return 3
                if said.get("fatal") or real.get("fatal"):
                    same = said.get("fatal") == real.get("fatal")
                    fatal += 1
                else:
                    same = said["sys_path"] == real["sys_path"]
                if same:
                    agree += 1
                elif shown < args.show:
                    shown += 1
                    print("  %s seed %d: oracle %s\n    real   %s" % (
                        version, seed, said.get("fatal") or said["sys_path"],
                        real.get("fatal") or real["sys_path"]))
                    if real.get("stderr"):
                        print("    " + real["stderr"].replace("\n", "\n    "))
                shutil.rmtree(out)
            oracle.close()
            print("%s (CPython %s): the oracle's sys.path equals the real one on %d of %d "
                  "environments (%d fatal)" % (version, os.path.basename(
                      os.path.dirname(os.path.dirname(exe))), agree, args.count, fatal))
            sys.stdout.flush()
            if agree != args.count:
                status = 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
