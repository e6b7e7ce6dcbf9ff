"""`redis-rooms check`, `call` and `run` against real redis-server processes."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import trustme
from typer.testing import CliRunner

from conftest import PASSWORD, entry
from managed_fixtures import TLS_PASSWORD
from redis_rooms_pkg.cli import app
from redis_rooms_pkg.cli import check as check_module
from redis_rooms_pkg.cli.check import tls_context
from servers import (
    Certificates,
    RedisServer,
    SilentServer,
    TLSRedisServer,
    UnixRedisServer,
    free_port,
)

pytestmark = pytest.mark.integration  # some tests start their own redis-server

ROOT = Path(__file__).parents[2]
SCRIPT = Path(sys.executable).with_name("redis-rooms")  # the installed console script
FAST = {"host": "127.0.0.1", "socket_timeout": 1, "socket_connect_timeout": 1}
runner = CliRunner()


def addon_file(tmp_path: Path, **options: Any) -> str:
    path = tmp_path / "addon.json"
    path.write_text(json.dumps(entry(**{**FAST, **options})))
    return str(path)


def check(tmp_path: Path, **options: Any) -> tuple[int, dict[str, dict[str, str]], str]:
    """Exit code, the stages by name, and everything printed."""
    result = runner.invoke(
        app, ["check", "--json", "--addon-config", addon_file(tmp_path, **options)]
    )
    stages = {line["stage"]: line for line in map(json.loads, result.stdout.splitlines())}
    return result.exit_code, stages, result.output


def statuses(stages: dict[str, dict[str, str]]) -> dict[str, str]:
    return {name: stage["status"] for name, stage in stages.items()}


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("REDIS_PASSWORD", PASSWORD)
    return PASSWORD


@pytest.fixture(scope="module")
def expiring_ca(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A CA and a server certificate that expires in 10 days (inside the warning window)."""
    folder = tmp_path_factory.mktemp("expiring")
    ca = trustme.CA()
    soon = datetime.now(timezone.utc) + timedelta(days=10)
    cert = ca.issue_cert("127.0.0.1", "localhost", common_name="redis.test", not_after=soon)
    files = {name: str(folder / f"{name}.pem") for name in ("ca", "cert", "key")}
    ca.cert_pem.write_to_path(files["ca"])
    cert.cert_chain_pems[0].write_to_path(files["cert"])
    cert.private_key_pem.write_to_path(files["key"])
    return files


@pytest.fixture(scope="module")
def expiring_server(
    tmp_path_factory: pytest.TempPathFactory, expiring_ca: dict[str, str]
) -> Iterator[tuple[RedisServer, int]]:
    """A server (no password) with a plain port, for readiness, and a TLS port."""
    tls_port = free_port()
    options = [
        "--tls-port", str(tls_port),
        "--tls-cert-file", expiring_ca["cert"],
        "--tls-key-file", expiring_ca["key"],
        "--tls-ca-cert-file", expiring_ca["ca"],
        "--tls-auth-clients", "no",
    ]  # fmt: skip
    server = RedisServer(tmp_path_factory.mktemp("redis-expiring"), options=options).start()
    yield server, tls_port
    server.stop()


def test_check_passes_with_the_right_password(
    tmp_path: Path, server: RedisServer, password: str
) -> None:
    code, stages, printed = check(tmp_path, port=server.port)
    assert code == 0, printed
    assert statuses(stages) == {
        "dns": "ok", "connect": "ok", "tls": "skip", "auth": "ok", "server": "ok", "role": "ok",
        "latency": "ok",
    }  # fmt: skip
    assert stages["auth"]["detail"] == "authenticated as 'default' (password from REDIS_PASSWORD)"
    assert stages["server"]["detail"].startswith("Redis ")
    assert stages["role"]["detail"].startswith("primary with 0 connected replica(s)")
    assert password not in printed


