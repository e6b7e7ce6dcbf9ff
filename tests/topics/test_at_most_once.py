"""A reply lost after the server ran a write: the write is applied once, never resent unless
resending it changes nothing (issue 11, defect 1). A fault proxy lets each writing action's
command through to a real server and drops the server's reply."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import PASSWORD, SENTINEL_PASSWORD
from deployments import RedisCluster, SentinelDeployment, readme_entry
from faultproxy import FaultProxy
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

pytestmark = pytest.mark.integration  # some tests start their own redis-server

MAY_HAVE = "may have been applied"
HISTORY_MESSAGE = {"role": "user", "content": "hi"}


@pytest.fixture
def proxy(server: RedisServer) -> Iterator[FaultProxy]:
    with FaultProxy(server.port) as started:
        yield started


@pytest.fixture
def addon(proxy: FaultProxy, make_addon: Callable[..., RedisRoomsAddon]) -> RedisRoomsAddon:
    return make_addon(
        password=PASSWORD, host="127.0.0.1", port=proxy.port, socket_timeout=2, retry_attempts=3
    )


@dataclass
class Case:
    """One writing action run while the reply to ``arm`` is lost."""

    arm: str  # the command whose reply the proxy drops
    act: Callable[[RedisRoomsAddon], Any]
    check: Callable[[redis.Redis, RedisRoomsAddon], None]  # the write is applied exactly once
    code: int = 504  # 200: the command is safe to resend, and was
    prepare: Callable[[redis.Redis, RedisRoomsAddon], None] = lambda raw, addon: None
    sends: int = 1  # how many ``arm`` commands one try sends (a pipeline may send several)


def _eq(actual: Any, expected: Any) -> None:
    assert actual == expected


def _lock(raw: redis.Redis, addon: RedisRoomsAddon) -> None:
    """Take lock "L" (token kept in "token") and warm the lock scripts on another lock."""
    response = addon.acquire_lock("L", ttl_ms=60_000)
    assert response.code == 200
    raw.set("token", response.output.token)
    other = addon.acquire_lock("other", ttl_ms=60_000).output.token
    assert addon.extend_lock("other", other, ttl_ms=60_000).code == 200
    assert addon.release_lock("other", other).code == 200


CASES = [
    pytest.param(
        Case("SET", lambda a: a.set_key("k", "v"), lambda raw, a: _eq(raw.get("k"), "v"), 200),
        id="set_key-plain-resent",
    ),
    pytest.param(
        Case("SET", lambda a: a.set_key("k", "v", nx=True), lambda raw, a: _eq(raw.get("k"), "v")),
        id="set_key-nx",
    ),
    pytest.param(
        Case(
            "SET",
            lambda a: a.set_key("k", "v", xx=True),
            lambda raw, a: _eq(raw.get("k"), "v"),
            prepare=lambda raw, a: raw.set("k", "old"),
        ),
        id="set_key-xx",
    ),
    pytest.param(
        Case(
            "SET",
            lambda a: a.set_key("k", "v", get_previous=True),
            lambda raw, a: _eq(raw.get("k"), "v"),
            prepare=lambda raw, a: raw.set("k", "old"),
        ),
        id="set_key-get_previous",
    ),
    pytest.param(
        Case(
            "UNLINK",
            lambda a: a.delete_key("k"),
            lambda raw, a: _eq(raw.exists("k"), 0),
            prepare=lambda raw, a: raw.set("k", "v"),
        ),
        id="delete_key",
    ),
    pytest.param(
        Case(
            "UNLINK",
            lambda a: a.delete_key(keys=["k1", "k2"]),
            lambda raw, a: _eq(raw.exists("k1", "k2"), 0),
            prepare=lambda raw, a: raw.mset({"k1": "1", "k2": "2"}),
        ),
        id="delete_key-keys",
    ),
    pytest.param(
        Case(
            "MSET",
            lambda a: a.set_many({"a": "1", "b": "2"}),
            lambda raw, a: _eq(raw.mget("a", "b"), ["1", "2"]),
            200,
        ),
        id="set_many-resent",
    ),
    pytest.param(
        Case(
            "SET",
            lambda a: a.set_many({"a": "1", "b": "2"}, ex=600),
            lambda raw, a: _eq(raw.mget("a", "b"), ["1", "2"]),
            200,
            sends=2,
        ),
        id="set_many-ex-resent",
    ),
    pytest.param(
        Case(
            "SET",
            lambda a: a.set_many({"a": "1", "b": "2"}, nx=True),
            lambda raw, a: _eq(raw.mget("a", "b"), ["1", "2"]),
            sends=2,
        ),
        id="set_many-nx",
    ),
    pytest.param(
        Case(
            "UNLINK",
            lambda a: a.delete_matching("m:*"),
            lambda raw, a: _eq(raw.exists("m:1", "m:2", "keep"), 1),
            prepare=lambda raw, a: raw.mset({"m:1": "1", "m:2": "2", "keep": "3"}),
        ),
        id="delete_matching",
    ),
    pytest.param(
        Case(
            "EXPIRE",
            lambda a: a.expire_key("k", ex=600),
            lambda raw, a: _eq(0 < raw.ttl("k") <= 600, True),
            200,
            prepare=lambda raw, a: raw.set("k", "v"),
        ),
        id="expire_key-resent",
    ),
    pytest.param(
        Case(
            "PERSIST",
            lambda a: a.expire_key("k", persist=True),
            lambda raw, a: _eq(raw.ttl("k"), -1),
            prepare=lambda raw, a: raw.set("k", "v", ex=600),
        ),
        id="expire_key-persist",
    ),
    pytest.param(
        Case(
            "EVALSHA",
            lambda a: a.increment("c", by=1),
            lambda raw, a: _eq(raw.get("c"), "1"),
            prepare=lambda raw, a: a.increment("warm"),
        ),
        id="increment",
    ),
    pytest.param(
        Case(
            "EVALSHA",
            lambda a: a.rate_limit("r", limit=5, window_s=60),
            # one call counted, not two: the next call has 5 - 2 left
            lambda raw, a: _eq(a.rate_limit("r", limit=5, window_s=60).output.remaining, 3),
            prepare=lambda raw, a: a.rate_limit("warm", limit=5, window_s=60),
        ),
        id="rate_limit",
    ),
    pytest.param(
        Case(
            "EVALSHA",
            lambda a: a.list_push("q", ["a", "b"]),
            lambda raw, a: _eq(raw.lrange("q", 0, -1), ["a", "b"]),
            prepare=lambda raw, a: a.list_push("warm", ["x"]),
        ),
        id="list_push",
    ),
    pytest.param(
        Case(
            "LPOP",
            lambda a: a.list_pop("q", count=2),
            lambda raw, a: _eq(raw.lrange("q", 0, -1), ["c", "d", "e"]),
            prepare=lambda raw, a: raw.rpush("q", "a", "b", "c", "d", "e"),
        ),
        id="list_pop",
    ),
    pytest.param(
        Case(
            "RPOP",
            lambda a: a.list_pop("q", side="right"),
            lambda raw, a: _eq(raw.lrange("q", 0, -1), ["a", "b"]),
            prepare=lambda raw, a: raw.rpush("q", "a", "b", "c"),
        ),
        id="list_pop-one-right",
    ),
    pytest.param(
        Case(
            "EVALSHA",
            lambda a: a.hash_set("h", {"f": "v"}),
            lambda raw, a: _eq(raw.hgetall("h"), {"f": "v"}),
            prepare=lambda raw, a: a.hash_set("warm", {"f": "v"}),
        ),
        id="hash_set",
    ),
    pytest.param(
        Case(
            "HDEL",
            lambda a: a.hash_delete("h", ["f"]),
            lambda raw, a: _eq(raw.hgetall("h"), {"g": "w"}),
            prepare=lambda raw, a: raw.hset("h", mapping={"f": "v", "g": "w"}),
        ),
        id="hash_delete",
    ),
    pytest.param(
        Case(
            "EVALSHA",
            lambda a: a.release_lock("L", a.token),
            lambda raw, a: _eq(raw.exists("L"), 0),
            prepare=_lock,
        ),
        id="release_lock",
    ),
    pytest.param(
        Case(
            "EVALSHA",
            lambda a: a.extend_lock("L", a.token, ttl_ms=600_000),
            lambda raw, a: _eq(raw.pttl("L") > 60_000, True),
            prepare=_lock,
        ),
        id="extend_lock",
    ),
    pytest.param(
        Case(
            "EVALSHA",
            lambda a: a.history_append("s", [HISTORY_MESSAGE]),
            lambda raw, a: _eq(a.history_get("s").output.messages, [HISTORY_MESSAGE]),
            prepare=lambda raw, a: a.history_append("warm", [HISTORY_MESSAGE]),
        ),
        id="history_append",
    ),
    pytest.param(
        Case(
            "UNLINK",
            lambda a: a.history_clear("s"),
            lambda raw, a: _eq(a.history_get("s").output.messages, []),
            prepare=lambda raw, a: a.history_append("s", [HISTORY_MESSAGE]),
        ),
        id="history_clear",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_lost_reply_is_never_resent_unless_safe(
    case: Case, server: RedisServer, proxy: FaultProxy, addon: RedisRoomsAddon
) -> None:
    raw = server.client()
    case.prepare(raw, addon)
    addon.token = raw.get("token")  # type: ignore[attr-defined] - the lock cases' token
    before = len(proxy.seen)
    proxy.arm(case.arm)
    response = case.act(addon)
    assert proxy.dropped == [case.arm], "the fault was injected"
    assert response.code == case.code, response.message
    if case.code == 504:
        assert MAY_HAVE in response.message
        assert "check" in response.message.lower()
    tries = 2 if case.code == 200 else 1  # resent once when safe, else never
    assert proxy.seen[before:].count(case.arm) == case.sends * tries, proxy.seen
    case.check(raw, addon)


def test_lost_reply_of_publish_is_not_published_twice(
    server: RedisServer, proxy: FaultProxy, addon: RedisRoomsAddon
) -> None:
    pubsub = server.client().pubsub()
    pubsub.subscribe("ch")
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"
    proxy.arm("PUBLISH")
    response = addon.publish("ch", "m")
    assert proxy.dropped == ["PUBLISH"]
    assert response.code == 504, response.message
    assert MAY_HAVE in response.message
    assert addon.publish("ch", "after").code == 200  # a later call works on a new connection
    received = []
    for _ in range(50):  # bounded: both messages arrive well within this
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            received.append(message["data"])
        if len(received) == 2:
            break
    pubsub.close()
    assert received == ["m", "after"]


@pytest.mark.parametrize(
    ("arm", "act", "value"),
    [
        pytest.param("GET", lambda a: a.get_key("k"), "v", id="get_key"),
        pytest.param("LRANGE", lambda a: a.list_range("q"), ["a"], id="list_range"),
        pytest.param("HGETALL", lambda a: a.hash_get("h"), {"f": "v"}, id="hash_get"),
    ],
)
def test_lost_reply_of_a_read_is_resent(
    arm: str,
    act: Callable[[RedisRoomsAddon], Any],
    value: Any,
    server: RedisServer,
    proxy: FaultProxy,
    addon: RedisRoomsAddon,
) -> None:
    raw = server.client()
    raw.set("k", "v")
    raw.rpush("q", "a")
    raw.hset("h", "f", "v")
    proxy.arm(arm)
    response = act(addon)
    assert proxy.dropped == [arm]
    assert response.code == 200, response.message
    assert proxy.seen.count(arm) == 2
    output = response.output
    assert (output.value if arm == "GET" else output.values) == value


def test_connection_after_a_lost_reply_is_not_reused(
    server: RedisServer, proxy: FaultProxy, addon: RedisRoomsAddon
) -> None:
    """A reply that still arrives must never be read as the next command's answer."""
    raw = server.client()
    assert addon.increment("c").code == 200
    proxy.arm("EVALSHA")
    assert addon.increment("c").code == 504
    for expected in ("3", "4", "5"):
        response = addon.increment("c")
        assert response.code == 200, response.message
        assert str(response.output.value) == expected
    assert raw.get("c") == "5"


