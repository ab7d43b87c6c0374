#!/usr/bin/python3
"""Starts one container of the harness, inside the private mount, PID and UTS namespaces that
`unshare --mount --pid --uts --fork --propagation private` gave it (so every mount below disappears
with the container's last process, and the host's mounts are never touched):

1. a tmpfs at the scratch folder holds the container's writable layer; an overlay whose lower layer
   is the host's `/` is the container's root (creating mount points or files in it changes nothing
   of the host);
2. the image's files (/etc/passwd, /etc/group, its programs), /etc/hosts and /etc/hostname are
   written into that layer; the parents of the engines' folders get o+x there;
3. /proc (of the new PID namespace), /dev and /sys (read-only) are mounted; then each volume at its
   mountPath (`mount --bind`, then `mount -o remount,bind,ro` for a read-only one: that flag is per
   mount point, it never changes the filesystem underneath); the harness's own folder is hidden;
4. with readOnlyRootFilesystem, the root is made read-only the same way (remount,bind,ro);
5. chroot, chdir to the working directory, umask 022, and exec `setpriv` to become the container's
   uid/gid/supplementary groups with no capabilities (inheritable, bounding) and no_new_privs,
   which then execs the command with the container's environment (PATH lookup in that environment,
   as runc does).

Usage: launcher.py SPEC.json (written by kubelet.ts). Exits 128 with a `[harness]` message when the
container cannot be started (the runtime's StartError)."""
import json
import os
import socket
import subprocess
import sys


def fail(msg):
    sys.stderr.write("[harness] %s\n" % msg)
    sys.stderr.flush()
    os._exit(128)


def run(*argv):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        fail("%s: %s" % (" ".join(argv), (r.stderr or r.stdout).strip()))


def inside(root, path, follow_last=True):
    """`path` of the container, resolved inside `root` the way the runtime resolves mount
    destinations (runc's securejoin): a symlink's absolute target is taken relative to `root`, and
    `..` never leaves it — so a link such as the image's /var/run -> /run never reaches the host's
    own /run. With follow_last False, a symlink as the last element is not followed."""
    parts = [p for p in path.split("/") if p and p != "."]
    cur = root
    hops = 0
    while parts:
        p = parts.pop(0)
        if p == "..":
            cur = os.path.dirname(cur) if cur != root else root
            continue
        nxt = os.path.join(cur, p)
        if os.path.islink(nxt) and (parts or follow_last):
            hops += 1
            if hops > 40:
                fail("%s: too many levels of symbolic links" % path)
            target = os.readlink(nxt)
            if target.startswith("/"):
                cur = root
            parts = [x for x in target.split("/") if x and x != "."] + parts
            continue
        cur = nxt
    if cur != root and not cur.startswith(root + "/"):
        fail("%s resolves outside the container's root" % path)
    return cur


def main():
    spec = json.load(open(sys.argv[1]))
    scratch = spec["scratch"]
    root = os.path.join(scratch, "root")
    run("mount", "-t", "tmpfs", "-o", "mode=0700", "harness-layer", scratch)
    for d in ("upper", "work", "root"):
        os.mkdir(os.path.join(scratch, d))
    run("mount", "-t", "overlay", "overlay", "-o",
        "lowerdir=/,upperdir=%s,workdir=%s" % (os.path.join(scratch, "upper"), os.path.join(scratch, "work")), root)

    for path, text in spec["etc"].items():
        p = inside(root, path, follow_last=False)
        if os.path.islink(p):
            os.unlink(p)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o644)
    for path, f in sorted(spec["files"].items()):
        p = inside(root, path, follow_last=False)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if os.path.lexists(p) and not os.path.isdir(p):
            os.unlink(p)
        if "symlink" in f:
            os.symlink(f["symlink"], p)
        elif "dir" in f:
            os.makedirs(p, exist_ok=True)
            os.chmod(p, f["mode"])
        else:
            with open(p, "w") as out:
                out.write(f["content"])
            os.chmod(p, f["mode"])
    for folder in spec["reachable"]:
        parts = folder.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            p = inside(root, "/".join(parts[:i]))
            st = os.stat(p)
            if not st.st_mode & 0o001:
                os.chmod(p, (st.st_mode & 0o7777) | 0o001)

    run("mount", "-t", "proc", "proc", inside(root, "/proc"))
    run("mount", "--rbind", "/dev", inside(root, "/dev"))
    run("mount", "--rbind", "/sys", inside(root, "/sys"))
    run("mount", "-o", "remount,bind,ro", inside(root, "/sys"))

    for m in spec["mounts"]:
        target = inside(root, m["target"])
        if m["file"]:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if not os.path.lexists(target):
                open(target, "w").close()
        else:
            os.makedirs(target, exist_ok=True)
        run("mount", "--bind", m["source"], target)
        if m["readOnly"]:
            run("mount", "-o", "remount,bind,ro", target)
    for hidden in spec["hide"]:
        if os.path.isdir(inside(root, hidden)):
            run("mount", "-t", "tmpfs", "-o", "mode=0700,size=4k", "harness-hidden", inside(root, hidden))
    if spec["readOnlyRoot"]:
        run("mount", "-o", "remount,bind,ro", root)

    socket.sethostname(spec["hostname"])
    os.chroot(root)
    try:
        os.chdir(spec["workingDir"])
    except OSError as e:
        fail("working directory %s: %s" % (spec["workingDir"], e))
    os.umask(0o022)
    groups = spec["groups"]
    argv = ["setpriv", "--reuid=%d" % spec["uid"], "--regid=%d" % spec["gid"],
            ("--groups=" + ",".join(str(g) for g in groups)) if groups else "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"] + spec["argv"]
    env = {k: v for k, v in spec["env"]}
    try:
        os.execve("/usr/bin/setpriv", argv, env)
    except OSError as e:
        fail("exec setpriv: %s" % e)


main()
