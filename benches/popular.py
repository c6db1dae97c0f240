#!/usr/bin/env python3.11
"""False alarms of a pthscan binary on popular, honest PyPI software (stdlib only).

    popular.py --bin BIN --label LABEL [--projects FILE] [--cache DIR] [--out DIR]
               [--only wheel|sdist] [--limit N] [--jobs N] [--modes default,deep] [--refresh]
    popular.py --bin BIN --label LABEL --venv DIR [--out DIR]     # a directory (an installed venv)

For each project of FILE (default /work/shared/testbed/popular-train.txt; `#` comments and blank
lines skipped) it takes the latest release from https://pypi.org/pypi/NAME/json and downloads
  (a) one wheel: `py3-none-any`/`py2.py3-none-any`, else cp311 then cp312 manylinux x86_64, else
      abi3 manylinux x86_64, else any linux x86_64, else the first wheel;
  (b) the sdist (.tar.gz preferred, else .zip),
verifying the sha256 PyPI publishes. Nothing downloaded is ever unpacked, built, imported or run:
the only thing that reads the files is BIN. Files up to --max-cache-mb (150) are kept in
CACHE/files (default CACHE = /work/bench/popular); bigger ones, or any once CACHE/files holds
--max-cache-gb (6), are scanned and deleted. The choice of files is frozen in CACHE/manifest.json
(and the PyPI answers in CACHE/json/), so every later label measures the very same files; pass
--refresh to take the then-latest releases instead.

Each file is scanned once per mode: `BIN --format json FILE` (default) and
`BIN --format json --deep FILE` (deep). Exit codes: 0 nothing at or above `high`, 1 a finding at
high+, 2 the scan could not run or some input could not be read. Per (file, mode) one line goes to
OUT/results-LABEL.jsonl (default OUT = /work/bench/popular-results): exit code, finding counts, every
finding at medium or above (rule, severity, path inside the artifact, line, evidence, message),
the diagnostics (count and the first few). The run is resumable: a (file, mode) already in the
results of this label is skipped. OUT/summary-LABEL.md is rewritten from the whole results file
at the end (or alone with --summary-only): files scanned, files failing at high+ (and by rule),
files with a medium finding (and by rule), and a table of every high+ finding with its evidence.

--venv DIR scans one directory instead, both modes, into OUT/venv-NAME-LABEL.json{,.deep} and
OUT/NAME-LABEL.md (NAME = the directory's base name), summarised the same way.

To measure a new binary against the same files: popular.py --bin NEW --label NEW, then compare
OUT/summary-base.md with OUT/summary-NEW.md. --jobs N runs N projects at a time (default 1; the
scans are CPU-bound, keep it at 1 on a small machine).
"""

import argparse
import collections
import concurrent.futures
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

SEP = " \u203a "  # pthscan's separator between an artifact and a path inside it
SEVERITIES = ["info", "low", "medium", "high", "critical"]
RANK = {s: i for i, s in enumerate(SEVERITIES)}
MEDIUM, HIGH = RANK["medium"], RANK["high"]
UA = "pthscan-bench-popular/1 (false-alarm measurement)"
LOCK = threading.Lock()


def log(*a):
    with LOCK:
        print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- PyPI, choice of files


def http_get(url, timeout=120):
    req = urllib.request.Request(url, headers={"User-Agent": UA})
    return urllib.request.urlopen(req, timeout=timeout)


def project_json(name, cache, refresh):
    path = os.path.join(cache, "json", f"{name.lower()}.json")
    if not refresh and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    for attempt in range(4):
        try:
            with http_get(f"https://pypi.org/pypi/{name}/json") as r:
                data = json.load(r)
            break
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            if attempt == 3:
                raise
        except OSError:
            if attempt == 3:
                raise
        time.sleep(2 * (attempt + 1))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(path + ".tmp", path)
    return data


