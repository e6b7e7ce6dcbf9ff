"""services.errors.describe: each failure kind gets its code and a message that says what to do."""

from __future__ import annotations

import socket
import ssl

import pytest
from redis import exceptions as rx

from redis_rooms_pkg.services.errors import AddonError, describe

TARGET = "Redis at cache:6379 (db 0)"


def chained(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "code", "says"),
    [
        pytest.param(AddonError(418, "custom"), 418, "custom", id="addon-error"),
        pytest.param(rx.AuthenticationError("invalid"), 401, "rejected the credentials", id="auth"),
        pytest.param(rx.NoPermissionError("NOPERM no perm for 'get'"), 403, "denied", id="noperm"),
        pytest.param(rx.BusyLoadingError("loading"), 503, "loading its dataset", id="loading"),
        pytest.param(rx.TimeoutError("Timeout"), 504, "2.5s socket_timeout", id="timeout"),
        pytest.param(
            chained(rx.ConnectionError("x"), socket.gaierror(-2, "Name unknown")),
            503,
            "host name not found",
            id="dns",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), ConnectionRefusedError(111, "refused")),
            503,
            "connection refused",
            id="refused",
        ),
        pytest.param(
            chained(rx.ConnectionError("x"), ssl.SSLError(1, "bad handshake")),
            503,
            "TLS handshake failed",
            id="tls",
        ),
        pytest.param(rx.ConnectionError("reset"), 503, "connection failed", id="conn-other"),
        pytest.param(
            rx.OutOfMemoryError("OOM command not allowed"), 507, "out of memory", id="oom"
        ),
        pytest.param(rx.ReadOnlyError("READONLY"), 503, "read-only replica", id="readonly"),
        pytest.param(
            rx.ResponseError("WRONGTYPE Operation against a key"),
            409,
            "different Redis type",
            id="wt",
        ),
        pytest.param(rx.ResponseError("ERR unknown command"), 502, "refused the command", id="err"),
        pytest.param(rx.ResponseError(""), 502, "refused the command", id="empty-reply"),
        pytest.param(rx.DataError("Invalid input of type"), 400, "invalid input", id="data"),
        pytest.param(
            UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
            422,
            "UTF-8",
            id="utf8",
        ),
        pytest.param(KeyError("boom"), 500, "unexpected KeyError", id="bug"),
    ],
)
def test_describe(exc: BaseException, code: int, says: str) -> None:
    got_code, message = describe(exc, TARGET, 2.5)
    assert got_code == code
    assert says in message


def test_connection_messages_name_the_target() -> None:
    _, message = describe(rx.ConnectionError("x"), TARGET, 5)
    assert message.startswith(f"cannot reach {TARGET}")
