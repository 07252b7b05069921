"""The kernel command of a warm kernel (:mod:`shopbook.report.warm`).

Run as ``python -S warm_client.py SOCKET KERNEL_ARGV...``: hands this process's standard
streams, environment, folder and the kernel's arguments to the warm server, forwards the
signals it gets to the forked kernel, and exits with the kernel's status. When the server
cannot be reached or declines, it becomes ``KERNEL_ARGV`` itself (a cold kernel).
Standard library only, and quick to start: it runs without ``site``.
"""

import json
import os
import signal
import socket
import struct
import sys

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1)


def cold(argv):
    """Run the ordinary kernel command in this process."""
    os.execv(argv[0], argv)


def main():
    path, argv = sys.argv[1], sys.argv[2:]
    args = argv[argv.index("ipykernel_launcher") + 1 :]
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
        body = json.dumps({"args": args, "env": dict(os.environ), "cwd": os.getcwd()})
        data = body.encode()
        socket.send_fds(conn, [struct.pack("!I", len(data))], [0, 1, 2])
        conn.sendall(data)
        reply = conn.makefile("rb")
        first = reply.readline().decode().split()
    except OSError:
        first = []
    if len(first) != 2 or first[0] != "pid":
        cold(argv)
    pid = int(first[1])

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for sig in FORWARDED:
        signal.signal(sig, forward)
    line = reply.readline().decode().split()  # a signal forwarded meanwhile: retried (PEP 475)
    code = int(line[1]) if len(line) == 2 and line[0] == "exit" else 1
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
