#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each), seeded from corpus/: the hook,
# RECORD and METADATA files of the corpus cases, and archives built from them. A crash leaves
# its input in fuzz/artifacts/<target>/; turn it into a regression test before fixing.
#   usage: fuzz/run.sh [SECONDS]    (needs: rustup toolchain nightly, cargo install cargo-fuzz)
set -euo pipefail
cd "$(dirname "$0")"
SECS="${1:-60}"
SEEDS="$(mktemp -d)"; trap 'rm -rf "$SEEDS"' EXIT
python3 -I -S - "$SEEDS" <<'PY'
import base64, io, os, sys, tarfile, tomllib, zipfile
out = sys.argv[1]
targets = ["pth_classify", "start_parse", "metadata_parse", "zip_read", "tar_read", "decode"]
for t in targets:
    os.makedirs(os.path.join(out, t), exist_ok=True)
cases = os.path.join("..", "corpus", "cases")
zbuf = io.BytesIO(); tbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w") as z, tarfile.open(fileobj=tbuf, mode="w:gz") as t:
    for n, case in enumerate(sorted(os.listdir(cases))):
        with open(os.path.join(cases, case, "case.toml"), "rb") as f:
            doc = tomllib.load(f)
        for i, entry in enumerate(doc.get("file", [])):
            data = base64.b64decode(entry["base64"]) if "base64" in entry else entry.get("text", "").encode()
            path = entry["path"]
            name = f"{n}-{i}"
            kind = ("pth_classify" if path.endswith(".pth") else "start_parse" if path.endswith(".start")
                    else "metadata_parse" if path.endswith(("RECORD", "METADATA")) else "decode")
            with open(os.path.join(out, kind, name), "wb") as f:
                f.write(data)
            z.writestr(path, data)
            info = tarfile.TarInfo(path); info.size = len(data); t.addfile(info, io.BytesIO(data))
with open(os.path.join(out, "zip_read", "corpus.zip"), "wb") as f:
    f.write(zbuf.getvalue())
with open(os.path.join(out, "tar_read", "corpus.tar.gz"), "wb") as f:
    f.write(tbuf.getvalue())
PY
for target in pth_classify start_parse metadata_parse zip_read tar_read decode; do
  echo "== $target (${SECS}s)"
  cargo +nightly fuzz run "$target" "$SEEDS/$target" -- -max_total_time="$SECS" -rss_limit_mb=2048
done
