"""Differential test of pthscan's start-up model against CPython (issue 18).

    python3 tests/oracle/compare.py --versions 3.8,3.12 --count 1000 --pthscan target/debug/pthscan
    python3 tests/oracle/compare.py --versions auto --count 50          (no --pthscan: self-consistency)

For each version it generates `--count` environments (`generate.py`, seeds from `--seed`), asks
that version's CPython (`oracle.py`, batch process) and the other side, and reports agreement:
`sys_path` equal, `pth` equal, `fatal` equal, each module equal (same `file` and `kind`, and the
same `portions` for a namespace package when the other side gives them). The other side is
`pthscan debug-startup --spec spec.json` with `--pthscan`, else a fresh oracle process per spec
(self-consistency: batch state never leaks from one environment into the next).

The first `--cases` disagreements of each version, one per kind (the set of parts that differ),
are minimised (operations of the generator's
plan removed while the same part still disagrees) and written to `--corpus`
(`corpus/startup/<version>-seed<N>/`): the plan of the operations kept (`plan.json`, materialised
by `generate.py --plan`), the generator seed, the spec, both answers and a listing of the tree.

`--case corpus/startup/NAME` rebuilds one stored case and prints a diff of the two answers.

Exit status: 0 full agreement, 1 a disagreement, 2 usage or too few interpreters, 3 planted code
ran (a marker file appeared): the one result that must never happen.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import generate  # noqa: E402  (this directory, put first above)

ORACLE = os.path.join(HERE, "oracle.py")
GENERATE = os.path.join(HERE, "generate.py")
KNOWN = ["3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
# the oracle's locale: .pth files are read with the locale encoding (<= 3.12) or fall back to it
ORACLE_ENV = {"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"}


class PlantedCodeRan(Exception):
    pass


def find_python(version):
    """The interpreter for X.Y: `PTHSCAN_PYTHON_3_12`, else pyenv's newest 3.12.*, else a
    uv-managed 3.12, else one `debian_python.py` unpacked, else `python3.12` on PATH when its
    `site` is upstream's (not Debian's `dist-packages` patch, which the specs do not describe)."""
    override = os.environ.get("PTHSCAN_PYTHON_" + version.replace(".", "_"))
    if override:
        return override
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = []
    for exe in glob.glob(os.path.join(root, "versions", version + ".*", "bin", "python")):
        patch = os.path.basename(os.path.dirname(os.path.dirname(exe)))[len(version) + 1:]
        if patch.isdigit():
            found.append((int(patch), exe))
    if found:
        return max(found)[1]
    # uv-managed builds (`uv python install 3.12`, as .ci/run tries where downloads work)
    uv = os.environ.get("UV_PYTHON_INSTALL_DIR") or os.path.expanduser("~/.local/share/uv/python")
    for exe in sorted(glob.glob(os.path.join(uv, "cpython-%s.*-linux-*" % version, "bin",
                                             "python" + version)), reverse=True):
        return exe
    # a Debian build with upstream's `site` (`debian_python.py X.Y`, for 3.14 and 3.15)
    exe = os.path.join(os.environ.get("PTHSCAN_PYTHON_CACHE")
                       or os.path.expanduser("~/.cache/pthscan-python"),
                       version, "usr", "bin", "run-python" + version)
    if os.access(exe, os.X_OK) and upstream_site(exe):
        return exe
    exe = shutil.which("python" + version)
    if exe and upstream_site(exe):
        return exe
    return None


def upstream_site(exe):
    code = "import site; print(any('dist-packages' in p for p in site.getsitepackages(['/p'])))"
    try:
        out = subprocess.run([exe, "-I", "-S", "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.stdout.strip() == b"False"


def interpreter_info(exe):
    """The patch release, and whether its `site` skips dot-named `.pth` files (3.13, and
    back-ported to some 3.8-3.12 patch releases), asked of `site.addsitedir` itself on a
    `.x.pth` that holds only a path line."""
    probe = tempfile.mkdtemp(prefix="pthscan-probe-")
    try:
        os.mkdir(os.path.join(probe, "sub"))
        with open(os.path.join(probe, ".x.pth"), "w") as f:
            f.write("sub\n")
        code = ("import site, sys; print(sys.version.split()[0]); site.addsitedir(sys.argv[1]); "
                "print(int(sys.argv[1] + '/sub' not in sys.path))")
        out = subprocess.run([exe, "-I", "-S", "-c", code, probe], stdout=subprocess.PIPE,
                             check=True, env=ORACLE_ENV, timeout=60).stdout.decode().split()
    finally:
        shutil.rmtree(probe)
    return {"patch": out[0], "skips_dot_pth": out[1] == "1"}


class Batch(object):
    """A long-running `python -I -S script --batch`: one line in, one line out."""

    def __init__(self, exe, script, cwd):
        self.proc = subprocess.Popen([exe, "-I", "-S", script, "--batch"], cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=ORACLE_ENV)

    def ask(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("%s stopped (exit %s)" % (self.proc.args, self.proc.wait()))
        return answer.decode()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def run_json(argv, cwd, env=None):
    try:
        proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": "cannot run: %s" % exc}
    if proc.returncode != 0:
        return {"error": "exit %d: %s" % (proc.returncode,
                                          proc.stderr.decode(errors="replace").strip()[-500:])}
    try:
        return json.loads(proc.stdout.decode())
    except ValueError as exc:
        return {"error": "not JSON: %s" % exc}


def differences(oracle, other):
    """The parts on which two answers differ: `error`, `fatal`, `sys_path`, `pth`,
    `module:<name>`, `portions:<name>`."""
    if "error" in other:
        return ["error"]
    if oracle.get("fatal") or other.get("fatal"):
        # the interpreter does not start: only that (and the exception) is compared
        return [] if oracle.get("fatal") == other.get("fatal") else ["fatal"]
    out = []
    if oracle["sys_path"] != other.get("sys_path"):
        out.append("sys_path")
    if oracle["pth"] != other.get("pth"):
        out.append("pth")
        # which kind of line: the exec lines run, or the path lines appended
        for action in ("exec", "path"):
            mine = [e for e in oracle["pth"] if e.get("action") == action]
            theirs_ = [e for e in other.get("pth") or [] if e.get("action") == action]
            if mine != theirs_:
                out.append("pth_" + action)
    theirs = other.get("modules") or {}
    # `cached` (bytecode that runs instead of the source) is compared once the other side
    # gives it for any module; until then it is only counted (see `cached_unreported`)
    gives_cached = any(isinstance(m, dict) and "cached" in m for m in theirs.values())
    for name in sorted(set(oracle["modules"]) | set(theirs)):
        a, b = oracle["modules"].get(name, "absent"), theirs.get(name, "absent")
        if a is None or b is None or a == "absent" or b == "absent":
            if a != b:
                out.append("module:" + name)
            continue
        if (a["file"], a["kind"]) != (b.get("file"), b.get("kind")):
            out.append("module:" + name)
        elif "portions" in b and a.get("portions") != b["portions"]:
            out.append("portions:" + name)
        elif gives_cached and a.get("cached") != b.get("cached"):
            out.append("cached:" + name)
    return out


class Side(object):
    """Asks the oracle (batch) and the other side about one materialised environment."""

    def __init__(self, exe, pthscan, scratch):
        self.exe = exe
        self.pthscan = pthscan
        self.scratch = scratch
        self.oracle = Batch(exe, ORACLE, scratch)

    def answers(self, out):
        spec = os.path.join(out, "spec.json")
        line = self.oracle.ask(spec)
        oracle = json.loads(line)
        if "oracle_error" in oracle:
            raise RuntimeError("the oracle cannot answer %s: %s" % (spec, oracle["oracle_error"]))
        if self.pthscan:
            other = run_json([self.pthscan, "debug-startup", "--spec", spec], self.scratch)
        else:
            other = run_json([self.exe, "-I", "-S", ORACLE, spec], self.scratch, ORACLE_ENV)
        ran = generate.ran(out)
        if ran:
            raise PlantedCodeRan("planted code ran: %s" % ", ".join(ran))
        return oracle, other

    def close(self):
        self.oracle.close()


def minimise(side, plan, out, parts):
    """Operations of `plan` kept while the first of `parts` still differs and no part outside
    them starts to (the case keeps its nature): a greedy pass over halves, then single
    operations."""
    keep = list(range(len(plan["ops"])))
    target, allowed = parts[0], set(parts)

    def still(candidate):
        generate.materialize(plan, out, candidate)
        oracle, other = side.answers(out)
        now = differences(oracle, other)
        return target in now and set(now) <= allowed

    chunk = max(1, len(keep) // 2)
    while chunk >= 1:
        i = 0
        while i < len(keep):
            trial = keep[:i] + keep[i + chunk:]
            if trial != keep and still(trial):
                keep = trial
            else:
                i += chunk
        if chunk == 1:
            break
        chunk //= 2
    generate.materialize(plan, out, keep)
    return keep


def relative(value, root):
    """`value` with the tree's root spelled `@ROOT@` (for a stored case)."""
    text = json.dumps(value, indent=1, sort_keys=True)
    return text.replace(root, "@ROOT@").replace(os.path.dirname(root) + "/markers", "@MARKERS@")