def wheel_tags(filename):
    """(python tags, abi tags, platform tags) of a wheel file name."""
    parts = filename[: -len(".whl")].split("-")
    if len(parts) < 5:
        return set(), set(), set()
    py, abi, plat = parts[-3:]
    return set(py.split(".")), set(abi.split(".")), set(plat.split("."))


def wheel_rank(filename):
    py, abi, plat = wheel_tags(filename)
    manylinux64 = any(p.startswith("manylinux") and p.endswith("x86_64") for p in plat)
    linux64 = any("linux" in p and p.endswith("x86_64") for p in plat)
    if abi == {"none"} and plat == {"any"} and ("py3" in py):
        return 0
    if "cp311" in py and manylinux64:
        return 1
    if "cp312" in py and manylinux64:
        return 2
    if "abi3" in abi and manylinux64:
        return 3
    if linux64:
        return 4
    return 5


def file_url(url):
    """An absolute download URL: some mirrors of the JSON API give `../../packages/packages/…`."""
    url = urllib.parse.urljoin("https://pypi.org/pypi/NAME/json", url)
    for prefix in ("https://pypi.org/packages/packages/", "https://pypi.org/packages/"):
        if url.startswith(prefix):
            return "https://files.pythonhosted.org/packages/" + url[len(prefix):]
    return url


def choose(data):
    """The wheel and the sdist of the latest release, as small dicts (or None)."""
    files = [u for u in data.get("urls", []) if not u.get("yanked")] or data.get("urls", [])
    wheels = [u for u in files if u["filename"].endswith(".whl")]
    wheel = None
    if wheels:
        # stable among equals: PyPI's order, i.e. the first wheel of the best rank
        wheel = min(enumerate(wheels), key=lambda iu: (wheel_rank(iu[1]["filename"]), iu[0]))[1]
    sdists = [u for u in files if u["packagetype"] == "sdist"
              and (u["filename"].endswith(".tar.gz") or u["filename"].endswith(".zip"))]
    sdists.sort(key=lambda u: 0 if u["filename"].endswith(".tar.gz") else 1)
    sdist = sdists[0] if sdists else None

    def slim(u, kind):
        if u is None:
            return None
        return {"kind": kind, "filename": u["filename"], "url": file_url(u["url"]),
                "sha256": u["digests"]["sha256"], "size": u["size"]}

    return slim(wheel, "wheel"), slim(sdist, "sdist")


def read_projects(path):
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                names.append(line)
    return names


def load_manifest(cache, names, refresh, jobs):
    """project -> {version, wheel, sdist}; frozen in CACHE/manifest.json."""
    path = os.path.join(cache, "manifest.json")
    manifest = {}
    if os.path.exists(path) and not refresh:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    missing = [n for n in names if n not in manifest]

    def one(name):
        try:
            data = project_json(name, cache, refresh)
        except Exception as e:  # noqa: BLE001 - record and go on
            log(f"{name}: PyPI JSON failed: {e}")
            return name, None
        if data is None:
            return name, {"version": None, "wheel": None, "sdist": None, "error": "not on PyPI"}
        wheel, sdist = choose(data)
        return name, {"version": data["info"]["version"], "wheel": wheel, "sdist": sdist}

    if missing:
        log(f"asking PyPI about {len(missing)} project(s)")
        with concurrent.futures.ThreadPoolExecutor(max(1, min(jobs, 4))) as ex:
            for name, entry in ex.map(one, missing):
                if entry is not None:
                    manifest[name] = entry
        os.makedirs(cache, exist_ok=True)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
        os.replace(path + ".tmp", path)
    return manifest


# ---------------------------------------------------------------- download


def dir_bytes(d):
    total = 0
    for e in os.scandir(d):
        if e.is_file(follow_symlinks=False):
            total += e.stat().st_size
    return total