def test_write_that_times_out_is_not_resent_and_may_have_been_applied(
    server: RedisServer, proxy: FaultProxy, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(password=PASSWORD, host="127.0.0.1", port=proxy.port, socket_timeout=0.5)
    assert addon.increment("warm").code == 200
    proxy.hang = True
    proxy.arm("EVALSHA")
    response = addon.increment("c")
    assert response.code == 504
    assert "timeout" in response.message
    assert MAY_HAVE in response.message
    assert server.client().get("c") == "1"
    proxy.hang = False
    assert addon.increment("c").output.value == 2  # the timed-out connection was not reused


def test_read_that_times_out_keeps_the_timeout_answer(
    server: RedisServer, proxy: FaultProxy, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(password=PASSWORD, host="127.0.0.1", port=proxy.port, socket_timeout=0.5)
    proxy.hang = True
    proxy.arm("GET")
    response = addon.get_key("k")
    assert response.code == 504
    assert "did not answer within the timeout" in response.message
    assert MAY_HAVE not in response.message


def test_list_pop_cut_off_by_the_output_buffer_limit_pops_once(
    tmp_path: Path, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    """The server kills a connection whose reply outgrows its output buffer: the values it
    popped are gone, and the addon says so instead of popping 5 more on each retry."""
    small = RedisServer(
        tmp_path, password=PASSWORD, options=["--client-output-buffer-limit", "normal 512kb 0 0"]
    ).start()
    try:
        raw = small.client()
        raw.rpush("q", *[f"{i:02d}" + "x" * 200_000 for i in range(20)])
        addon = make_addon(
            password=PASSWORD, host="127.0.0.1", port=small.port, max_value_bytes=10_000_000
        )
        response = addon.list_pop("q", count=5)
        assert response.code == 504, response.message
        assert MAY_HAVE in response.message
        assert raw.llen("q") == 15  # popped once, not 4 times
        assert raw.lindex("q", 0).startswith("05")
    finally:
        small.stop()


def test_sentinel_list_pop_cut_off_by_the_output_buffer_limit_pops_once(
    sentinel_primary: SentinelDeployment,
) -> None:
    """The primary a sentinel names gets the same at-most-once connections."""
    primary = sentinel_primary.primary
    assert primary is not None
    raw = primary.client()
    raw.rpush("q", *[f"{i:02d}" + "x" * 200_000 for i in range(20)])
    previous = raw.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    raw.config_set("client-output-buffer-limit", "normal 512kb 0 0")
    addon = RedisRoomsAddon()
    try:
        entry = readme_entry(
            "sentinel", sentinels=sentinel_primary.addresses, max_value_bytes=10_000_000
        )
        assert addon.loadAddonConfig(entry)
        assert addon.loadCredentials(
            redis_password=PASSWORD, redis_sentinel_password=SENTINEL_PASSWORD
        )
        response = addon.list_pop("q", count=5)
        assert response.code == 504, response.message
        assert MAY_HAVE in response.message
        assert raw.llen("q") == 15
    finally:
        addon.close()
        raw.config_set("client-output-buffer-limit", previous)
        raw.delete("q")


def test_cluster_list_pop_cut_off_by_the_output_buffer_limit_pops_once(
    cluster: RedisCluster,
) -> None:
    """A cluster's node connections are at-most-once too (the cluster does not resend)."""
    raw = cluster.node_of("q").client()
    raw.rpush("q", *[f"{i:02d}" + "x" * 200_000 for i in range(20)])
    previous = raw.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    raw.config_set("client-output-buffer-limit", "normal 512kb 0 0")
    addon = RedisRoomsAddon()
    try:
        entry = readme_entry(
            "cluster", startup_nodes=cluster.startup_nodes[:3], max_value_bytes=10_000_000
        )
        assert addon.loadAddonConfig(entry)
        assert addon.loadCredentials(redis_password=PASSWORD)
        response = addon.list_pop("q", count=5)
        assert response.code == 504, response.message
        assert MAY_HAVE in response.message
        assert raw.llen("q") == 15
    finally:
        addon.close()
        raw.config_set("client-output-buffer-limit", previous)
        raw.delete("q")


def test_lost_reply_of_acquire_lock_is_settled_by_its_token(
    server: RedisServer, proxy: FaultProxy, addon: RedisRoomsAddon
) -> None:
    """acquire_lock is exactly-once: the key tells whether the lost SET NX took the lock."""
    proxy.arm("SET")
    response = addon.acquire_lock("L", ttl_ms=60_000)
    assert proxy.dropped == ["SET"]
    assert (response.code, response.output.acquired) == (200, True), response.message
    assert "confirmed by its token" in response.message
    assert server.client().get("L") == response.output.token
    assert proxy.seen.count("SET") == 1  # read back, never sent again


def test_lost_reply_of_acquire_lock_held_by_another_is_not_acquired(
    server: RedisServer, proxy: FaultProxy, addon: RedisRoomsAddon
) -> None:
    server.client().set("L", "someone-else", px=60_000)
    proxy.arm("SET")
    response = addon.acquire_lock("L", ttl_ms=60_000)
    assert (response.code, response.output.acquired) == (200, False), response.message
    assert server.client().get("L") == "someone-else"
