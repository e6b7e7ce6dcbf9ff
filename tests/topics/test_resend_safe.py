"""Which commands the connections may resend after a lost reply (issue 11, defect 1)."""

from __future__ import annotations

import pytest

from redis_rooms_pkg.services.client import resend_safe


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("GET", "k"), id="get"),
        pytest.param((b"LRANGE", b"q", 0, -1), id="bytes-read"),
        pytest.param(("SET", "k", "v"), id="set-plain"),
        pytest.param(("SET", "k", "NX", "EX", 10), id="set-value-NX-is-a-value"),
        pytest.param(("SET", "k", "v", "EX", 10), id="set-ex"),
        pytest.param(("MSET", "a", "1", "b", "2"), id="mset"),
        pytest.param(("EXPIRE", "k", 10), id="expire"),
        pytest.param(("CLIENT SETNAME", "rooms:x"), id="client-setname"),
        pytest.param(("MULTI",), id="multi"),
    ],
)
def test_safe_to_resend(args: tuple) -> None:
    assert resend_safe(args)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("SET", "k", "v", "NX"), id="set-nx"),
        pytest.param(("SET", "k", "v", "xx"), id="set-xx-lower"),
        pytest.param(("SET", "k", "v", "GET"), id="set-get"),
        pytest.param(("SET", "k", "v", "PX", 5, "NX"), id="set-px-nx"),
        pytest.param(("EXPIRE", "k", 10, "GT"), id="expire-gt"),
        pytest.param(("PERSIST", "k"), id="persist-answer-changes"),
        pytest.param(("DEL", "k"), id="del"),
        pytest.param(("UNLINK", "k"), id="unlink"),
        pytest.param(("INCRBY", "k", 1), id="incrby"),
        pytest.param(("RPUSH", "q", "v"), id="rpush"),
        pytest.param(("LPOP", "q"), id="lpop"),
        pytest.param(("HSET", "h", "f", "v"), id="hset-counts-new-fields"),
        pytest.param(("HDEL", "h", "f"), id="hdel"),
        pytest.param(("EVALSHA", "abc", 1, "k"), id="evalsha"),
        pytest.param(("PUBLISH", "ch", "m"), id="publish"),
        pytest.param(("FLUSHALL",), id="unknown-is-unsafe"),
        pytest.param((), id="empty"),
    ],
)
def test_never_resent(args: tuple) -> None:
    assert not resend_safe(args)