def test_check_wrong_password(
    tmp_path: Path, server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", "not-the-password-Zx9")
    code, stages, printed = check(tmp_path, port=server.port)
    assert code == 1
    assert stages["auth"]["status"] == "fail"
    assert "rejected the credentials" in stages["auth"]["detail"]
    assert "REDIS_PASSWORD" in stages["auth"]["fix"]
    assert {stages[name]["status"] for name in ("server", "role", "latency")} == {"skip"}
    assert "not-the-password-Zx9" not in printed
    assert PASSWORD not in printed


def test_check_without_password_says_the_variable_is_unset(
    tmp_path: Path, server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unset variable's name is not repeated: the entry's secrets text may be a value."""
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    code, stages, printed = check(tmp_path, port=server.port)
    assert code == 1
    assert stages["auth"]["fix"].endswith(
        "now: no password (the variable the entry's secrets name is not set)"
    )
    assert "REDIS_PASSWORD" not in printed


def test_check_tls_against_a_plain_port(tmp_path: Path, server: RedisServer, password: str) -> None:
    code, stages, printed = check(tmp_path, port=server.port, ssl=True)
    assert code == 1, printed
    assert statuses(stages)["connect"] == "ok"
    assert stages["tls"]["status"] == "fail"
    assert "TLS handshake got no answer" in stages["tls"]["detail"]
    assert "set ssl to false" in stages["tls"]["detail"]
    assert stages["auth"]["status"] == "skip"


def test_check_closed_port(tmp_path: Path) -> None:
    port = free_port()
    code, stages, _ = check(tmp_path, port=port)
    assert code == 1
    assert stages["connect"]["status"] == "fail"
    assert (
        stages["connect"]["detail"]
        == f"connection to 127.0.0.1:{port} refused: nothing listens there"
    )
    assert stages["connect"]["fix"] == "start the Redis server, or fix host and port"
    assert statuses(stages)["latency"] == "skip"


def test_check_plain_client_against_a_tls_port(
    tmp_path: Path, tls_server: TLSRedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", TLS_PASSWORD)
    code, stages, _ = check(tmp_path, port=tls_server.port)
    assert code == 1
    assert statuses(stages)["connect"] == "ok"
    assert statuses(stages)["tls"] == "skip"
    assert stages["auth"]["status"] == "fail"
    assert "it most likely expects TLS: set ssl to true" in stages["auth"]["detail"]


def test_check_tls_passes_with_the_servers_ca(
    tmp_path: Path, tls_server: TLSRedisServer, certs: Certificates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", TLS_PASSWORD)
    code, stages, printed = check(
        tmp_path, port=tls_server.port, ssl=True, ssl_ca_certs=str(certs.ca)
    )
    assert code == 0, printed
    assert set(statuses(stages).values()) == {"ok"}
    assert re.match(
        r"TLSv1\.[23], cipher \S+, certificate O=trustme.*, expires \d{4}-\d\d-\d\d \(\d+ days\)$",
        stages["tls"]["detail"],
    )
    assert TLS_PASSWORD not in printed


def test_check_untrusted_certificate(
    tmp_path: Path, tls_server: TLSRedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", TLS_PASSWORD)
    code, stages, _ = check(tmp_path, port=tls_server.port, ssl=True)
    assert code == 1
    assert stages["tls"]["status"] == "fail"
    assert "certificate not trusted: set ssl_ca_certs" in stages["tls"]["detail"]


def test_check_certificate_for_another_host(
    tmp_path: Path, wrong_host_server: TLSRedisServer, certs: Certificates
) -> None:
    code, stages, _ = check(
        tmp_path, port=wrong_host_server.port, ssl=True, ssl_ca_certs=str(certs.ca)
    )
    assert code == 1
    assert stages["tls"]["status"] == "fail"
    assert "certificate is for another host name" in stages["tls"]["detail"]


def test_check_mutual_tls(
    tmp_path: Path,
    mtls_server: TLSRedisServer,
    certs: Certificates,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", TLS_PASSWORD)
    tls = {"port": mtls_server.port, "ssl": True, "ssl_ca_certs": str(certs.ca)}
    code, stages, _ = check(tmp_path, **tls)
    assert code == 1
    failed = [stage for stage in stages.values() if stage["status"] == "fail"]
    assert len(failed) == 1
    assert failed[0]["stage"] in ("tls", "auth")  # TLS 1.3 refuses after the handshake
    assert "client certificate" in failed[0]["detail"]
    client = {"ssl_certfile": str(certs.client_cert), "ssl_keyfile": str(certs.client_key)}
    code, stages, printed = check(tmp_path, **tls, **client)
    assert code == 0, printed


def test_check_unix_socket(
    tmp_path: Path, unix_server: UnixRedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", PASSWORD)
    code, stages, printed = check(tmp_path, url=f"unix://{unix_server.socket_path}")
    assert code == 0, printed
    assert statuses(stages)["dns"] == statuses(stages)["tls"] == "skip"
    assert stages["connect"]["detail"].startswith(
        f"connected to unix socket {unix_server.socket_path} in "
    )
    missing = tmp_path / "nothing.sock"
    code, stages, _ = check(tmp_path, url=f"unix://{missing}")
    assert code == 1
    assert stages["connect"]["detail"] == f"no unix socket {missing}"
    assert "unixsocket" in stages["connect"]["fix"]


def test_tls_stage_warns_of_an_expiring_certificate(
    tmp_path: Path,
    expiring_server: tuple[RedisServer, int],
    expiring_ca: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, tls_port = expiring_server
    options = {"port": tls_port, "ssl": True, "ssl_ca_certs": expiring_ca["ca"]}
    code, stages, printed = check(tmp_path, **options)
    assert code == 0, printed
    assert stages["tls"]["status"] == "warn"
    assert stages["tls"]["fix"] == "renew the server certificate soon"
    assert "CN=redis.test, " in stages["tls"]["detail"]
    assert re.search(r"expires \d{4}-\d\d-\d\d \((9|10) days\)$", stages["tls"]["detail"])
    monkeypatch.setattr(check_module, "CERT_EXPIRY_WARNING", 5)
    assert check(tmp_path, **options)[1]["tls"]["status"] == "ok"
    unverified = check(tmp_path, port=tls_port, ssl=True, ssl_cert_reqs="none")[1]["tls"]
    assert (unverified["status"], unverified["fix"]) == ("warn", "ssl_cert_reqs is none")
    assert unverified["detail"].endswith("certificate not verified")


def test_check_reports_a_replica(
    tmp_path: Path, server: RedisServer, password: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    replica = RedisServer(
        tmp_path_factory.mktemp("replica"),
        password=PASSWORD,
        options=["--replicaof", "127.0.0.1", str(server.port), "--masterauth", PASSWORD],
    ).start()
    try:
        code, stages, _ = check(tmp_path, port=replica.port)
    finally:
        replica.stop()
    assert code == 0  # a warning, not a failure
    assert stages["role"]["status"] == "warn"
    assert stages["role"]["detail"].startswith(f"replica of 127.0.0.1:{server.port}")
    assert stages["role"]["fix"] == "point the addon at the primary"


def test_check_table_prints_the_fix_of_a_warning(
    tmp_path: Path, server: RedisServer, password: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check_module, "SLOW_ROUND_TRIP", 0)  # every round trip counts as slow
    config = addon_file(tmp_path, port=server.port)
    result = runner.invoke(app, ["check", "--addon-config", config])
    assert result.exit_code == 0, result.output
    assert re.search(r"^! latency +PING round trip min ", result.stdout, re.M)
    assert "  fix: every action pays this: run the engine closer to Redis" in result.stdout


def test_check_server_that_never_answers(tmp_path: Path, silent_server: SilentServer) -> None:
    code, stages, _ = check(tmp_path, port=silent_server.port, retry_attempts=0)
    assert code == 1
    assert statuses(stages)["connect"] == "ok"
    assert stages["auth"]["status"] == "fail"
    assert "did not answer within the timeout (1s socket_timeout)" in stages["auth"]["detail"]
    assert (
        stages["auth"]["fix"]
        == "TCP connects but Redis does not answer: is this port really Redis?"
    )


def test_tls_context_follows_redis_py_options(certs: Certificates) -> None:
    context = tls_context(
        {
            "ssl_certfile": str(certs.client_cert),
            "ssl_keyfile": str(certs.client_key),
            "ssl_ca_certs": str(certs.ca),
            "ssl_cert_reqs": "optional",
            "ssl_check_hostname": False,
            "ssl_min_version": ssl.TLSVersion.TLSv1_3,
            "ssl_ciphers": "HIGH",
        }
    )
    assert context.verify_mode == ssl.CERT_OPTIONAL
    assert context.check_hostname is False
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3
    system = tls_context({}).cert_store_stats()["x509_ca"]  # the machine's own trusted CAs
    assert context.cert_store_stats()["x509_ca"] == system + 1


def test_check_acl_user_without_info(
    tmp_path: Path, server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = server.client()
    admin.acl_setuser(
        "app",
        enabled=True,
        passwords=["+app-pw-Q7"],
        commands=["+@all", "-info", "-acl"],
        keys=["*"],
    )
    monkeypatch.setenv("REDIS_PASSWORD", "app-pw-Q7")
    try:
        code, stages, printed = check(tmp_path, port=server.port, username="app")
    finally:
        admin.acl_deluser("app")
    assert code == 0, printed
    assert stages["auth"]["detail"].startswith("authenticated as 'app'")
    assert stages["server"]["status"] == "warn"
    assert stages["role"]["status"] == "warn"
    assert "app-pw-Q7" not in printed


# --- the installed script against a real server ------------------------------------------------


def script(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
        env=env,
    )  # fmt: skip


def test_script_check_call_and_run_with_an_env_file(tmp_path: Path, server: RedisServer) -> None:
    config = addon_file(tmp_path, port=server.port)
    env_file = tmp_path / "secrets.env"
    env_file.write_text(f"REDIS_PASSWORD={PASSWORD}\n")
    clean = {"PATH": "/usr/bin:/bin"}  # no REDIS_PASSWORD inherited

    checked = script(
        "check", "--addon-config", config, "--env-file", str(env_file), env=clean, cwd=tmp_path
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "✓ auth    authenticated as 'default'" in checked.stdout

    stored = script(
        "call", "set_key", "key=greeting", "value=hello", "ex=60",
        "--addon-config", config, "--env-file", str(env_file), env=clean,
    )  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    assert server.client().get("greeting") == "hello"
    read = script(
        "call", "get_key", "key=greeting", "--addon-config", config, "--env-file", str(env_file),
        env=clean,
    )  # fmt: skip
    assert json.loads(read.stdout)["output"]["value"] == "hello"

    ran = script(
        "run", str(ROOT / "examples" / "session_management.json"), "--addon-config", config,
        "--env-file", str(env_file), "--payload", '{"user_id": "9", "session_token": "s9"}',
        "--json", env=clean,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert server.client().get("session:9") == "s9"
    for output in (checked, stored, read, ran):
        assert PASSWORD not in output.stdout + output.stderr


def test_script_call_unreachable_server_exits_1(tmp_path: Path) -> None:
    done = script(
        "call", "get_key", "key=a", "--addon-config", addon_file(tmp_path, port=free_port())
    )
    assert done.returncode == 1
    response = json.loads(done.stdout)
    assert response["code"] == 503
    assert "connection refused" in response["message"]


def test_check_resolves_a_host_name(tmp_path: Path, server: RedisServer, password: str) -> None:
    code, stages, printed = check(tmp_path, port=server.port, host="localhost")
    assert code == 0, printed
    assert stages["dns"]["detail"].startswith("localhost resolves to ")
    assert "127.0.0.1" in stages["dns"]["detail"]


def test_check_unknown_host(tmp_path: Path) -> None:
    code, stages, _ = check(tmp_path, port=6379, host="no-such-host.invalid")
    assert code == 1
    assert stages["dns"]["status"] == "fail"
    assert stages["dns"]["detail"].startswith("cannot resolve 'no-such-host.invalid'")
    assert stages["dns"]["fix"].startswith("check host")
    assert stages["connect"] == {
        "stage": "connect",
        "status": "skip",
        "detail": "not run: dns failed",
        "fix": "",
    }


def test_check_user_denied_ping(
    tmp_path: Path, server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = server.client()
    admin.acl_setuser(
        "noping", enabled=True, passwords=["+np-pw-Q8"], commands=["+@all", "-ping"], keys=["*"]
    )
    monkeypatch.setenv("REDIS_PASSWORD", "np-pw-Q8")
    try:
        code, stages, printed = check(tmp_path, port=server.port, username="noping")
    finally:
        admin.acl_deluser("noping")
    assert code == 1
    assert stages["auth"]["status"] == "fail"
    assert "the user may not run the PING command" in stages["auth"]["detail"]
    assert stages["auth"]["fix"] == "the server refused PING from this user: see its reply"
    assert "np-pw-Q8" not in printed
