"""Which archives of a folder pthscan and GuardDog flag, from their JSON outputs.

usage: flagged.py DIR OUTDIR  (OUTDIR holds pthscan.json and gd-<archive>.json files)
pthscan flags an archive with a finding at high or above located in it; GuardDog with a risk
label other than no_risks_detected and low.
"""
import json
import os
import sys

folder, out = sys.argv[1], sys.argv[2]
archives = sorted(f for f in os.listdir(folder) if os.path.isfile(os.path.join(folder, f)))
report = json.load(open(os.path.join(out, "pthscan.json")))
root = os.path.realpath(folder) + "/"
ours = set()
for f in report["findings"]:
    if f["severity"] in ("high", "critical") and f["location"]["path"].startswith(root):
        ours.add(f["location"]["path"][len(root):].split(" › ")[0])
theirs = set()
for a in archives:
    try:
        label = json.load(open(os.path.join(out, f"gd-{a}.json")))["risk_score"]["label"]
    except (OSError, ValueError, KeyError):
        continue
    if label not in ("no_risks_detected", "low"):
        theirs.add(a)
n = len(archives)
print(f"pthscan flags {len(ours)}/{n} ({100 * len(ours) / n:.1f}%), "
      f"guarddog flags {len(theirs)}/{n} ({100 * len(theirs) / n:.1f}%), both {len(ours & theirs)}")
for name, only in (("pthscan only", ours - theirs), ("guarddog only", theirs - ours)):
    print(f"{name} ({len(only)}): {' '.join(sorted(only)[:40])}")
