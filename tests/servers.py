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
# redis-server 7.4 with RedisJSON and RediSearch (Redis Stack), installed for the tests only by
# scripts/ensure-redis-stack.sh (make test): the module actions' integration tests run on it.
ROOT = Path(__file__).resolve().parent.parent
REDIS_STACK_SERVER = ROOT / ".tools" / "redis-stack" / "redis-stack-server"
STOP_TIMEOUT = 10.0  # s, longest wait for a server to exit


def require_binary(name: str) -> str:
    """The path of a Redis binary; under CI=true a missing one fails the run instead of skipping."""
    path = shutil.which(name)
    if path:
        return path
    if name == str(REDIS_STACK_SERVER):
        message = (
            "the Redis Stack server is not installed: run `make redis-stack` (Linux x86_64) to "
            "run the tests of the JSON, vector and semantic-cache actions"
        )
    else:
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


# --- TLS, ACL and unix-socket servers (issue 3) -----------------------------------------------


@dataclass
class Certificates:
    """PEM files made by a throwaway CA: server and client certificates, plus an unrelated CA."""

    directory: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path
    wrong_host_cert: Path
    wrong_host_key: Path

    @classmethod
    def generate(cls, directory: Path) -> Certificates:
        import trustme

        directory.mkdir(parents=True, exist_ok=True)
        ca, other = trustme.CA(), trustme.CA()
        server = ca.issue_cert("127.0.0.1", "localhost")
        client = ca.issue_cert("rooms-client@example.com")
        wrong_host = ca.issue_cert("redis.example.com")
        paths = {name: directory / f"{name}.pem" for name in cls.__dataclass_fields__}
        paths.pop("directory")
        ca.cert_pem.write_to_path(str(paths["ca"]))
        other.cert_pem.write_to_path(str(paths["other_ca"]))
        for name, cert in (("server", server), ("client", client), ("wrong_host", wrong_host)):
            cert.cert_chain_pems[0].write_to_path(str(paths[f"{name}_cert"]))
            cert.private_key_pem.write_to_path(str(paths[f"{name}_key"]))
        return cls(directory=directory, **paths)


@dataclass
class TLSRedisServer(RedisServer):
    """A redis-server that speaks only TLS on ``port`` (its plain port is off)."""

    certs: Certificates | None = None
    auth_clients: str = "no"  # "yes": clients must present a certificate signed by the CA
    cert_name: str = "server"  # "wrong_host": a certificate for another host name

    def command(self) -> list[str]:
        assert self.certs is not None
        args = super().command()
        args[args.index("--port") + 1] = "0"
        return [
            *args,
            "--tls-port", str(self.port),
            "--tls-cert-file", str(getattr(self.certs, f"{self.cert_name}_cert")),
            "--tls-key-file", str(getattr(self.certs, f"{self.cert_name}_key")),
            "--tls-ca-cert-file", str(self.certs.ca),
            "--tls-auth-clients", self.auth_clients,
        ]  # fmt: skip

    def client(self, **options) -> redis.Redis:
        assert self.certs is not None
        options.setdefault("ssl_check_hostname", False)
        return super().client(
            ssl=True,
            ssl_ca_certs=str(self.certs.ca),
            ssl_certfile=str(self.certs.client_cert),
            ssl_keyfile=str(self.certs.client_key),
            **options,
        )


@dataclass
class UnixRedisServer(RedisServer):
    """A redis-server that also listens on a unix socket in its workdir."""

    @property
    def socket_path(self) -> Path:
        return self.workdir / f"redis-{self.port}.sock"

    def command(self) -> list[str]:
        return [
            *super().command(),
            "--unixsocket", str(self.socket_path), "--unixsocketperm", "700",
        ]  # fmt: skip


def add_acl_user(server: RedisServer, name: str, password: str, *rules: str) -> None:
    """Create (or reset) an ACL user with ``rules``, e.g. ``"~app:*", "+@all"``."""
    server.client().execute_command("ACL", "SETUSER", name, "reset", "on", f">{password}", *rules)
