"""Connection options: url/TLS/ACL validation, what reaches redis-py, and the finer error causes."""

from __future__ import annotations

import queue
import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError
from redis import exceptions as rx

from conftest import entry
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.services.client import (
    AddonConnection,
    AddonPool,
    AddonSSLConnection,
    AddonUnixConnection,
    build_client,
    close_client,
    connection_options,
)
from redis_rooms_pkg.services.credentials import Credentials
from redis_rooms_pkg.services.errors import (
    AddonError,
    ClosedBeforeReplyError,
    TLSHandshakeTimeoutError,
    describe,
)

URL_SECRET = "in-Url-Pw-77"


def config(**options: object) -> CustomAddonConfig:
    return CustomAddonConfig(**entry(**options))


def secrets(**values: str) -> Credentials:
    credentials = Credentials()
    credentials.load(values)
    return credentials


def invalid(**options: object) -> str:
    with pytest.raises(ValidationError) as info:
        config(**options)
    return describe(info.value, "", 0)[1]


@pytest.mark.parametrize(
    ("options", "says"),
    [
        pytest.param({"url": f"http://:{URL_SECRET}@h"}, "must start with redis://", id="scheme"),
        pytest.param({"url": f"redis://:{URL_SECRET}@h:99999"}, "valid URL", id="bad-port"),
        pytest.param({"url": "unix://"}, "needs the socket path", id="unix-no-path"),
        pytest.param({"url": f"redis://:{URL_SECRET}@/0"}, "url needs a host", id="no-host"),
        pytest.param(
            {"url": f"redis://:{URL_SECRET}@h/0?ssl_cert_reqs=none"},
            "ssl_cert_reqs are not accepted",
            id="query-option",
        ),
        pytest.param({"ssl_ca_certs": "/x.pem"}, "TLS is off: set ssl", id="tls-without-ssl"),
        pytest.param(
            {"url": "redis://h", "ssl_cert_reqs": "none"}, "TLS is off", id="tls-with-redis-url"
        ),
        pytest.param({"ssl": True, "ssl_ca_certs": "/nope/ca.pem"}, "no file at", id="no-file"),
        pytest.param(
            {"ssl": True, "ssl_keyfile": __file__}, "needs ssl_certfile", id="key-without-cert"
        ),
        pytest.param(
            {"ssl": True, "ssl_cert_reqs": "none", "ssl_check_hostname": True},
            "cannot be true",
            id="hostname-without-verify",
        ),
        pytest.param({"ssl": True, "ssl_cert_reqs": "sometimes"}, "ssl_cert_reqs", id="reqs"),
        pytest.param({"client_name": "has space"}, "may not contain spaces", id="client-name"),
        pytest.param({"max_connections": 0}, "max_connections", id="pool-size"),
        pytest.param({"health_check_interval": -1}, "health_check_interval", id="health"),
    ],
)
def test_bad_connection_options_are_refused_at_load(options: dict, says: str) -> None:
    message = invalid(**options)
    assert says in message
    assert URL_SECRET not in message


def test_unknown_secret_key_is_refused_and_new_ones_accepted() -> None:
    ok = entry()
    ok["secrets"] = {
        "redis_password": "P",
        "redis_username": "U",
        "redis_ca_cert": "C",
        "redis_client_key": "K",
    }
    CustomAddonConfig(**ok)
    ok["secrets"]["redis_cert"] = "X"
    with pytest.raises(ValidationError, match="redis_cert"):
        CustomAddonConfig(**ok)


def test_defaults() -> None:
    options = connection_options(config(id="orders cache"), Credentials())
    assert options["client_name"] == "rooms:orders-cache"
    assert options["health_check_interval"] == 30
    assert options["connection_class"] is AddonConnection
    assert options["retry"].get_retries() == 3
    assert config().max_connections == 50
    assert config(ssl=True).check_hostname() is True
    assert config(ssl=True, ssl_cert_reqs="none").check_hostname() is False


