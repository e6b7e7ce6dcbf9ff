"""Locks: acquire_lock, release_lock, extend_lock. Cases take ``prefixed`` (key_prefix PREFIX, both
backends, tests/backends.py); two workers race for a lock on the real server."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from action_support import JOIN_TIMEOUT, PREFIX, failed, ok
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer


def test_lock_acquire_release_extend(prefixed: RedisRoomsAddon) -> None:
    raw = prefixed.client()
    held = ok(prefixed.acquire_lock("lock:job", ttl_ms=10_000))
    assert held.acquired
    assert held.token
    assert raw.get(PREFIX + "lock:job") == held.token
    assert 0 < raw.pttl(PREFIX + "lock:job") <= 10_000
    other = ok(prefixed.acquire_lock("lock:job", ttl_ms=10_000))
    assert (other.acquired, other.token) == (False, None)
    assert not ok(prefixed.release_lock("lock:job", "stale-token")).released
    assert not ok(prefixed.extend_lock("lock:job", "stale-token", ttl_ms=60_000)).extended
    assert raw.pttl(PREFIX + "lock:job") <= 10_000
    assert ok(prefixed.extend_lock("lock:job", held.token, ttl_ms=60_000)).extended
    assert raw.pttl(PREFIX + "lock:job") > 10_000
    assert ok(prefixed.release_lock("lock:job", held.token)).released
    assert raw.exists(PREFIX + "lock:job") == 0
    assert not ok(prefixed.release_lock("lock:job", held.token)).released  # released once only


def test_lock_wait_gets_it_when_it_expires(prefixed: RedisRoomsAddon) -> None:
    first = ok(prefixed.acquire_lock("lock:short", ttl_ms=200))
    started = time.monotonic()
    second = ok(prefixed.acquire_lock("lock:short", ttl_ms=5_000, wait_s=5))
    assert second.acquired
    assert second.token != first.token
    assert time.monotonic() - started < 5
    assert not ok(prefixed.release_lock("lock:short", first.token)).released  # stale token
    assert prefixed.client().get(PREFIX + "lock:short") == second.token


def test_lock_wait_gives_up(prefixed: RedisRoomsAddon) -> None:
    ok(prefixed.acquire_lock("lock:busy", ttl_ms=30_000))
    started = time.monotonic()
    assert not ok(prefixed.acquire_lock("lock:busy", ttl_ms=1000, wait_s=0.3)).acquired
    assert 0.25 <= time.monotonic() - started < 5


def test_lock_bad_input(prefixed: RedisRoomsAddon) -> None:
    for bad in ({"ttl_ms": 0}, {"ttl_ms": True}, {"wait_s": -1}, {"name": ""}):
        failed(prefixed.acquire_lock(**{"name": "l", "ttl_ms": 100, **bad}), 400)
    failed(prefixed.release_lock("l", ""), 400)
    failed(prefixed.extend_lock("l", "t", ttl_ms=0), 400)
    assert prefixed.client().exists(PREFIX + "l") == 0


def test_two_workers_racing_for_a_lock(real_prefixed: RedisRoomsAddon, server: RedisServer) -> None:
    barrier = threading.Barrier(2)

    def worker(_: int):
        barrier.wait(JOIN_TIMEOUT)
        return real_prefixed.acquire_lock("lock:invoice:9", ttl_ms=30_000)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(worker, range(2), timeout=JOIN_TIMEOUT)
    winner, loser = (first, second) if first.output.acquired else (second, first)
    assert winner.output.acquired
    assert not loser.output.acquired
    # The loser cannot release the winner's lock, even with a token of its own making.
    refused = real_prefixed.release_lock("lock:invoice:9", "loser-guess")
    assert (refused.code, refused.output.released) == (200, False)
    assert server.client().get(PREFIX + "lock:invoice:9") == winner.output.token
    assert real_prefixed.release_lock("lock:invoice:9", winner.output.token).output.released
    assert server.client().exists(PREFIX + "lock:invoice:9") == 0
