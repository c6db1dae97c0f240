#!/usr/bin/env python3
"""Renders what benches/compare.sh measured, and writes it into the documentation.

    write-tables.py ROWS.tsv COMMAND [BENCH_README README]

ROWS.tsv has one line per measurement: label, threads, scale, files, bytes, seconds, peak RSS
in KiB, and the seconds of the reference it is held to (empty for none). The whole table and
the targets of issue 7 judged from it are printed; given the two files, they also replace what
lies between `<!-- compare.sh:table -->` and `<!-- /compare.sh:table -->` in BENCH_README,
and a summary of the 1x tree what lies between `<!-- compare.sh:summary -->` and
`<!-- /compare.sh:summary -->` in README.
"""

import datetime
import os
import sys


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            label, threads, scale, files, size, secs, rss, ref = line.rstrip("\n").split("\t")
            rows.append(
                {
                    "label": label,
                    "threads": int(threads),
                    "scale": int(scale),
                    "files": int(files),
                    "bytes": int(size),
                    "secs": float(secs),
                    "rss_mb": int(rss) // 1024,
                    "ref": float(ref) if ref else None,
                }
            )
    return rows


def find(rows, label, scale=1, threads=None):
    """The first row of `label` (or, for a label ending in `*`, starting with it)."""
    for r in rows:
        named = (
            r["label"].startswith(label[:-1]) if label.endswith("*") else r["label"] == label
        )
        if named and r["scale"] == scale and (
            threads is None or r["threads"] == threads
        ):
            return r
    return None


# GNU time counts wall time in hundredths: a reading of 0.00 s means under 10 ms
TICK = 0.01


def ratio(a, b):
    """a / b, with b read as at least one tick (on a tree too small to time, a lower bound)."""
    return a / max(b, TICK)


