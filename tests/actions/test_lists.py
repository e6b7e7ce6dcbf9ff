"""Lists: list_push, list_pop (blocking included), list_range, list_length. Cases take ``prefixed``
/ ``limited`` (key_prefix PREFIX, both backends, tests/backends.py); the pops racing a
push run on the real server."""

from __future__ import annotations

import threading
import time

import pytest

from action_support import JOIN_TIMEOUT, LIMIT, PREFIX, RAW, failed, ok
from redis_rooms_pkg.actions.list_pop import MAX_WAIT, block_slice
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

# --- list_push --------------------------------------------------------------------------------


def test_list_push_orders_encodes_and_expires(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    assert ok(prefixed.list_push("q", ["a", 2, {"job": 1}])).length == 3
    assert ok(prefixed.list_push("q", "b", ex=30)).length == 4  # one value as a template gives it
    assert raw.lrange(PREFIX + "q", 0, -1) == ["a", "2", '{"job":1}', "b"]
    assert 0 < raw.ttl(PREFIX + "q") <= 30
    assert ok(prefixed.list_push("q", ["z", "y"], side="left")).length == 6
    assert raw.lrange(PREFIX + "q", 0, 1) == ["y", "z"]


def test_list_push_max_length_keeps_the_newest(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    ok(prefixed.list_push("recent", [1, 2, 3]))
    assert ok(prefixed.list_push("recent", [4, 5], max_length=3)).length == 3
    assert raw.lrange(PREFIX + "recent", 0, -1) == ["3", "4", "5"]
    assert ok(prefixed.list_push("recent", [6], side="left", max_length=2)).length == 2
    assert raw.lrange(PREFIX + "recent", 0, -1) == ["6", "3"]


def test_list_push_refuses_bad_input_and_wrong_type(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    for bad in ({"values": []}, {"side": "middle"}, {"max_length": 0}, {"values": [None]}):
        params = {"key": "q", "values": ["a"], **bad}
        failed(prefixed.list_push(**params), 400)
    assert raw.exists(PREFIX + "q") == 0
    raw.set(PREFIX + "s", "text")
    failed(prefixed.list_push("s", ["a"], ex=5), 409)
    assert raw.ttl(PREFIX + "s") == -1  # the script stopped before the expiry


def test_list_push_refuses_a_value_over_the_limit(limited: RedisRoomsAddon) -> None:
    assert ok(limited.list_push("q", ["x" * LIMIT])).length == 1
    message = failed(limited.list_push("q", ["small", "y" * (LIMIT + 1)]), 413)
    assert "max_value_bytes" in message
    assert limited.client().lrange(PREFIX + "q", 0, -1) == ["x" * LIMIT]  # nothing of the batch


# --- list_pop ---------------------------------------------------------------------------------


def test_list_pop_takes_in_order(prefixed: RedisRoomsAddon) -> None:
    ok(prefixed.list_push("q", ["a", "b", "c", "d"]))
    assert ok(prefixed.list_pop("q")).values == ["a"]
    assert ok(prefixed.list_pop("q", side="right", count=2)).values == ["d", "c"]
    last = ok(prefixed.list_pop("q", count=10))
    assert (last.values, last.found) == (["b"], True)
    empty = ok(prefixed.list_pop("q"))
    assert (empty.values, empty.found) == ([], False)
    assert prefixed.client().exists(PREFIX + "q") == 0


def test_list_pop_waits_then_gives_up(prefixed: RedisRoomsAddon) -> None:
    started = time.monotonic()
    out = ok(prefixed.list_pop("idle", wait_s=0.3))
    waited = time.monotonic() - started
    assert (out.values, out.found) == ([], False)
    assert 0.25 <= waited < 5  # waited about wait_s, and did not hang


def test_list_pop_wait_with_ready_values_returns_them(prefixed: RedisRoomsAddon) -> None:
    ok(prefixed.list_push("ready", ["a", "b", "c"]))
    out = ok(prefixed.list_pop("ready", count=2, wait_s=5))
    assert out.values == ["a", "b"]


def test_list_pop_bad_input(prefixed: RedisRoomsAddon) -> None:
    for bad in ({"count": 0}, {"count": True}, {"wait_s": -1}, {"wait_s": 61}, {"side": "up"}):
        failed(prefixed.list_pop(**{"key": "q", **bad}), 400)


def test_list_pop_puts_back_values_that_are_not_text(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    raw.rpush(PREFIX + "bin", "a", b"\xff\xfe", "c")
    assert "put back" in failed(prefixed.list_pop("bin", count=3), 422)
    assert raw.llen(PREFIX + "bin") == 3
    assert raw.execute_command("LINDEX", PREFIX + "bin", 1, **RAW) == b"\xff\xfe"
    assert raw.execute_command("LINDEX", PREFIX + "bin", 0, **RAW) == b"a"
    assert failed(prefixed.list_pop("bin", side="right", count=2), 422)
    assert [raw.execute_command("LINDEX", PREFIX + "bin", i, **RAW) for i in range(3)] == [
        b"a",
        b"\xff\xfe",
        b"c",
    ]


@pytest.mark.parametrize(
    ("socket_timeout", "slice_s"),
    [
        pytest.param(5, 4, id="default"),
        pytest.param(1.5, 0.75, id="short"),
        pytest.param(0.05, 0.025, id="tiny"),
        pytest.param(None, MAX_WAIT, id="unbounded-socket"),
    ],
)
def test_blocking_slices_end_before_the_socket_timeout(
    socket_timeout: float | None, slice_s: float
) -> None:
    assert block_slice(socket_timeout) == pytest.approx(slice_s)


def test_blocking_pop_returns_as_soon_as_another_client_pushes(
    real_prefixed: RedisRoomsAddon, server: RedisServer
) -> None:
    def push_later() -> None:
        time.sleep(0.3)
        server.client().rpush(PREFIX + "jobs", "job-1", "job-2")

    pusher = threading.Thread(target=push_later)
    started = time.monotonic()
    pusher.start()
    out = real_prefixed.list_pop("jobs", count=2, wait_s=20)
    took = time.monotonic() - started
    pusher.join(JOIN_TIMEOUT)
    assert out.code == 200, out.message
    assert out.output.values == ["job-1", "job-2"]
    assert took < 10  # long before wait_s: it returned on the push


def test_blocking_pop_longer_than_the_socket_timeout_does_not_time_out(
    real_prefixed: RedisRoomsAddon,
) -> None:
    # socket_timeout is 2s: the 2.5s wait runs as several shorter blocking calls.
    started = time.monotonic()
    out = real_prefixed.list_pop("quiet", wait_s=2.5)
    took = time.monotonic() - started
    assert out.code == 200, out.message
    assert out.output.found is False
    assert 2.4 <= took < 10


# --- list_range, list_length ------------------------------------------------------------------


def test_list_range_and_length(prefixed: RedisRoomsAddon) -> None:
    ok(prefixed.list_push("log", ["a", "b", "c", "d"]))
    assert ok(prefixed.list_range("log")).values == ["a", "b", "c", "d"]
    window = ok(prefixed.list_range("log", start=1, stop=2))
    assert (window.values, window.count) == (["b", "c"], 2)
    assert ok(prefixed.list_range("log", start=-2)).values == ["c", "d"]
    assert ok(prefixed.list_range("none")).values == []
    assert ok(prefixed.list_length("log")).length == 4
    assert ok(prefixed.list_length("none")).length == 0
    prefixed.client().set(PREFIX + "s", "x")
    failed(prefixed.list_length("s"), 409)