def fetch(entry, cache, max_cache_bytes, max_cache_total):
    """Path of the verified file and whether it must be deleted after its scans."""
    files = os.path.join(cache, "files")
    big = os.path.join(cache, "big")
    os.makedirs(files, exist_ok=True)
    os.makedirs(big, exist_ok=True)
    kept = os.path.join(files, entry["filename"])
    if os.path.exists(kept):
        return kept, False
    with LOCK:
        keep = entry["size"] <= max_cache_bytes and dir_bytes(files) + entry["size"] <= max_cache_total
    dest = kept if keep else os.path.join(big, entry["filename"])
    tmp = dest + ".part"
    for attempt in range(3):
        try:
            h = hashlib.sha256()
            with http_get(file_url(entry["url"]), timeout=300) as r, open(tmp, "wb") as out:
                while True:
                    chunk = r.read(1 << 20)
                    if not chunk:
                        break
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != entry["sha256"]:
                raise ValueError(f"sha256 mismatch: got {h.hexdigest()}, PyPI says {entry['sha256']}")
            os.replace(tmp, dest)
            return dest, not keep
        except Exception as e:  # noqa: BLE001
            if os.path.exists(tmp):
                os.remove(tmp)
            if attempt == 2:
                raise
            log(f"{entry['filename']}: download failed ({e}), retrying")
            time.sleep(5)


# ---------------------------------------------------------------- scanning


def inner_path(path, prefix):
    """The path inside the scanned artifact or directory."""
    if path.startswith(prefix + SEP):
        return path[len(prefix + SEP):]
    if path.startswith(prefix + "/"):
        return path[len(prefix) + 1:]
    return path


def run_scan(binary, target, deep, timeout):
    cmd = [binary, "--format", "json", "--quiet"] + (["--deep"] if deep else []) + [target]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"cmd": cmd, "exit_code": None, "error": f"timeout after {timeout}s",
                "seconds": round(time.monotonic() - t0, 2)}, None
    secs = round(time.monotonic() - t0, 2)
    rec = {"cmd": cmd, "exit_code": p.returncode, "seconds": secs}
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        rec["error"] = "no JSON on stdout"
        rec["stderr"] = p.stderr.decode("utf-8", "replace")[-2000:]
        return rec, None
    if p.returncode not in (0, 1):
        rec["stderr"] = p.stderr.decode("utf-8", "replace")[-2000:]
    return rec, doc


def digest(doc, prefix):
    """Finding counts, findings at medium+, diagnostics of one pthscan JSON document."""
    out = {"counts": doc["summary"]["findings"], "incomplete": doc["summary"].get("incomplete")}
    keep = []
    for f in doc.get("findings", []):
        if RANK.get(f["severity"], 0) < MEDIUM:
            continue
        loc = f.get("location") or {}
        keep.append({
            "rule": f["rule"], "severity": f["severity"],
            "path": inner_path(loc.get("path", ""), prefix), "line": loc.get("line"),
            "evidence": (f.get("evidence") or "")[:400], "message": f.get("message", ""),
            "signals": [s["id"] for s in f.get("signals", [])],
        })
    out["findings"] = keep
    diags = doc.get("diagnostics", [])
    out["diagnostics"] = len(diags)
    def slim(d):
        return {"path": inner_path(d.get("path", ""), prefix), "message": d.get("message", "")[:300],
                "incomplete": d.get("incomplete")}

    out["diagnostics_head"] = [slim(d) for d in diags[:5]]
    incomplete = [d for d in diags if d.get("incomplete")]
    out["diagnostics_incomplete"] = len(incomplete)
    out["incomplete_head"] = [slim(d) for d in incomplete[:5]]
    return out


def load_done(results):
    done = set()
    if os.path.exists(results):
        with open(results, encoding="utf-8") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue  # a torn last line of an interrupted run
                if r.get("exit_code") is not None or r.get("final"):
                    done.add((r["file"], r["mode"]))
    return done