def test_url_parts_win_over_fields_and_secrets_win_over_url() -> None:
    url = f"redis://urluser:{URL_SECRET}@cache.example.com:6380/4"
    cfg = config(url=url, host="ignored", port=1, username="f")
    options = connection_options(cfg, Credentials())
    assert (options["host"], options["port"], options["db"]) == ("cache.example.com", 6380, 4)
    assert (options["username"], options["password"]) == ("urluser", URL_SECRET)
    won = connection_options(
        config(url=url), secrets(redis_password="secret-pw", redis_username="secret-user")
    )
    assert (won["username"], won["password"]) == ("secret-user", "secret-pw")
    field_user = connection_options(config(username="field-user"), secrets(redis_password="p"))
    assert field_user["username"] == "field-user"


def test_url_kinds_pick_the_connection_class() -> None:
    unix = connection_options(config(url="unix:///run/redis.sock?db=2"), Credentials())
    assert unix["connection_class"] is AddonUnixConnection
    assert (unix["path"], unix["db"]) == ("/run/redis.sock", 2)
    assert "host" not in unix
    assert "port" not in unix
    rediss = connection_options(config(url="rediss://h:6380"), Credentials())
    assert rediss["connection_class"] is AddonSSLConnection
    plain = connection_options(config(url="redis://h", ssl=True), Credentials())
    assert plain["connection_class"] is AddonConnection  # the url wins over ssl


def test_url_is_hidden_everywhere_in_the_config() -> None:
    cfg = config(url=f"rediss://u:{URL_SECRET}@cache.example.com:6380/1")
    for text in (repr(cfg), str(cfg), cfg.model_dump_json(), repr(cfg.model_dump())):
        assert URL_SECRET not in text
        assert "u:" not in text
    assert cfg.describe_target() == "Redis at cache.example.com:6380 (db 1)"
    assert config(url="unix:///s.sock").describe_target() == "Redis at unix socket /s.sock"
    assert config(url="redis://h?db=5").describe_target() == "Redis at h:6379 (db 5)"


def test_explicit_nulls_mean_defaults() -> None:
    cfg = config(url=None, ssl=True, ssl_check_hostname=None)
    assert cfg.url is None
    assert cfg.check_hostname() is True


def test_client_name_empty_sends_none() -> None:
    assert connection_options(config(client_name=""), Credentials())["client_name"] is None
    assert connection_options(config(client_name="mine"), Credentials())["client_name"] == "mine"


def test_pool_is_bounded_and_waits(tmp_path: Path) -> None:
    client = build_client(config(max_connections=7, socket_timeout=2), Credentials())
    pool = client.connection_pool
    assert isinstance(pool, AddonPool)
    assert (pool.max_connections, pool.timeout) == (7, 7)  # connect 5 s + socket 2 s
    close_client(client)


def test_client_key_secret_needs_a_certificate(tmp_path: Path) -> None:
    with pytest.raises(AddonError) as info:
        build_client(config(ssl=True), secrets(redis_client_key="-----BEGIN PRIVATE KEY-----"))
    assert info.value.code == 400
    assert "needs ssl_certfile" in info.value.message
    assert "PRIVATE KEY" not in info.value.message


def test_client_key_secret_file_is_private_and_removed(tmp_path: Path) -> None:
    cert = tmp_path / "client.pem"
    cert.write_text("cert")
    client = build_client(
        config(ssl=True, ssl_certfile=str(cert)), secrets(redis_client_key="KEY-TEXT")
    )
    key_path = Path(client.connection_pool.connection_kwargs["ssl_keyfile"])
    assert key_path.read_text() == "KEY-TEXT"
    assert key_path.stat().st_mode & 0o777 == 0o600
    close_client(client)
    assert not key_path.exists()
    close_client(client)  # twice is fine


def test_ca_secret_wins_over_inline_ca_data() -> None:
    client = build_client(
        config(ssl=True, ssl_ca_data="FROM-CONFIG"), secrets(redis_ca_cert="FROM-SECRET")
    )
    assert client.connection_pool.connection_kwargs["ssl_ca_data"] == "FROM-SECRET"
    close_client(client)


def test_embedded_mode_still_builds_and_closes() -> None:
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry(mode="embedded"))
    assert addon.set_key("k", "v").code == 200
    addon.close()


