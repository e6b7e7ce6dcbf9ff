"""A private redis-server on a free 127.0.0.1 port for one benchmark run, started and stopped."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

START_TIMEOUT = 10.0  # s, longest wait for the server to answer PING
STOP_TIMEOUT = 10.0  # s, longest wait for the server to exit


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BenchServer:
    """redis-server without persistence, with DEBUG allowed from loopback (for DEBUG POPULATE)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit(
                "redis-server not found: run `make redis-server` (or apt-get install "
                "redis-server) before `make bench`"
            )
        self.binary = binary
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="redis-bench-"))
        self.proc: subprocess.Popen | None = None

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True).stdout
        return next((p[2:] for p in out.split() if p.startswith("v=")), out.strip())

    def start(self) -> BenchServer:
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.workdir / "redis.log"),
            "--enable-debug-command",
            "local",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited at start; see {self.workdir}/redis.log")
            try:
                if self.client(socket_timeout=1).ping():
                    return self
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer in time")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)
            self.proc = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def client(self, **options) -> redis.Redis:
        """A plain redis-py client for preparing data and reading server state."""
        options.setdefault("decode_responses", True)
        return redis.Redis(host="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
