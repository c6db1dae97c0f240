"""Installs a CPython X.Y from Debian's archive (unstable), for the start-up oracle (issue 18).

    python3 tests/oracle/debian_python.py 3.15 [--dest ~/.cache/pthscan-python]

pyenv and uv carry no build of the newest CPythons on every machine; Debian unstable carries
3.14 and 3.15, and its archive is a package registry this project may reach. This script
downloads the interpreter (`pythonX.Y-minimal`, `libpythonX.Y-minimal`, `libpythonX.Y-stdlib`)
and the shared libraries it needs from unstable (`libc6` and its loader: unstable's glibc is
newer than most hosts'), checks each `.deb` against the SHA-256 the signed index gives, and
unpacks it (nothing is installed into the system, no maintainer script runs). It writes:

- `DEST/X.Y-debian/usr/bin/run-pythonX.Y`: Debian's interpreter as packaged (`site` with Debian's
  `dist-packages` patch);
- `DEST/X.Y/usr/bin/run-pythonX.Y`: the same interpreter and standard library, with the one hunk of
  Debian's `site.py` patch (`getsitepackages`' `dist-packages` directories) reverted, so that
  `getsitepackages` is upstream's: checked by asking it, and refused otherwise. It runs with
  `-X frozen_modules=off`, as the binary's frozen `site` is Debian's.

Each `run-pythonX.Y` is a shell script that starts the unpacked binary through the unpacked
loader, passing on the name it was started by (a venv's `bin/python` link works as with any
interpreter). `compare.py` finds `DEST/X.Y/usr/bin/run-pythonX.Y` (or `PTHSCAN_PYTHON_X_Y`).
"""

import argparse
import hashlib
import io
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request

MIRROR = "https://deb.debian.org/debian"
SUITE = "sid"
ARCH = "amd64"
TRIPLET = "x86_64-linux-gnu"
LIBS = ["libc6", "libgcc-s1", "libexpat1", "zlib1g", "libzstd1"]


def fetch(url):
    with urllib.request.urlopen(url, timeout=120) as r:
        return r.read()


def index():
    """Package -> (Filename, SHA256) from the suite's Packages index."""
    data = lzma.decompress(fetch("%s/dists/%s/main/binary-%s/Packages.xz" % (MIRROR, SUITE, ARCH)))
    out = {}
    for stanza in data.decode("utf-8", "replace").split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z0-9-]+): (.*)$", stanza, re.M))
        if "Package" in fields and "Filename" in fields and fields["Package"] not in out:
            out[fields["Package"]] = (fields["Filename"], fields.get("SHA256"))
    return out


def ar_members(data):
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not an ar archive")
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        yield name, data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)


def unpack_deb(data, dest):
    for name, body in ar_members(data):
        if not name.startswith("data.tar"):
            continue
        if name.endswith(".zst"):
            raise ValueError("zstd-compressed .deb data is not handled")
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            members = []
            for m in tar.getmembers():
                parts = m.name.split("/")
                if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()
                                                                   or m.issym()):
                    continue
                members.append(m)
            kwargs = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
            tar.extractall(dest, members=members, **kwargs)
        return
    raise ValueError("no data.tar member")


def wrapper(root, version, options=""):
    """`root/usr/bin/run-pythonX.Y`: the unpacked binary through the unpacked loader, told
    (`--argv0`) the name it was started by, so that `getpath` finds the standard library
    beside it and a venv whose `bin/python` links here is a venv."""
    libdir = os.path.join(root, "usr", "lib", TRIPLET)
    path = os.path.join(root, "usr", "bin", "run-python" + version)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n# CPython %s from Debian %s, unpacked by tests/oracle/debian_python.py\n"
                'exec "%s/ld-linux-x86-64.so.2" --library-path "%s" --argv0 "$0" '
                '"%s/usr/bin/python%s" %s"$@"\n'
                % (version, SUITE, libdir, libdir, root, version, options))
    os.chmod(path, 0o755)
    return path


DEBIAN_HUNK = re.compile(
    r"\n( +)if is_virtual_environment:\n.*?# this one is deprecated for Debian\n", re.S)


def revert_site_patch(root, version):
    """Reverts Debian's `getsitepackages` hunk: upstream's `site-packages` per libdir."""
    site_py = os.path.join(root, "usr", "lib", "python" + version, "site.py")
    with open(site_py, encoding="utf-8") as f:
        text = f.read()
    text, n = DEBIAN_HUNK.subn("\n", text)
    text, m = re.subn(r'(f"\{implementation\}\{ver\[0\]\}\.\{ver\[1\]\}\{abi_thread\}",\s*)'
                      r'"dist-packages"\)', r'\1"site-packages")', text)
    if n != 1 or m != 1:
        raise ValueError("site.py does not carry the Debian hunk this script knows (%d, %d)"
                         % (n, m))
    text = text.replace("    is_virtual_environment = sys.base_prefix != sys.prefix or "
                        "hasattr(sys, \"real_prefix\")\n", "")
    with open(site_py, "w", encoding="utf-8") as f:
        f.write(text)
    for cached in os.listdir(os.path.join(os.path.dirname(site_py), "__pycache__")) \
            if os.path.isdir(os.path.join(os.path.dirname(site_py), "__pycache__")) else []:
        if cached.startswith("site."):
            os.remove(os.path.join(os.path.dirname(site_py), "__pycache__", cached))


def site_packages_of(exe):
    code = "import site, sys; print(sys.version.split()[0]); print(site.getsitepackages(['/p']))"
    out = subprocess.run([exe, "-I", "-S", "-c", code], stdout=subprocess.PIPE, check=True,
                         timeout=60).stdout.decode().splitlines()
    return out[0], out[1]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", help="X.Y, e.g. 3.15")
    parser.add_argument("--dest", default=os.path.expanduser("~/.cache/pthscan-python"))
    args = parser.parse_args(argv[1:])
    v = args.version
    if not re.match(r"^3\.\d+$", v):
        parser.error("version must be X.Y")
    packages = index()
    wanted = ["python%s-minimal" % v, "libpython%s-minimal" % v, "libpython%s-stdlib" % v] + LIBS
    missing = [p for p in wanted if p not in packages]
    if missing:
        sys.stderr.write("debian_python: %s %s has no %s\n" % (SUITE, ARCH, ", ".join(missing)))
        return 2
    debian = os.path.join(args.dest, v + "-debian")
    upstream = os.path.join(args.dest, v)
    for d in (debian, upstream):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(debian)
    for name in wanted:
        filename, sha256 = packages[name]
        data = fetch("%s/%s" % (MIRROR, filename))
        if not sha256 or hashlib.sha256(data).hexdigest() != sha256:
            sys.stderr.write("debian_python: %s does not match its index's SHA-256\n" % filename)
            return 2
        unpack_deb(data, debian)
        print("unpacked " + os.path.basename(filename))
    shutil.copytree(debian, upstream, symlinks=True)
    revert_site_patch(upstream, v)
    # `site` is frozen into the binary (3.11+), with Debian's patch: the upstream variant reads
    # the reverted `site.py` from disk instead (`-X frozen_modules=off`)
    for root, expect, options in ((debian, "dist-packages", ""),
                                  (upstream, "site-packages", "-X frozen_modules=off ")):
        exe = wrapper(root, v, options)
        patch, dirs = site_packages_of(exe)
        if expect not in dirs or (expect == "site-packages" and "dist-packages" in dirs):
            sys.stderr.write("debian_python: %s: getsitepackages is %s\n" % (exe, dirs))
            return 2
        print("%s: CPython %s, getsitepackages(['/p']) = %s" % (exe, patch, dirs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
