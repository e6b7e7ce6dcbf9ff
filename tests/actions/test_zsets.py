"""Sorted sets (zset_add, zset_increment, zset_range, zset_remove, zset_pop_due) on a real server,
a Redis Cluster and through Sentinel: zset_pop_due never hands a member to two takers."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from action_support import MakeAddon, ok
from redis_rooms_pkg.addon import RedisRoomsAddon

pytestmark = pytest.mark.integration


@pytest.fixture(params=["server", "cluster", "sentinel"])
def backend(request: pytest.FixtureRequest) -> str:
    """The deployments this module's tests run on (``make`` and ``addon`` follow it)."""
    return request.param


def test_zset_add_only_new_and_expiry(addon: RedisRoomsAddon) -> None:
    assert ok(addon.zset_add("z", {"a": 1, "b": 2.5}, ex=600)).added == 2
    assert ok(addon.zset_add("z", {"a": 10, "c": -3})).added == 1
    assert ok(addon.zset_add("z", {"a": 99, "d": "4"}, only_new=True)).added == 1
    raw = addon.client()
    assert raw.zrange("z", 0, -1, withscores=True) == [
        ("c", -3.0), ("b", 2.5), ("d", 4.0), ("a", 10.0),
    ]  # fmt: skip
    assert 0 < raw.ttl("z") <= 600


def test_zset_increment_builds_a_leaderboard(addon: RedisRoomsAddon) -> None:
    assert ok(addon.zset_increment("board", "ada", by=10)).score == 10
    assert ok(addon.zset_increment("board", "ada", by=-2.5)).score == 7.5
    assert ok(addon.zset_increment("board", "bob")).score == 1
    top = ok(addon.zset_range("board", reverse=True, with_scores=True, start=0, stop=9))
    assert (top.members, top.scores) == (["ada", "bob"], [7.5, 1.0])


def test_zset_range_by_rank_and_score(addon: RedisRoomsAddon) -> None:
    ok(addon.zset_add("z", {m: s for s, m in enumerate("abcdef")}))  # a=0 ... f=5
    assert ok(addon.zset_range("z")).members == list("abcdef")
    assert ok(addon.zset_range("z", start=-2)).members == ["e", "f"]
    assert ok(addon.zset_range("z", start=1, stop="2")).members == ["b", "c"]
    assert ok(addon.zset_range("z", reverse=True, stop=1)).members == ["f", "e"]
    limited = ok(addon.zset_range("z", limit=4))
    assert (limited.members, limited.truncated) == (list("abcd"), True)
    assert ok(addon.zset_range("z", limit=6)).truncated is False
    by_score = ok(addon.zset_range("z", by="score", start="(1", stop=3, with_scores=True))
    assert (by_score.members, by_score.scores) == (["c", "d"], [2.0, 3.0])
    down = ok(addon.zset_range("z", by="score", start=1, stop="+inf", reverse=True, limit=2))
    assert (down.members, down.truncated) == (["f", "e"], True)
    assert ok(addon.zset_range("z", start=4, stop=1)).members == []
    assert ok(addon.zset_range("missing", start=-3)).members == []


def test_zset_remove(addon: RedisRoomsAddon) -> None:
    ok(addon.zset_add("z", {"a": 1, "b": 2}))
    assert ok(addon.zset_remove("z", ["a", "x"])).removed == 1
    assert addon.client().zrange("z", 0, -1) == ["b"]


def test_zset_pop_due_takes_only_what_is_due(addon: RedisRoomsAddon) -> None:
    now = time.time()
    ok(addon.zset_add("later", {"past-1": now - 100, "past-2": now - 50, "future": now + 3600}))
    due = ok(addon.zset_pop_due("later", count=10))  # the server's clock
    assert (due.members, due.found) == (["past-1", "past-2"], True)
    assert due.now is not None
    assert ok(addon.zset_pop_due("later")).found is False
    by_now = ok(addon.zset_pop_due("later", now=now + 7200))
    assert by_now.members == ["future"]
    assert by_now.scores == [pytest.approx(now + 3600)]


