"""Writes a YARA 4.x rule file comparable to pthscan's embedded rules, for `yara -r` timings.

Debian's yara (4.2) lacks YARA-X's `N of (boolean, …)` and pthscan's globals, so every rule
(public and private) keeps all its strings with the condition `any of them`: the same pattern
matching work, a condition that is never cheaper. Usage: python3 comparable-yara.py OUT.yar
"""
import glob
import os
import re
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
out = []
for path in sorted(glob.glob(os.path.join(HERE, "..", "signatures", "rules", "*.yar"))):
    text = re.sub(r"(?m)^\s*//[^\n]*$", "", open(path).read())
    family = os.path.basename(path)[:-4]
    for m in re.finditer(r"(?:private\s+)?rule\s+(\w+)\s*\{(.*?)\n\}", text, re.S):
        name, body = m.group(1), m.group(2)
        if "strings:" not in body:
            continue
        strings = body.split("strings:")[1].split("condition:")[0]
        out.append("rule %s_%s {\n  strings:\n%s\n  condition:\n    any of them\n}\n" % (family, name, strings))
with open(os.path.join(HERE, "..", "signatures", "ioc.toml"), "rb") as f:
    for i, n in enumerate(tomllib.load(f).get("network", [])):
        out.append('rule ioc_net_%d {\n  strings:\n    $a = "%s" nocase fullword\n  condition:\n    $a\n}\n' % (i, n["indicator"]))
with open(sys.argv[1], "w") as f:
    f.write("\n".join(out))
print("%d rules written to %s" % (len(out), sys.argv[1]))