def append(results, rec):
    with LOCK:
        with open(results, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")


def do_project(name, entry, args, modes, done, results):
    for kind in ("wheel", "sdist"):
        if args.only and kind != args.only:
            continue
        e = entry.get(kind)
        if e is None:
            continue
        todo = [m for m in modes if (e["filename"], m) not in done]
        if not todo:
            continue
        try:
            path, delete = fetch(e, args.cache, args.max_cache_mb << 20, args.max_cache_gb << 30)
        except Exception as ex:  # noqa: BLE001
            log(f"{name}: {e['filename']}: download failed: {ex}")
            for m in todo:
                append(results, {"project": name, "version": entry["version"], "kind": kind,
                                 "file": e["filename"], "sha256": e["sha256"], "size": e["size"],
                                 "mode": m, "label": args.label, "exit_code": None,
                                 "error": f"download: {ex}"})
            continue
        try:
            for m in todo:
                rec, doc = run_scan(args.bin, path, m == "deep", args.timeout)
                rec.update({"project": name, "version": entry["version"], "kind": kind,
                            "file": e["filename"], "sha256": e["sha256"], "size": e["size"],
                            "mode": m, "label": args.label, "kept": not delete})
                rec["cmd"] = " ".join(rec["cmd"])
                if rec.get("exit_code") is None:
                    rec["final"] = True  # a timeout is a result too; not retried on resume
                if doc is not None:
                    rec.update(digest(doc, path))
                append(results, rec)
                hi = sum(1 for f in rec.get("findings", []) if RANK[f["severity"]] >= HIGH)
                log(f"{name} {kind} {m}: exit {rec.get('exit_code')} {rec['seconds']}s"
                    f" high+ {hi} medium+ {len(rec.get('findings', []))}")
        finally:
            if delete and os.path.exists(path):
                os.remove(path)


# ---------------------------------------------------------------- summary


def md_cell(s, n=180):
    s = str(s).replace("\n", " ").replace("\r", " ")
    if len(s) > n:
        s = s[: n - 1] + "\u2026"
    return s.replace("|", "\\|").replace("`", "'")


def latest(results):
    """The last record of each (file, mode)."""
    recs = collections.OrderedDict()
    with open(results, encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            recs[(r["file"], r["mode"])] = r
    return list(recs.values())


def summarize(results, summary, label, binary, manifest=None):
    recs = latest(results)
    lines = [f"# pthscan on popular PyPI artifacts: `{label}`", ""]
    lines.append(f"Written {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by "
                 f"`benches/popular.py` from `{os.path.basename(results)}`; binary `{binary}`.")
    if manifest is not None:
        nw = sum(1 for e in manifest.values() if e.get("wheel"))
        ns = sum(1 for e in manifest.values() if e.get("sdist"))
        lines.append(f"Projects: {len(manifest)}; with a wheel {nw}, with an sdist {ns}. "
                     "Fail = exit 1 (a finding at high or above).")
    lines.append("")
    lines.append("| mode | kind | scanned | fail at high+ (files) | high+ findings | paths with high+ | "
                 "files with medium | medium findings | paths with medium | exit 2 | errors/timeouts | "
                 "files with diagnostics |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    kinds = [k for k in ("wheel", "sdist", "venv") if any(r["kind"] == k for r in recs)]
    if len(kinds) > 1:
        kinds.append("all")
    modes = sorted({r["mode"] for r in recs}, key=lambda m: (m != "default", m))
    by_rule_hi = {m: collections.Counter() for m in modes}
    by_rule_med = {m: collections.Counter() for m in modes}
    for m in modes:
        for kind in kinds:
            rs = [r for r in recs if r["mode"] == m and (kind == "all" or r["kind"] == kind)]
            scanned = [r for r in rs if r.get("exit_code") is not None]
            hi_files = [r for r in scanned
                        if any(RANK[f["severity"]] >= HIGH for f in r.get("findings", []))]
            med_files = [r for r in scanned
                         if any(f["severity"] == "medium" for f in r.get("findings", []))]
            hi_n = sum(1 for r in scanned for f in r.get("findings", []) if RANK[f["severity"]] >= HIGH)
            med_n = sum(1 for r in scanned for f in r.get("findings", []) if f["severity"] == "medium")
            ex2 = sum(1 for r in scanned if r["exit_code"] == 2)
            err = sum(1 for r in rs if r.get("exit_code") is None or r.get("error"))
            dg = sum(1 for r in scanned if r.get("diagnostics"))
            hi_p = len({(r["file"], f["path"]) for r in scanned for f in r.get("findings", [])
                        if RANK[f["severity"]] >= HIGH})
            med_p = len({(r["file"], f["path"]) for r in scanned for f in r.get("findings", [])
                         if f["severity"] == "medium"})
            lines.append(f"| {m} | {kind} | {len(scanned)} | {len(hi_files)} | {hi_n} | {hi_p} | "
                         f"{len(med_files)} | {med_n} | {med_p} | {ex2} | {err} | {dg} |")
            if kind == kinds[-1]:
                for r in scanned:
                    for sev, ctr in (("high", by_rule_hi[m]), ("medium", by_rule_med[m])):
                        rules = {f["rule"] for f in r.get("findings", [])
                                 if (RANK[f["severity"]] >= HIGH) == (sev == "high")}
                        ctr.update(rules)
    lines.append("")
    lines.append("## Files by rule")
    lines.append("")
    lines.append("| mode | level | rule | files |")
    lines.append("|---|---|---|---|")
    for m in modes:
        for lvl, ctr in (("high+", by_rule_hi[m]), ("medium", by_rule_med[m])):
            for rule, n in ctr.most_common():
                lines.append(f"| {m} | {lvl} | {rule} | {n} |")
    lines.append("")
    for title, pick in (("high+", lambda f: RANK[f["severity"]] >= HIGH),
                        ("medium", lambda f: f["severity"] == "medium")):
        lines.append(f"## Every {title} finding")
        lines.append("")
        lines.append("Deduplicated over modes; `modes` says in which scan it was seen.")
        lines.append("")
        lines.append("| file | rule | sev | path inside | line | modes | evidence |")
        lines.append("|---|---|---|---|---|---|---|")
        seen = collections.OrderedDict()
        for r in sorted(recs, key=lambda r: (r["project"].lower(), r["kind"], r["mode"])):
            for f in r.get("findings", []):
                if not pick(f):
                    continue
                key = (r["file"], f["rule"], f["path"], f["line"])
                if key in seen:
                    seen[key][1].add(r["mode"])
                else:
                    seen[key] = (f, {r["mode"]})
        for (file, rule, path, line), (f, ms) in seen.items():
            lines.append(f"| {md_cell(os.path.basename(file), 80)} | {rule} | {f['severity']} | "
                         f"{md_cell(path, 90)} | {line} | {','.join(sorted(ms))} | {md_cell(f['evidence'])} |")
        lines.append("")
    errs = collections.OrderedDict()
    for r in recs:
        if r.get("exit_code") in (None, 2) or r.get("error"):
            head = r.get("incomplete_head") or r.get("diagnostics_head") or [{}]
            why = r.get("error") or re.sub(r"^\d+ files: ", "", head[0].get("message", ""))
            why = re.sub(r" \(the first: .*$", "", why)
            key = (r["file"], r.get("exit_code"), why)
            errs.setdefault(key, (r, set()))[1].add(r["mode"])
    if errs:
        reasons = collections.Counter(re.sub(r"\d+", "N", k[2]) for k in errs)
        lines.append("")
        lines.append("## Scans that did not complete cleanly (exit 2, timeout, download error)")
        lines.append("")
        for why, n in reasons.most_common():
            lines.append(f"- {n} file(s): {md_cell(why, 200)}")
        lines.append("")
        lines.append("| file | size MB | modes | exit | incomplete diagnostics | first incomplete diagnostic |")
        lines.append("|---|---|---|---|---|---|")
        for (file, code, why), (r, ms) in errs.items():
            head = (r.get("incomplete_head") or r.get("diagnostics_head") or [{}])[0]
            lines.append(f"| {md_cell(file, 80)} | {r.get('size', 0) / 1e6:.1f} | {','.join(sorted(ms))} | "
                         f"{code} | {r.get('diagnostics_incomplete', '')} | "
                         f"{md_cell(head.get('path', ''), 70)}: {md_cell(why)} |")
    with open(summary + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(summary + ".tmp", summary)


def scan_venv(args, modes):
    target = os.path.abspath(args.venv)
    name = os.path.basename(target.rstrip("/"))
    os.makedirs(args.out, exist_ok=True)
    results = os.path.join(args.out, f"venv-{name}-{args.label}.jsonl")
    if os.path.exists(results):
        os.remove(results)
    for m in modes:
        rec, doc = run_scan(args.bin, target, m == "deep", args.timeout)
        if doc is not None:
            raw = os.path.join(args.out, f"venv-{name}-{args.label}{'.deep' if m == 'deep' else ''}.json")
            with open(raw, "w", encoding="utf-8") as f:
                json.dump(doc, f)
            rec.update(digest(doc, target))
        rec.update({"project": name, "version": None, "kind": "venv", "file": target,
                    "mode": m, "label": args.label, "cmd": " ".join(rec["cmd"])})
        append(results, rec)
        log(f"{name} {m}: exit {rec.get('exit_code')} {rec['seconds']}s")
    summarize(results, os.path.join(args.out, f"{name}-{args.label}.md"), args.label, args.bin)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the pthscan binary to measure")
    ap.add_argument("--label", required=True, help="names the results: results-LABEL.jsonl")
    ap.add_argument("--projects", default="/work/shared/testbed/popular-train.txt")
    ap.add_argument("--cache", default="/work/bench/popular")
    ap.add_argument("--out", default="/work/bench/popular-results")
    ap.add_argument("--only", choices=["wheel", "sdist"])
    ap.add_argument("--limit", type=int, help="only the first N projects of the list")
    ap.add_argument("--jobs", type=int, default=1, help="projects at a time (default 1)")
    ap.add_argument("--modes", default="default,deep", help="comma list of default, deep")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per scan (default 3600)")
    ap.add_argument("--max-cache-mb", type=int, default=150, help="keep files up to this size")
    ap.add_argument("--max-cache-gb", type=int, default=6, help="stop keeping files past this total")
    ap.add_argument("--refresh", action="store_true", help="ask PyPI again (new latest releases)")
    ap.add_argument("--summary-only", action="store_true", help="only rewrite the summary")
    ap.add_argument("--venv", help="scan this directory (both modes) instead of the project list")
    args = ap.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if any(m not in ("default", "deep") for m in modes):
        ap.error("--modes takes default and/or deep")
    args.bin = os.path.abspath(args.bin)
    if args.venv:
        scan_venv(args, modes)
        return
    os.makedirs(args.out, exist_ok=True)
    results = os.path.join(args.out, f"results-{args.label}.jsonl")
    summary = os.path.join(args.out, f"summary-{args.label}.md")
    names = read_projects(args.projects)
    if args.limit:
        names = names[: args.limit]
    manifest = load_manifest(args.cache, names, args.refresh, args.jobs)
    if not args.summary_only:
        done = load_done(results)
        todo = [n for n in names if n in manifest]
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
            futs = [ex.submit(do_project, n, manifest[n], args, modes, done, results) for n in todo]
            for fu in concurrent.futures.as_completed(futs):
                fu.result()
    if os.path.exists(results):
        summarize(results, summary, args.label, args.bin, {n: manifest[n] for n in names if n in manifest})
        log(f"wrote {summary}")


if __name__ == "__main__":
    main()
