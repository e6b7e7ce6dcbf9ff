"""A second client, in its own process, that PINGs the server and records each reply's latency.

It runs in a separate process so that what it measures is the server's responsiveness, not the
benchmark process's GIL. Between PINGs it sleeps briefly (PROBE_GAP) so that on a small machine it
does not compete for a CPU with the server and the client under test.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

import redis

PROBE_GAP = 0.0005  # s, pause between two PINGs


def _probe(port: int, ready: Any, stop: Any, results: Any) -> None:
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
    client.ping()
    latencies: list[int] = []
    clock = time.perf_counter_ns
    ready.set()
    while not stop.is_set():
        start = clock()
        client.ping()
        latencies.append(clock() - start)
        time.sleep(PROBE_GAP)
    client.close()
    results.send(latencies)


class Probe:
    """Start PINGing on enter; on exit the latencies (ns) are in ``latencies``."""

    def __init__(self, port: int) -> None:
        ctx = mp.get_context("spawn")
        self._ready = ctx.Event()
        self._stop = ctx.Event()
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_probe, args=(port, self._ready, self._stop, send), daemon=True
        )
        self.latencies: list[int] = []

    def __enter__(self) -> Probe:
        self._proc.start()
        if not self._ready.wait(30):
            self._proc.kill()
            raise RuntimeError("the PING probe did not start")
        time.sleep(0.05)  # a few undisturbed PINGs first
        return self

    def __exit__(self, *exc_info: object) -> None:
        time.sleep(0.05)
        self._stop.set()
        if self._recv.poll(60):
            self.latencies = self._recv.recv()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