def chained(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__context__ = cause
    return outer


def verify_error(code: int) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_code = code
    return exc


def ssl_error(reason: str) -> ssl.SSLError:
    exc = ssl.SSLError(1, reason)
    exc.reason = reason
    return exc


@pytest.mark.parametrize(
    ("exc", "code", "says"),
    [
        pytest.param(
            chained(rx.ConnectionError("x"), verify_error(20)),
            503,
            "certificate not trusted: set ssl_ca_certs",
            id="untrusted",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), verify_error(62)),
            503,
            "ssl_check_hostname",
            id="hostname",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), verify_error(10)),
            503,
            "expired",
            id="expired",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), verify_error(7)),
            503,
            "X509 error 7",
            id="other-verify",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), ssl_error("WRONG_VERSION_NUMBER")),
            503,
            "does not speak TLS on this port",
            id="not-tls",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), ssl_error("TLSV13_ALERT_CERTIFICATE_REQUIRED")),
            503,
            "requires a client certificate",
            id="cert-required",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), ssl.SSLEOFError(8, "EOF")),
            503,
            "may require a client certificate",
            id="tls-eof",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), ssl_error("SOMETHING_ELSE")),
            503,
            "SOMETHING_ELSE",
            id="other-tls",
        ),
        pytest.param(
            ClosedBeforeReplyError("closed", tls=False), 503, "expects TLS", id="expects-tls"
        ),
        pytest.param(
            chained(rx.TimeoutError("x"), TLSHandshakeTimeoutError()),
            503,
            "does not speak TLS",
            id="handshake-timeout",
        ),
        pytest.param(
            chained(rx.ConnectionError("No connection available."), queue.Empty()),
            503,
            "raise max_connections",
            id="pool-exhausted",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), FileNotFoundError(2, "nope")),
            503,
            "no unix socket",
            id="unix-missing",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), PermissionError(13, "denied")),
            503,
            "permission denied on the unix socket",
            id="unix-permission",
        ),
        pytest.param(
            rx.NoPermissionError("this user has no permissions to run the 'set' command"),
            403,
            "may not run the SET command",
            id="noperm-command",
        ),
        pytest.param(
            rx.NoPermissionError("this user has no permissions to access one of the keys"),
            403,
            "outside the user's key patterns",
            id="noperm-key",
        ),
        pytest.param(
            rx.NoPermissionError("no permissions to run the 'client|setname' command"),
            403,
            'set client_name to ""',
            id="noperm-setname",
        ),
        pytest.param(
            rx.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
            409,
            "than get_key works on (WRONGTYPE)",
            id="wrongtype",
        ),
        pytest.param(
            rx.OutOfMemoryError("OOM command not allowed"), 507, "out of memory", id="oom"
        ),
        pytest.param(rx.AuthorizationError("denied"), 403, "denied the command", id="authz"),
    ],
)
def test_error_causes(exc: BaseException, code: int, says: str) -> None:
    got_code, message = describe(exc, "Redis at cache:6379 (db 0)", 2, "get_key")
    assert got_code == code
    assert says in message


def test_every_managed_redis_example_is_valid_and_run_by_a_test() -> None:
    """Each documented example (managed Redis, scaling out) loads, and some integration test runs
    it."""
    import re

    from managed_fixtures import DOCS, ROOT, readme_example

    names = re.findall(r"<!-- example: ([\w-]+) -->", "\n".join(p.read_text() for p in DOCS))
    assert {
        "url",
        "unix",
        "tls-ca-file",
        "tls-ca-secret",
        "mtls",
        "acl",
        "namespace",
        "pool",
    } <= set(names)
    from conftest import REAL_SERVER_FIXTURES

    real = re.compile(rf"\b({'|'.join(REAL_SERVER_FIXTURES)}): |pytest\.mark\.integration\b")
    texts = [p.read_text() for p in (ROOT / "tests").rglob("test_*.py")]
    tests = "".join(text for text in texts if real.search(text))  # integration test modules
    for name in names:
        example = readme_example(name)
        files = {k: __file__ for k in ("ssl_ca_certs", "ssl_certfile") if k in example["config"]}
        CustomAddonConfig(**readme_example(name, swap=files))
        assert f'"{name}"' in tests, f"no test runs the README example {name!r}"
