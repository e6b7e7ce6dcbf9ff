"""Sets (set_add, set_remove, set_contains, set_size, set_members) on a real server, a Redis
Cluster and through Sentinel: set_add reports each member new exactly once, however many write."""

from __future__ import annotations

import random
import threading
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


def test_set_add_reports_new_members_and_expires(addon: RedisRoomsAddon) -> None:
    first = ok(addon.set_add("seen", ["a", "b", "a"], ex=600))
    assert (first.new_members, first.added) == (["a", "b"], 2)
    second = ok(addon.set_add("seen", ["b", "c", 7]))
    assert (second.new_members, second.added) == (["c", "7"], 2)
    assert 0 < addon.client().ttl("seen") <= 600
    assert addon.client().smembers("seen") == {"a", "b", "c", "7"}


def test_dedupe_under_eight_concurrent_writers(make: MakeAddon) -> None:
    """8 writers add the same 400 members in different orders and batches: each member is
    reported new to exactly one of them."""
    members = [f"item-{n}" for n in range(400)]
    reported: Counter = Counter()
    lock = threading.Lock()
    errors: list[str] = []
    addons = [make() for _ in range(8)]

    def write(addon: RedisRoomsAddon, seed: int) -> None:
        order = members[:]
        random.Random(seed).shuffle(order)
        for start in range(0, len(order), 25):
            response = addon.set_add("dedupe", order[start : start + 25])
            if response.code != 200:
                errors.append(response.message)
                return
            with lock:
                reported.update(response.output.new_members)

    threads = [threading.Thread(target=write, args=(a, n)) for n, a in enumerate(addons)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert set(reported) == set(members)
    assert set(reported.values()) == {1}
    assert ok(addons[0].set_size("dedupe")).size == 400


def test_contains_size_remove(addon: RedisRoomsAddon) -> None:
    ok(addon.set_add("s", ["a", "b", "c"]))
    contains = ok(addon.set_contains("s", ["a", "x", "c"]))
    assert (contains.contains, contains.count) == ({"a": True, "x": False, "c": True}, 2)
    assert ok(addon.set_size("s")).size == 3
    assert ok(addon.set_size("missing")).size == 0
    assert ok(addon.set_remove("s", ["a", "x"])).removed == 1
    assert ok(addon.set_remove("s", "a")).removed == 0
    assert addon.client().smembers("s") == {"b", "c"}


def test_set_members_pages_through_every_member(addon: RedisRoomsAddon) -> None:
    members = {f"m{n}" for n in range(2500)}
    addon.client().sadd("big", *members)
    seen: list[str] = []
    cursor = "0"
    for _ in range(100):  # bounded: 2500 members in pages of about 100
        page = ok(addon.set_members("big", limit=100, cursor=cursor))
        assert page.members == sorted(page.members)
        seen += page.members
        cursor = page.cursor
        if not page.truncated:
            break
    assert cursor == "0"
    assert set(seen) == members
    small = ok(addon.set_members("missing"))
    assert (small.members, small.cursor, small.truncated) == ([], "0", False)


def test_key_prefix_applies(make: MakeAddon) -> None:
    addon = make(key_prefix="app:")
    ok(addon.set_add("s", ["a"]))
    assert addon.client().smembers("app:s") == {"a"}
    assert ok(addon.set_contains("s", "a")).contains == {"a": True}


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda a: a.set_add("", ["a"]), id="add-empty-key"),
        pytest.param(lambda a: a.set_add("s", []), id="add-no-members"),
        pytest.param(lambda a: a.set_add("s", ["a", ""]), id="add-empty-member"),
        pytest.param(lambda a: a.set_add("s", ["a", None]), id="add-null-member"),
        pytest.param(lambda a: a.set_add("s", ["a"], ex=0), id="add-ex-0"),
        pytest.param(lambda a: a.set_add("s", ["a"], ex=-5), id="add-ex-negative"),
        pytest.param(lambda a: a.set_add("s", ["a", True]), id="add-boolean-member"),
        pytest.param(lambda a: a.set_members("s", limit=0), id="members-limit-0"),
        pytest.param(lambda a: a.set_members("s", cursor="1:2"), id="members-cluster-cursor"),
        pytest.param(lambda a: a.set_contains("s", []), id="contains-no-members"),
    ],
)
def test_bad_input_answers_400_and_writes_nothing(
    addon: RedisRoomsAddon, call: Callable[[RedisRoomsAddon], object]
) -> None:
    response = call(addon)
    assert response.code == 400, response.message
    assert "invalid input" in response.message
    assert addon.client().dbsize() == 0


def test_a_key_of_another_type_answers_409(addon: RedisRoomsAddon) -> None:
    addon.client().set("s", "text")
    response = addon.set_add("s", ["a"])
    assert response.code == 409, response.message
    assert "get_key" in response.message
    assert addon.client().get("s") == "text"


def test_read_only_refuses_writes_and_serves_reads(make: MakeAddon) -> None:
    addon = make(read_only=True)
    codes = [
        addon.set_add("s", ["a"]).code,
        addon.set_remove("s", ["a"]).code,
        addon.set_contains("s", ["a"]).code,
        addon.set_size("s").code,
        addon.set_members("s").code,
    ]
    assert codes == [403, 403, 200, 200, 200]