def write_case(corpus, side, plan, out, keep, parts, info):
    version, seed = plan["version"], plan["seed"]
    name = "%s-seed%d" % (version, seed)
    case = os.path.join(corpus, name)
    if os.path.exists(case):
        shutil.rmtree(case)
    os.makedirs(case)
    oracle, other = side.answers(out)
    root = os.path.join(os.path.abspath(out), "env")
    tree = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                tree.append("%s -> %s" % (rel, os.readlink(p).replace(root, "@ROOT@")))
            elif os.path.isdir(p):
                tree.append(rel + "/")
            else:
                with open(p, "rb") as f:
                    data = f.read().replace(root.encode(), b"@ROOT@").replace(
                        os.path.join(os.path.dirname(root), "markers").encode(), b"@MARKERS@")
                data = data[:400]
                tree.append("%s  %r" % (rel, data))
    meta = {
        "version": version,
        "interpreter": info["patch"],
        "seed": seed,
        "keep": keep,
        "differs": parts,
        "differs_after_minimising": differences(oracle, other),
        "reproduce": "python%s -I -S tests/oracle/generate.py --plan plan.json --out DIR "
                     "(or --seed %d --version %s --keep %s with the generator of the day)"
                     % (version, seed, version, ",".join(map(str, keep))),
    }
    kept = dict(plan, ops=[plan["ops"][i] for i in keep])
    files = {
        "case.json": json.dumps(meta, indent=1, sort_keys=True),
        "plan.json": json.dumps(kept, indent=1, sort_keys=True),
        "spec.json": relative(json.load(open(os.path.join(out, "spec.json"))), root),
        "cpython.json": relative(oracle, root),
        "model.json": relative(other, root),
        "tree.txt": "\n".join(tree),
    }
    for fname, text in files.items():
        with open(os.path.join(case, fname), "w") as f:
            f.write(text + "\n")
    return case


