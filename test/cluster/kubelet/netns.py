#!/usr/bin/python3
"""The network of an isolated harness node: run as `unshare --net netns.py SPEC.json`, it is the
process that holds the new network namespace (its loopback brought up), and it forwards each
`{"port": P, "socket": PATH}` of the spec: a connection to 127.0.0.1:P inside the namespace is
relayed to the Unix socket PATH, where the test's process (kubelet.ts) relays it on to a server
on the host's loopback (a database or a test double on a port of its own). Pods of the node join
this namespace, so a Service's port (5432, 5000...) is reached there whatever the host's port is,
and nothing collides with other tests or servers on the host.

Prints `ready` once every port listens; ends with its parent (stdin closed) or SIGTERM."""
import asyncio
import fcntl
import json
import socket
import struct
import sys

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def loopback_up():
    """`ip link set lo up`, without iproute2: the SIOCGIFFLAGS/SIOCSIFFLAGS ioctls on `lo`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        req = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH14s", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b"\0" * 14))
    finally:
        s.close()


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


def relay(path):
    async def handle(reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(path)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    return handle


async def main():
    spec = json.load(open(sys.argv[1]))
    loopback_up()
    for f in spec["forward"]:
        await asyncio.start_server(relay(f["socket"]), "127.0.0.1", f["port"])
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: done.done() or done.set_result(None))
    await done


asyncio.run(main())
