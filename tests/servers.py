"""Real Redis processes on loopback ports for the integration tests (started and stopped here)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

START_TIMEOUT = 10.0  # s, longest wait for a server to answer PING
STOP_TIMEOUT = 10.0  # s, longest wait for a server to exit


def require_binary(name: str) -> str:
    """The path of a Redis binary; under CI=true a missing one fails the run instead of skipping."""
    path = shutil.which(name)
    if path:
        return path
    message = (
        f"{name} not found: install it (make redis-server as root, or "
        "apt-get install redis-server redis-sentinel redis-tools) to run the integration tests"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    """One redis-server process bound to 127.0.0.1, configured by command-line options."""

    workdir: Path
    password: str | None = None
    port: int = field(default_factory=free_port)
    options: list[str] = field(default_factory=list)
    binary: str = "redis-server"
    proc: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"redis-{self.port}.log"

    def command(self) -> list[str]:
        args = [
            require_binary(self.binary),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.workdir),
            "--logfile", str(self.log_path),
        ]  # fmt: skip
        if self.password:
            args += ["--requirepass", self.password]
        return args + self.options

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL)
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                log = self.log_path.read_text() if self.log_path.exists() else ""
                raise RuntimeError(f"redis-server exited at start:\n{log[-2000:]}")
            try:
                if self.client(socket_timeout=1).ping():
                    return
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer within the timeout")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
        self.proc = None

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self, **options) -> redis.Redis:
        """A plain redis-py client to the server, for preparing and checking test data."""
        options.setdefault("decode_responses", True)
        return redis.Redis(port=self.port, password=self.password, **options)


class SilentServer:
    """A TCP server that accepts connections and never answers: a hung Redis."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()