def run_version(version, exe, args, work, report, lock):
    info = interpreter_info(exe)
    stats = {"interpreter": info["patch"], "executable": exe,
             "skips_dot_pth": info["skips_dot_pth"], "envs": 0, "agree": 0, "sys_path": 0,
             "pth": 0, "modules": 0, "modules_agree": 0, "fatal": 0, "errors": 0,
             "cached_unreported": 0,
             "parts": {}, "cases": []}
    report["versions"][version] = stats
    seeds = list(range(args.seed, args.seed + args.count))
    shards = [seeds[i::args.jobs] for i in range(args.jobs)]
    failures = []

    def worker(shard_no, shard):
        scratch = tempfile.mkdtemp(prefix="scratch-", dir=work)
        gen = Batch(exe, GENERATE, scratch)
        side = Side(exe, args.pthscan, scratch)
        try:
            for seed in shard:
                out = os.path.join(work, "%s-%d" % (version, shard_no))
                gen.ask("%d %s %s" % (seed, version, out))
                oracle, other = side.answers(out)
                parts = differences(oracle, other)
                with lock:
                    stats["envs"] += 1
                    stats["fatal"] += bool(oracle.get("fatal"))
                    stats["errors"] += "error" in other
                    if not parts:
                        stats["agree"] += 1
                    stats["sys_path"] += "sys_path" not in parts and "error" not in parts
                    stats["pth"] += "pth" not in parts and "error" not in parts
                    n = len(oracle["modules"])
                    if not any(isinstance(m, dict) and "cached" in m
                               for m in (other.get("modules") or {}).values()):
                        stats["cached_unreported"] += len(
                            [m for m in oracle["modules"].values() if m and "cached" in m])
                    stats["modules"] += n
                    stats["modules_agree"] += n - len(
                        [p for p in parts if p.startswith(("module:", "portions:", "cached:"))]) \
                        if "error" not in parts else 0
                    for p in parts:
                        key = p.split(":")[0]
                        stats["parts"][key] = stats["parts"].get(key, 0) + 1
                    # one case per kind of disagreement (the set of parts, module names
                    # aside), so that the cases kept are as varied as the failures
                    kind = sorted(set(p.split(":")[0] for p in parts))
                    take = (parts and len(stats["cases"]) < args.cases
                            and kind not in [sorted(set(q.split(":")[0] for q in c["differs"]))
                                             for c in stats["cases"]])
                    if take:
                        entry = {"seed": seed, "differs": parts}
                        stats["cases"].append(entry)
                    if parts == ["error"]:
                        # the other side failed outright: nothing to minimise
                        take = False
                        if "error" not in stats:
                            stats["error"] = other["error"]
                if take and args.corpus:
                    with open(os.path.join(out, "plan.json")) as f:
                        plan = json.load(f)
                    keep = minimise(side, plan, out, parts)
                    case = write_case(args.corpus, side, plan, out, keep, parts, info)
                    with lock:
                        entry["case"] = case
                        entry["ops_kept"] = len(keep)
                shutil.rmtree(out, ignore_errors=True)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            gen.close()
            side.close()

    threads = [threading.Thread(target=worker, args=(i, shard)) for i, shard in enumerate(shards)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for exc in failures:
        raise exc
    return stats


def replay(case, pthscan):
    """`--case DIR`: rebuilds one stored case and prints how the two answers differ now."""
    import difflib
    with open(os.path.join(case, "plan.json")) as f:
        plan = json.load(f)
    exe = find_python(plan["version"])
    if not exe:
        sys.stderr.write("compare: no interpreter for %s\n" % plan["version"])
        return 2
    work = tempfile.mkdtemp(prefix="pthscan-case-")
    try:
        out = os.path.join(work, "case")
        subprocess.run([exe, "-I", "-S", GENERATE, "--plan", os.path.join(case, "plan.json"),
                        "--out", out], check=True)
        side = Side(exe, pthscan, work)
        try:
            oracle, other = side.answers(out)
        finally:
            side.close()
        parts = differences(oracle, other)
        root = os.path.join(out, "env")
        a = relative(oracle, root).splitlines()
        b = relative(other, root).splitlines()
        sys.stdout.write("".join(line + "\n" for line in difflib.unified_diff(
            a, b, "cpython", pthscan and "model" or "oracle (fresh)", lineterm=""))
            or "no difference\n")
        print("differs: %s" % (", ".join(parts) or "nothing"))
        return 1 if parts else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def pct(a, b):
    return "%.2f%%" % (100.0 * a / b) if b else "-"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", default="auto",
                        help="comma-separated X.Y, or `auto` for every one found")
    parser.add_argument("--count", type=int, default=50, help="environments per version")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--pthscan", help="binary with `debug-startup` (else self-consistency)")
    parser.add_argument("--jobs", type=int, default=max(1, min(8, os.cpu_count() or 1)))
    parser.add_argument("--cases", type=int, default=3,
                        help="disagreements per version minimised and written to --corpus")
    parser.add_argument("--corpus", help="where cases go (e.g. corpus/startup); none: not written")
    parser.add_argument("--min-interpreters", type=int, default=1)
    parser.add_argument("--json", help="write the report here as JSON")
    parser.add_argument("--case", help="replay one stored case (corpus/startup/NAME) and diff")
    args = parser.parse_args(argv[1:])
    if args.case:
        return replay(args.case, args.pthscan and os.path.abspath(args.pthscan))

    wanted = KNOWN if args.versions == "auto" else args.versions.split(",")
    found = [(v, find_python(v)) for v in wanted]
    missing = [v for v, exe in found if not exe]
    found = [(v, exe) for v, exe in found if exe]
    if missing:
        sys.stderr.write("compare: no interpreter for %s (skipped)\n" % ", ".join(missing))
    if len(found) < args.min_interpreters:
        sys.stderr.write("compare: %d interpreter(s) found, %d needed\n"
                         % (len(found), args.min_interpreters))
        return 2
    if args.pthscan:
        args.pthscan = os.path.abspath(args.pthscan)
    if args.corpus:
        args.corpus = os.path.abspath(args.corpus)
    report = {"other": args.pthscan or "oracle (fresh process)", "count": args.count,
              "seed": args.seed, "versions": {}}
    lock = threading.Lock()
    work = tempfile.mkdtemp(prefix="pthscan-oracle-")
    status = 0
    try:
        for version, exe in found:
            stats = run_version(version, exe, args, work, report, lock)
            line = ("%s (CPython %s%s): %d envs, all parts agree on %s; sys_path %s, pth %s, "
                    "modules %s; %d fatal; planted code ran: never"
                    % (version, stats["interpreter"],
                       ", skips dot .pth" if stats["skips_dot_pth"] else "", stats["envs"],
                       pct(stats["agree"], stats["envs"]), pct(stats["sys_path"], stats["envs"]),
                       pct(stats["pth"], stats["envs"]),
                       pct(stats["modules_agree"], stats["modules"]), stats["fatal"]))
            print(line)
            if stats["cached_unreported"]:
                print("  modules whose __pycache__ bytecode runs instead of the source, "
                      "not reported by the other side (not compared): %d"
                      % stats["cached_unreported"])
            if "error" in stats:
                print("  the other side failed, first time: " + stats["error"][:300])
            if stats["parts"]:
                print("  differing parts: " + ", ".join(
                    "%s %d" % kv for kv in sorted(stats["parts"].items())))
            for case in stats["cases"]:
                print("  seed %d: %s%s" % (case["seed"], ", ".join(case["differs"][:6]),
                                           " -> " + case["case"] if "case" in case else ""))
            sys.stdout.flush()
            if stats["agree"] != stats["envs"]:
                status = 1
    except PlantedCodeRan as exc:
        sys.stderr.write("compare: %s\n" % exc)
        status = 3
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report["status"] = status
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