def test_zset_pop_due_never_hands_a_member_to_two_takers(make: MakeAddon) -> None:
    addon = make()
    due = {f"job-{n}": n for n in range(2000)}
    for start in range(0, 2000, 500):
        ok(addon.zset_add("delayed", dict(list(due.items())[start : start + 500])))
    ok(addon.zset_add("delayed", {"not-yet": 10**10}))
    taken: Counter = Counter()
    lock = threading.Lock()
    errors: list[str] = []
    takers = [make() for _ in range(8)]

    def take(taker: RedisRoomsAddon) -> None:
        for _ in range(2000):  # bounded: each round takes at least one member or stops
            response = taker.zset_pop_due("delayed", now=5000, count=7)
            if response.code != 200:
                errors.append(response.message)
                return
            if not response.output.members:
                return
            with lock:
                taken.update(response.output.members)

    threads = [threading.Thread(target=take, args=(taker,)) for taker in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert set(taken) == set(due)
    assert set(taken.values()) == {1}
    assert addon.client().zrange("delayed", 0, -1) == ["not-yet"]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda a: a.zset_add("", {"a": 1}), id="add-empty-key"),
        pytest.param(lambda a: a.zset_add("z", {}), id="add-no-members"),
        pytest.param(lambda a: a.zset_add("z", {"a": float("nan")}), id="add-nan"),
        pytest.param(lambda a: a.zset_add("z", {"a": 1, "b": "NaN"}), id="add-nan-text"),
        pytest.param(lambda a: a.zset_add("z", {"a": float("inf")}), id="add-infinity"),
        pytest.param(lambda a: a.zset_add("z", {"a": "1e999"}), id="add-overflow-text"),
        pytest.param(lambda a: a.zset_add("z", {"a": True}), id="add-boolean"),
        pytest.param(lambda a: a.zset_add("z", {"a": 1}, ex=0), id="add-ex-0"),
        pytest.param(lambda a: a.zset_increment("z", "a", by=float("nan")), id="incr-nan"),
        pytest.param(lambda a: a.zset_increment("z", "", by=1), id="incr-empty-member"),
        pytest.param(lambda a: a.zset_range("z", start="first"), id="range-rank-text"),
        pytest.param(lambda a: a.zset_range("z", start=1.5), id="range-rank-fraction"),
        pytest.param(lambda a: a.zset_range("z", by="score", start="(x"), id="range-bad-bound"),
        pytest.param(lambda a: a.zset_range("z", by="score", stop="nan"), id="range-nan-bound"),
        pytest.param(lambda a: a.zset_range("z", by="ranking"), id="range-unknown-by"),
        pytest.param(lambda a: a.zset_range("z", limit=0), id="range-limit-0"),
        pytest.param(lambda a: a.zset_pop_due("z", now=-1), id="pop-now-negative"),
        pytest.param(lambda a: a.zset_pop_due("z", now=float("nan")), id="pop-now-nan"),
        pytest.param(lambda a: a.zset_pop_due("z", count=0), id="pop-count-0"),
        pytest.param(lambda a: a.zset_remove("z", []), id="remove-no-members"),
    ],
)
def test_bad_input_answers_400_and_writes_nothing(
    addon: RedisRoomsAddon, call: Callable[[RedisRoomsAddon], object]
) -> None:
    response = call(addon)
    assert response.code == 400, response.message
    assert "invalid input" in response.message
    assert addon.client().dbsize() == 0


def test_an_increment_that_would_overflow_writes_nothing(addon: RedisRoomsAddon) -> None:
    ok(addon.zset_add("z", {"a": 1.7e308}))
    response = addon.zset_increment("z", "a", by=1.7e308)
    assert response.code == 400, response.message
    assert response.output.score is None
    assert addon.client().zscore("z", "a") == 1.7e308


def test_read_only_refuses_writes_and_serves_reads(make: MakeAddon) -> None:
    addon = make(read_only=True)
    codes = [
        addon.zset_add("z", {"a": 1}).code,
        addon.zset_increment("z", "a").code,
        addon.zset_remove("z", ["a"]).code,
        addon.zset_pop_due("z").code,
        addon.zset_range("z").code,
    ]
    assert codes == [403, 403, 403, 403, 200]
