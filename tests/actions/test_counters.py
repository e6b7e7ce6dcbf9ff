"""Counters: increment and rate_limit. Cases take ``prefixed`` (key_prefix PREFIX, both backends,
tests/backends.py); the races run on the real server."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from action_support import JOIN_TIMEOUT, PREFIX, THREADS, failed, ok
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

# --- increment --------------------------------------------------------------------------------


def test_increment_creates_with_ttl_then_counts(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    first = ok(prefixed.increment("hits", ex=60))
    assert (first.value, first.created) == (1, True)
    assert 0 < raw.ttl(PREFIX + "hits") <= 60
    raw.expire(PREFIX + "hits", 1000)  # a later call with ex must not reset the expiry
    second = ok(prefixed.increment("hits", by=5, ex=60))
    assert (second.value, second.created) == (6, False)
    assert raw.ttl(PREFIX + "hits") > 60
    assert ok(prefixed.increment("hits", by=-10)).value == -4
    assert raw.get(PREFIX + "hits") == "-4"


def test_increment_float_and_template_strings(prefixed: RedisRoomsAddon) -> None:
    out = ok(prefixed.increment("cost", by=0.25))
    assert out.value == 0.25
    assert isinstance(out.value, float)
    assert ok(prefixed.increment("cost", by="1.5")).value == 1.75
    counted = ok(prefixed.increment("n", by="3", ex="30"))
    assert (counted.value, counted.created) == (3, True)
    assert isinstance(counted.value, int)
    assert prefixed.client().ttl(PREFIX + "n") > 0


def test_increment_without_ex_never_expires(prefixed: RedisRoomsAddon) -> None:
    ok(prefixed.increment("forever"))
    assert prefixed.client().ttl(PREFIX + "forever") == -1


def test_increment_refuses_non_numbers(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    raw.set(PREFIX + "name", "Ada")
    assert "cannot be incremented" in failed(prefixed.increment("name"), 409)
    assert raw.get(PREFIX + "name") == "Ada"
    raw.rpush(PREFIX + "list", "x")
    failed(prefixed.increment("list"), 409)
    for bad in ({"by": True}, {"by": "x"}, {"by": float("nan")}, {"ex": 0}, {"key": ""}):
        params = {"key": "fresh", **bad}
        failed(prefixed.increment(**params), 400)
    assert raw.exists(PREFIX + "fresh") == 0


def test_concurrent_increments_with_ex_never_leave_a_counter_without_ttl(
    real_prefixed: RedisRoomsAddon, server: RedisServer
) -> None:
    raw = server.client()
    for round_ in range(5):  # each round races to create a fresh counter
        key = f"race:{round_}"
        with ThreadPoolExecutor(THREADS) as pool:
            calls = [pool.submit(real_prefixed.increment, key, ex=60) for _ in range(THREADS)]
            responses = [call.result(JOIN_TIMEOUT) for call in calls]
        assert all(r.code == 200 for r in responses)
        assert sum(r.output.created for r in responses) == 1
        assert sorted(r.output.value for r in responses) == list(range(1, THREADS + 1))
        assert raw.get(PREFIX + key) == str(THREADS)
        assert 0 < raw.ttl(PREFIX + key) <= 60


# --- rate_limit -------------------------------------------------------------------------------


def test_rate_limit_allows_limit_then_denies(prefixed: RedisRoomsAddon) -> None:
    seen = [ok(prefixed.rate_limit("api", limit=3, window_s=60)) for _ in range(5)]
    assert [o.allowed for o in seen] == [True, True, True, False, False]
    assert [o.remaining for o in seen] == [2, 1, 0, 0, 0]
    assert all(0 < o.reset_in <= 60 for o in seen)
    assert prefixed.client().zcard(PREFIX + "api") == 3  # denied calls are not recorded
    assert 0 < prefixed.client().pttl(PREFIX + "api") <= 60_000


def test_rate_limit_window_slides(prefixed: RedisRoomsAddon) -> None:
    assert ok(prefixed.rate_limit("slide", limit=1, window_s=0.3)).allowed
    denied = ok(prefixed.rate_limit("slide", limit=1, window_s=0.3))
    assert not denied.allowed
    assert 0 < denied.reset_in <= 0.3
    time.sleep(denied.reset_in + 0.05)
    assert ok(prefixed.rate_limit("slide", limit=1, window_s=0.3)).allowed


def test_rate_limit_bad_input(prefixed: RedisRoomsAddon) -> None:
    for bad in ({"limit": 0}, {"window_s": 0}, {"limit": "many"}, {"limit": True}):
        params = {"key": "x", "limit": 2, "window_s": 1, **bad}
        failed(prefixed.rate_limit(**params), 400)
    assert prefixed.client().exists(PREFIX + "x") == 0


def test_rate_limit_allows_exactly_limit_of_200_concurrent_calls(
    real_prefixed: RedisRoomsAddon,
) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        responses = list(
            pool.map(
                lambda _: real_prefixed.rate_limit("openai", limit=37, window_s=60),
                range(200),
                timeout=JOIN_TIMEOUT,
            )
        )
    assert all(r.code == 200 for r in responses)
    assert sum(r.output.allowed for r in responses) == 37
    assert sorted(r.output.remaining for r in responses if r.output.allowed) == list(range(37))
