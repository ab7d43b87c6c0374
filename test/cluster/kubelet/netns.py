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
import json
import subprocess
import sys


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
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for f in spec["forward"]:
        await asyncio.start_server(relay(f["socket"]), "127.0.0.1", f["port"])
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: done.done() or done.set_result(None))
    await done


asyncio.run(main())