def full_table(rows):
    out = [
        "| tool | threads | tree | files | time | files/s | MB/s | peak RSS | ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["label"] == "empty folder":
            continue
        secs = max(r["secs"], 0.001)
        ratio_cell = f"{ratio(r['secs'], r['ref']):.1f}×" if r["ref"] is not None else ""
        out.append(
            f"| {r['label']} | {r['threads']} | {r['scale']}× | {r['files']:,} | {r['secs']:.2f} s"
            f" | {r['files'] / secs:,.0f} | {r['bytes'] / 1048576 / secs:,.0f} | {r['rss_mb']} MB"
            f" | {ratio_cell} |"
        )
    return out


def targets(rows):
    """The speed targets of issue 7, judged from the rows: (target, measured, verdict)."""
    out = []
    mark = lambda ok: "met" if ok else "**missed**"
    find1 = find(rows, "find -type f", 1)
    stat1 = find(rows, "find -type f -printf %s", 1)
    scan2 = find(rows, "pthscan", 1, 2)
    if find1 and scan2:
        r = ratio(scan2["secs"], find1["secs"])
        text = f"{r:.1f}× ({scan2['secs']:.2f} s vs {find1['secs']:.2f} s, two threads)"
        if stat1:
            text += (
                f"; a walk that stats every file, `find -printf %s`, is itself "
                f"{ratio(stat1['secs'], find1['secs']):.1f}×"
            )
        out.append(("default scan ≤ 1.5× `find -type f`", text, mark(r <= 1.5)))
    deep2 = find(rows, "pthscan --deep", 1, 2)
    rg2 = find(rows, "rg -uuu", 1, 2)
    yara2 = find(rows, "yara -r", 1, 2)
    if deep2 and rg2:
        r = ratio(deep2["secs"], rg2["secs"])
        out.append(
            (
                "`--deep` ≤ 2× `rg -uuu`",
                f"{r:.1f}× ({deep2['secs']:.2f} s vs {rg2['secs']:.2f} s)",
                mark(r <= 2),
            )
        )
    if deep2 and yara2:
        out.append(
            (
                "`--deep` faster than `yara -r`",
                f"{ratio(yara2['secs'], deep2['secs']):.1f}× faster ({deep2['secs']:.2f} s vs {yara2['secs']:.2f} s)",
                mark(deep2["secs"] < yara2["secs"]),
            )
        )
    ours = [r for r in rows if r["label"].startswith("pthscan")]
    if ours:
        top = max(ours, key=lambda r: r["rss_mb"])
        out.append(
            (
                "peak RSS ≤ 150 MB whatever the input",
                f"{top['rss_mb']} MB at most (`{top['label']}`, {top['scale']}×, {top['threads']} threads); "
                "`tests/hostile.rs` checks each hostile input",
                mark(top["rss_mb"] <= 150),
            )
        )
    empty = find(rows, "empty folder", 0)
    if empty:
        out.append(
            (
                "start-up on an empty folder ≤ 50 ms",
                f"{empty['secs'] * 1000:.0f} ms" if empty["secs"] >= 0.01 else "< 10 ms",
                mark(empty["secs"] <= 0.05),
            )
        )
    for label in ("pthscan", "pthscan --deep"):
        parts, ok = [], True
        for scale in sorted({r["scale"] for r in rows if r["scale"]}):
            one = [r for r in rows if r["label"] == label and r["scale"] == scale and r["threads"] == 1]
            two = [r for r in rows if r["label"] == label and r["scale"] == scale and r["threads"] == 2]
            if one and two:
                r = ratio(one[0]["secs"], two[0]["secs"])
                ok &= r >= 1.8
                parts.append(f"{r:.2f}× at {scale}×")
        if parts:
            out.append((f"two threads ≥ 1.8× one (`{label}`)", ", ".join(parts), mark(ok)))
    ones = sorted(
        (r for r in rows if r["label"] == "pthscan" and r["threads"] == 1), key=lambda r: r["scale"]
    )
    if len(ones) > 1:
        per_file = [r["secs"] / r["files"] * 1e6 for r in ones]
        worst = max(per_file) / min(per_file)
        out.append(
            (
                "time linear in files",
                ", ".join(f"{r['secs']:.2f} s at {r['scale']}×" for r in ones)
                + f" (one thread): per-file time varies {worst:.2f}×",
                mark(worst <= 1.25),
            )
        )
    return out


def summary(rows):
    out = ["| | time | peak RSS | against |", "|---|---|---|---|"]
    find1 = find(rows, "find -type f", 1)
    scan2 = find(rows, "pthscan", 1, 2)
    if scan2 and find1:
        out.append(
            f"| `pthscan` (hooks, RECORD presence and size of every file, unowned files), 2 threads"
            f" | {scan2['secs']:.2f} s | {scan2['rss_mb']} MB"
            f" | `find -type f` {find1['secs']:.2f} s ({ratio(scan2['secs'], find1['secs']):.1f}×) |"
        )
    aa = find(rows, "autorun-audit*", 1)
    if aa:
        out.append(
            f"| `autorun-audit env --site-dir` (hooks of one site directory, Python), 1 thread"
            f" | {aa['secs']:.2f} s | {aa['rss_mb']} MB | |"
        )
    deep2 = find(rows, "pthscan --deep", 1, 2)
    rg2 = find(rows, "rg -uuu", 1, 2)
    yara2 = find(rows, "yara -r", 1, 2)
    if deep2:
        against = []
        if rg2:
            against.append(f"`rg -uuu` {rg2['secs']:.2f} s ({ratio(deep2['secs'], rg2['secs']):.1f}×)")
        if yara2:
            against.append(f"`yara -r` {yara2['secs']:.2f} s")
        out.append(
            f"| `pthscan --deep` (every byte through the rules, every RECORD hash, wheels inside), 2 threads"
            f" | {deep2['secs']:.2f} s | {deep2['rss_mb']} MB | {', '.join(against)} |"
        )
    gd = find(rows, "guarddog*", 1)
    if gd:
        out.append(
            f"| `guarddog pypi scan` on the same tree (Python), 1 thread"
            f" | {gd['secs']:.1f} s | {gd['rss_mb']} MB | |"
        )
    empty = find(rows, "empty folder", 0)
    if empty:
        shown = f"{empty['secs']:.2f} s" if empty["secs"] >= 0.01 else "< 0.01 s"
        out.append(f"| empty folder | {shown} | {empty['rss_mb']} MB | |")
    return out


def splice(path, name, lines):
    begin, end = f"<!-- compare.sh:{name} -->", f"<!-- /compare.sh:{name} -->"
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if begin not in text or end not in text:
        sys.exit(f"write-tables: {path} has no `{begin}` … `{end}` block to replace")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    rows_path, command = sys.argv[1:3]
    rows = load(rows_path)
    cores = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    when = datetime.date.today().isoformat()
    machine = f"{cores} cores, {mem:.0f} GiB, warm cache"
    table = [f"`{command}`, {when}, {machine}:", ""] + full_table(rows)
    judged = targets(rows)
    if judged:
        table += ["", "| target | measured | |", "|---|---|---|"]
        table += [f"| {t} | {m} | {v} |" for t, m, v in judged]
    print("\n".join(table))
    if len(sys.argv) == 5:
        bench_readme, readme = sys.argv[3:5]
        splice(bench_readme, "table", table)
        summary_lines = [f"{when}, {machine}, by `benches/compare.sh`:", ""] + summary(rows)
        splice(readme, "summary", summary_lines)
        print(f"wrote {bench_readme} and {readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
