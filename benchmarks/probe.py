"""A second client, in its own process, that PINGs the server and records each reply's latency.

It runs as a separate process so that what it measures is the server's responsiveness, not the
benchmark process's GIL, and it speaks RESP over a bare socket (stdlib only: it starts fast).
Between PINGs it sleeps briefly (PROBE_GAP) so that on a small machine it does not compete for a
CPU with the server and the client under test. Run by :class:`Probe`; protocol on stdin/stdout:
it prints "ready", PINGs until a line arrives on stdin, then prints the latencies (ns) as JSON.
"""

from __future__ import annotations

import json
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

PROBE_GAP = 0.0005  # s, pause between two PINGs
PONG = b"+PONG\r\n"


def ping(sock: socket.socket) -> None:
    sock.sendall(b"PING\r\n")
    reply = b""
    while len(reply) < len(PONG):
        chunk = sock.recv(64)
        if not chunk:
            raise ConnectionError("the server closed the probe's connection")
        reply += chunk
    if reply != PONG:
        raise RuntimeError(f"unexpected PING reply {reply!r}")


def main(port: int) -> None:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ping(sock)
    stop = selectors.DefaultSelector()
    stop.register(sys.stdin, selectors.EVENT_READ)
    print("ready", flush=True)
    latencies: list[int] = []
    clock = time.perf_counter_ns
    while not stop.select(timeout=PROBE_GAP):
        start = clock()
        ping(sock)
        latencies.append(clock() - start)
    sock.close()
    print(json.dumps(latencies), flush=True)


class Probe:
    """Start PINGing on enter; on exit the latencies (ns) are in ``latencies``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.latencies: list[int] = []
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> Probe:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.probe", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self._proc.stdout is not None
        if self._proc.stdout.readline().strip() != "ready":
            self._proc.kill()
            raise RuntimeError("the PING probe did not start")
        time.sleep(0.05)  # a few undisturbed PINGs first
        return self

    def __exit__(self, *exc_info: object) -> None:
        time.sleep(0.05)
        assert self._proc is not None
        out, _ = self._proc.communicate("stop\n", timeout=60)
        if self._proc.returncode != 0:
            raise RuntimeError(f"the PING probe failed (exit {self._proc.returncode})")
        self.latencies = json.loads(out.strip().splitlines()[-1])


if __name__ == "__main__":
    main(int(sys.argv[1]))
