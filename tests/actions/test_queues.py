"""Queues on Redis Streams (queue_add, queue_take, queue_ack, queue_fail, queue_info) on a real
server, a Redis Cluster and through Sentinel: no job is lost, none is finished twice."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from action_support import MakeAddon, ok
from backends import addon_factory
from conftest import PASSWORD
from faultproxy import FaultProxy
from redis_rooms_pkg.actions.queue_take import DEAD_REASON
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer, add_acl_user

pytestmark = pytest.mark.integration

POLL = 0.1  # s, pause between takes while waiting for a job to become reclaimable
POLL_LIMIT = 100  # takes at most (10 s): a job pending 0.2 s is reclaimable long before


@pytest.fixture(params=["server", "cluster", "sentinel"])
def backend(request: pytest.FixtureRequest) -> str:
    """The deployments this module's tests run on (``make`` and ``addon`` follow it)."""
    return request.param


def take_when_reclaimable(addon: RedisRoomsAddon, queue: str, **options: object) -> list[dict]:
    """queue_take until a job comes (bounded: POLL_LIMIT takes)."""
    for _ in range(POLL_LIMIT):
        jobs = ok(addon.queue_take(queue, **options)).jobs
        if jobs:
            return jobs
        time.sleep(POLL)
    raise AssertionError(f"no job became reclaimable after {POLL_LIMIT} takes")


# --- at least once: a consumer that dies loses nothing ------------------------------------------


def test_a_job_taken_by_a_consumer_that_dies_goes_to_another(make: MakeAddon) -> None:
    producer, dying, survivor = make(), make(id="dying"), make(id="survivor")
    job_id = ok(producer.queue_add("thumbs", {"image": "cat.png"})).id
    (taken,) = ok(dying.queue_take("thumbs")).jobs
    assert taken == {"id": job_id, "job": {"image": "cat.png"}, "deliveries": 1}
    dying.close()  # it never acknowledges
    # not handed out again while it may still be worked on...
    assert ok(survivor.queue_take("thumbs", reclaim_after_s=60)).jobs == []
    # ...but once it has been pending reclaim_after_s, to the next consumer, delivered twice
    (again,) = take_when_reclaimable(survivor, "thumbs", reclaim_after_s=0.2)
    assert again == {"id": job_id, "job": {"image": "cat.png"}, "deliveries": 2}
    assert ok(survivor.queue_ack("thumbs", [job_id])).acked == 1
    info = ok(survivor.queue_info("thumbs"))
    assert (info.length, info.pending, info.dead) == (0, 0, 0)


@pytest.fixture(params=["embedded", "server", "cluster", "sentinel"])
def anywhere(request: pytest.FixtureRequest, make_addon: MakeAddon) -> RedisRoomsAddon:
    """One addon on each deployment, the embedded Redis (fakeredis) too."""
    return addon_factory(request, make_addon, request.param)()


def take_until_moved_to_dead(addon: RedisRoomsAddon, queue: str, **options: object) -> object:
    """queue_take until one moves a job to the dead-letter queue (bounded: POLL_LIMIT takes);
    that take's output. A take that hands out a job instead fails the test."""
    for _ in range(POLL_LIMIT):
        time.sleep(POLL)
        taken = ok(addon.queue_take(queue, **options))
        assert taken.jobs == [], f"handed out again: {taken.jobs}"
        if taken.moved_to_dead:
            return taken
    raise AssertionError(f"no job was moved to the dead-letter queue after {POLL_LIMIT} takes")


def test_a_job_whose_consumers_keep_dying_lands_in_the_dead_queue_once(
    anywhere: RedisRoomsAddon,
) -> None:
    """Each consumer takes the job and dies without a word (no queue_ack, no queue_fail): it is
    handed out max_deliveries times (5 by default), then moved to the dead-letter queue once."""
    addon = anywhere
    job_id = ok(addon.queue_add("mail", {"to": "ada@example.com"})).id
    (first,) = ok(addon.queue_take("mail", consumer="crash-1")).jobs
    deliveries = [first["deliveries"]]
    for n in range(2, 6):
        (job,) = take_when_reclaimable(addon, "mail", consumer=f"crash-{n}", reclaim_after_s=0.05)
        assert job["id"] == job_id
        deliveries.append(job["deliveries"])
    assert deliveries == [1, 2, 3, 4, 5]
    moved = take_until_moved_to_dead(addon, "mail", consumer="crash-6", reclaim_after_s=0.05)
    assert (moved.moved_to_dead, moved.moved_to_dead_ids) == (1, [job_id])
    assert (moved.found, moved.count) == (False, 0)
    assert "dead-letter" in moved.message
    # never handed out again, never moved twice
    time.sleep(0.1)
    again = ok(addon.queue_take("mail", consumer="crash-7", reclaim_after_s=0.05))
    assert (again.jobs, again.moved_to_dead, again.moved_to_dead_ids) == ([], 0, [])
    dead = addon.client().xrange("{mail}:dead")
    assert len(dead) == 1
    fields = dead[0][1]
    assert json.loads(fields["job"]) == {"to": "ada@example.com"}
    assert (fields["id"], fields["deliveries"]) == (job_id, "5")
    assert fields["reason"] == DEAD_REASON
    info = ok(addon.queue_info("mail"))
    assert (info.length, info.pending, info.dead) == (0, 0, 1)


def test_jobs_moved_to_the_dead_queue_do_not_use_up_count(anywhere: RedisRoomsAddon) -> None:
    """Three jobs handed out once each (max_deliveries=1) by a consumer that died, then a new
    one: one take with count=1 buries the three and still hands out the new job."""
    addon = anywhere
    buried = [ok(addon.queue_add("q", {"n": n})).id for n in range(3)]
    assert len(ok(addon.queue_take("q", count=3, consumer="dies")).jobs) == 3
    fresh = ok(addon.queue_add("q", {"n": 3})).id
    time.sleep(0.1)  # the three have been pending longer than reclaim_after_s
    taken = ok(addon.queue_take("q", reclaim_after_s=0.05, max_deliveries=1))
    assert [(job["id"], job["deliveries"]) for job in taken.jobs] == [(fresh, 1)]
    assert (taken.moved_to_dead, taken.moved_to_dead_ids) == (3, buried)
    dead = addon.client().xrange("{q}:dead")
    assert [(fields["id"], fields["deliveries"]) for _, fields in dead] == [
        (job_id, "1") for job_id in buried
    ]


def test_a_job_under_max_deliveries_is_handed_out_again(anywhere: RedisRoomsAddon) -> None:
    addon = anywhere
    job_id = ok(addon.queue_add("q", {"n": 1})).id
    ok(addon.queue_take("q", consumer="dies"))
    (again,) = take_when_reclaimable(addon, "q", reclaim_after_s=0.05, max_deliveries=2)
    assert (again["id"], again["deliveries"]) == (job_id, 2)
    assert addon.client().xlen("{q}:dead") == 0


def test_the_lower_max_deliveries_of_take_and_fail_wins(anywhere: RedisRoomsAddon) -> None:
    """queue_fail allows 3 deliveries, queue_take 2: the take that would hand the job out a
    third time moves it to the dead-letter queue, with take's reason."""
    addon = anywhere
    job_id = ok(addon.queue_add("q", {"n": 1})).id
    for attempt in (1, 2):
        (job,) = ok(addon.queue_take("q", max_deliveries=2)).jobs
        assert (job["id"], job["deliveries"]) == (job_id, attempt)
        failed = ok(addon.queue_fail("q", job_id, max_deliveries=3, reason="flaky"))
        assert (failed.dead, failed.deliveries) == (False, attempt)
    taken = ok(addon.queue_take("q", max_deliveries=2))  # given back: reclaimable at once
    assert (taken.jobs, taken.moved_to_dead_ids) == ([], [job_id])
    ((_, fields),) = addon.client().xrange("{q}:dead")
    assert (fields["id"], fields["deliveries"]) == (job_id, "2")
    assert fields["reason"] == (
        "handed out max_deliveries times, never finished (moved by queue_take)"
    )  # as documented


def test_consumer_name_defaults_to_the_addon_id(make: MakeAddon) -> None:
    addon = make(id="thumbnailer")
    ok(addon.queue_add("q", {"n": 1}))
    ok(addon.queue_take("q"))
    consumers = addon.client().xinfo_consumers("{q}", "workers")
    assert [consumer["name"] for consumer in consumers] == ["thumbnailer"]
    ok(addon.queue_add("q", {"n": 2}))
    ok(addon.queue_take("q", consumer="night-shift"))
    names = {consumer["name"] for consumer in addon.client().xinfo_consumers("{q}", "workers")}
    assert names == {"thumbnailer", "night-shift"}


def test_failing_past_max_deliveries_lands_in_the_dead_queue_once(addon: RedisRoomsAddon) -> None:
    job_id = ok(addon.queue_add("mail", {"to": "ada@example.com"})).id
    outcomes = []
    for attempt in range(1, 4):
        (job,) = ok(addon.queue_take("mail")).jobs  # a retry is claimable at once
        assert (job["id"], job["deliveries"]) == (job_id, attempt)
        failed = ok(addon.queue_fail("mail", job_id, max_deliveries=3, reason="smtp down"))
        outcomes.append((failed.pending, failed.dead, failed.deliveries))
    assert outcomes == [(True, False, 1), (True, False, 2), (True, True, 3)]
    # failing it again (a retried step) finds nothing pending and moves nothing
    again = ok(addon.queue_fail("mail", job_id, max_deliveries=3, reason="smtp down"))
    assert (again.pending, again.dead) == (False, False)
    assert ok(addon.queue_take("mail")).jobs == []
    dead = addon.client().xrange("{mail}:dead")
    assert len(dead) == 1
    fields = dead[0][1]
    assert json.loads(fields["job"]) == {"to": "ada@example.com"}
    assert (fields["id"], fields["deliveries"], fields["reason"]) == (job_id, "3", "smtp down")
    info = ok(addon.queue_info("mail"))
    assert (info.length, info.pending, info.dead) == (0, 0, 1)


def test_fail_with_an_id_without_its_sequence_acts_on_that_job_only(
    anywhere: RedisRoomsAddon,
) -> None:
    """ "5" is the job 5-0 (as for XACK and XDEL), not every job added in millisecond 5: failing
    it leaves the pending job 5-1 and the new job 5-0 as they were."""
    raw = anywhere.client()
    raw.xadd("{q}", {"job": json.dumps({"n": 0})}, id="5-0")
    raw.xadd("{q}", {"job": json.dumps({"n": 1})}, id="5-1")
    raw.xgroup_create("{q}", "workers", id="5-0")  # 5-0 is never handed out to this group
    (job,) = ok(anywhere.queue_take("q")).jobs
    assert job["id"] == "5-1"
    failed = ok(anywhere.queue_fail("q", "5", max_deliveries=1))
    assert (failed.pending, failed.dead) == (False, False)
    assert [entry_id for entry_id, _ in raw.xrange("{q}")] == ["5-0", "5-1"]
    assert raw.xlen("{q}:dead") == 0
    assert raw.xpending("{q}", "workers")["pending"] == 1


def test_ack_twice_finishes_once(addon: RedisRoomsAddon) -> None:
    ids = [ok(addon.queue_add("q", {"n": n})).id for n in range(3)]
    assert len(ok(addon.queue_take("q", count=3)).jobs) == 3
    first = ok(addon.queue_ack("q", ids[:2]))
    second = ok(addon.queue_ack("q", ids))
    assert (first.acked, first.not_pending) == (2, [])
    assert (second.acked, second.not_pending) == (1, ids[:2])
    assert addon.client().xlen("{q}") == 0


def test_ack_leaves_a_job_never_taken(addon: RedisRoomsAddon) -> None:
    job_id = ok(addon.queue_add("q", {"n": 1})).id
    assert ok(addon.queue_ack("q", [job_id])).not_pending == [job_id]
    assert ok(addon.queue_take("q")).jobs[0]["id"] == job_id


def test_take_waits_for_a_new_job(addon: RedisRoomsAddon, make: MakeAddon) -> None:
    producer = make()
    ok(producer.queue_info("q"))
    timer = threading.Timer(0.3, lambda: producer.queue_add("q", {"late": True}))
    timer.start()
    try:
        taken = ok(addon.queue_take("q", wait_s=10))
    finally:
        timer.join()
    assert [job["job"] for job in taken.jobs] == [{"late": True}]


def test_take_without_jobs_answers_found_false(addon: RedisRoomsAddon) -> None:
    taken = ok(addon.queue_take("empty", wait_s=0.2))
    assert (taken.found, taken.count, taken.jobs) == (False, 0, [])
    assert ok(addon.queue_info("empty")).group_exists is True  # made on first use


def test_queue_info_counts(addon: RedisRoomsAddon) -> None:
    assert ok(addon.queue_info("q")).model_dump() == {
        "message": ok(addon.queue_info("q")).message,
        "queue": "q",
        "length": 0,
        "pending": 0,
        "new": 0,
        "consumers": 0,
        "oldest_pending_s": None,
        "dead": 0,
        "group_exists": False,
    }
    for n in range(5):
        ok(addon.queue_add("q", {"n": n}))
    ok(addon.queue_take("q", count=2, consumer="a"))
    info = ok(addon.queue_info("q"))
    assert (info.length, info.pending, info.new, info.consumers) == (5, 2, 3, 1)
    assert info.oldest_pending_s is not None
    assert info.oldest_pending_s >= 0


def test_key_layout_under_key_prefix(make: MakeAddon) -> None:
    addon = make(key_prefix="app:")
    ok(addon.queue_add("jobs", {"n": 1}))
    (job,) = ok(addon.queue_take("jobs")).jobs
    ok(addon.queue_fail("jobs", job["id"], max_deliveries=1))
    second = ok(addon.queue_add("jobs", {"n": 2}, dedupe_id="two")).id
    raw = addon.client()
    assert raw.type("app:{jobs}") == "stream"
    assert raw.xlen("app:{jobs}:dead") == 1
    assert raw.hgetall("app:{jobs}:dedupe") == {"two": second}
    assert raw.exists("{jobs}", "jobs", "{jobs}:dedupe") == 0


# --- dedupe: one job per dedupe_id while it is in the queue -------------------------------------


def test_a_second_add_with_the_same_dedupe_id_is_not_added(anywhere: RedisRoomsAddon) -> None:
    addon = anywhere
    first = ok(addon.queue_add("q", {"image": "cat.png"}, dedupe_id="cat"))
    assert (first.added, first.duplicate_of) == (True, None)
    again = ok(addon.queue_add("q", {"image": "cat.png", "retry": True}, dedupe_id="cat"))
    assert (again.added, again.duplicate_of, again.id) == (False, first.id, first.id)
    assert "not added" in again.message
    other = ok(addon.queue_add("q", {"image": "dog.png"}, dedupe_id="dog"))
    plain = ok(addon.queue_add("q", {"image": "cat.png"}))  # no dedupe_id: always added
    assert (other.added, plain.added) == (True, True)
    (taken,) = ok(addon.queue_take("q")).jobs
    assert taken == {"id": first.id, "job": {"image": "cat.png"}, "deliveries": 1}
    running = ok(addon.queue_add("q", {"image": "cat.png"}, dedupe_id="cat"))  # pending now
    assert (running.added, running.duplicate_of) == (False, first.id)
    ok(addon.queue_ack("q", [first.id]))
    after = ok(addon.queue_add("q", {"image": "cat.png"}, dedupe_id="cat"))  # finished: anew
    assert after.added is True
    assert after.id != first.id
    assert addon.client().hgetall("{q}:dedupe") == {"cat": after.id, "dog": other.id}


def test_a_job_moved_to_the_dead_queue_frees_its_dedupe_id(anywhere: RedisRoomsAddon) -> None:
    addon = anywhere
    by_fail = ok(addon.queue_add("q", {"n": 1}, dedupe_id="one")).id
    ok(addon.queue_take("q"))
    assert ok(addon.queue_fail("q", by_fail, max_deliveries=1)).dead is True
    by_take = ok(addon.queue_add("q", {"n": 2}, dedupe_id="two")).id
    ok(addon.queue_take("q"))
    ok(addon.queue_fail("q", by_take, max_deliveries=5))  # given back...
    moved = ok(addon.queue_take("q", max_deliveries=1))  # ...and buried by the next take
    assert moved.moved_to_dead_ids == [by_take]
    assert addon.client().hgetall("{q}:dedupe") == {}
    assert ok(addon.queue_add("q", {"n": 1}, dedupe_id="one")).added is True
    assert ok(addon.queue_add("q", {"n": 2}, dedupe_id="two")).added is True


def test_a_job_dropped_by_max_length_frees_its_dedupe_id(anywhere: RedisRoomsAddon) -> None:
    addon = anywhere
    ok(addon.queue_add("q", {"n": 1}, dedupe_id="one"))
    ok(addon.queue_take("q"))  # pending jobs are dropped too
    kept = ok(addon.queue_add("q", {"n": 2}, dedupe_id="two", max_length=1)).id
    raw = addon.client()
    assert [entry_id for entry_id, _ in raw.xrange("{q}")] == [kept]
    assert raw.hgetall("{q}:dedupe") == {"two": kept}  # no marker left behind
    assert ok(addon.queue_add("q", {"n": 1}, dedupe_id="one", max_length=2)).added is True
    assert ok(addon.queue_add("q", {"n": 2}, dedupe_id="two", max_length=2)).added is False
    assert ok(addon.queue_add("q", {"n": 3}, max_length=1)).added is True  # drops both
    assert raw.hgetall("{q}:dedupe") == {}


def test_a_marker_whose_job_is_gone_blocks_nothing(anywhere: RedisRoomsAddon) -> None:
    """Another program deleted the job (XDEL), or the queue itself: the marker left behind is
    not obeyed, and is replaced."""
    addon = anywhere
    raw = addon.client()
    first = ok(addon.queue_add("q", {"n": 1}, dedupe_id="d")).id
    raw.xdel("{q}", first)
    second = ok(addon.queue_add("q", {"n": 1}, dedupe_id="d"))
    assert second.added is True
    raw.delete("{q}")
    third = ok(addon.queue_add("q", {"n": 1}, dedupe_id="d"))
    assert third.added is True
    assert raw.hgetall("{q}:dedupe") == {"d": third.id}
    raw.hset("{q}:dedupe", "d", "not an id")  # written by someone else: not obeyed either
    assert ok(addon.queue_add("q", {"n": 1}, dedupe_id="d")).added is True


def test_a_job_leaving_the_queue_forgets_only_its_own_marker(anywhere: RedisRoomsAddon) -> None:
    """Another program overwrote the marker of job A, so B was added with the same dedupe_id:
    A's acknowledgement leaves B's marker, and B still blocks the id."""
    addon, raw = anywhere, anywhere.client()
    first = ok(addon.queue_add("q", {"n": 1}, dedupe_id="d")).id
    raw.hset("{q}:dedupe", "d", "tampered")
    second = ok(addon.queue_add("q", {"n": 2}, dedupe_id="d")).id
    (taken,) = ok(addon.queue_take("q")).jobs
    assert taken["id"] == first
    ok(addon.queue_ack("q", [first]))
    assert raw.hgetall("{q}:dedupe") == {"d": second}
    assert ok(addon.queue_add("q", {"n": 3}, dedupe_id="d")).duplicate_of == second


def test_the_same_dedupe_id_added_at_once_is_added_once(make: MakeAddon) -> None:
    addons = [make(id=f"producer-{n}") for n in range(8)]
    answers: list = []
    barrier = threading.Barrier(len(addons))

    def add(addon: RedisRoomsAddon) -> None:
        barrier.wait(timeout=30)
        answers.append(addon.queue_add("q", {"n": 1}, dedupe_id="once"))

    threads = [threading.Thread(target=add, args=(addon,)) for addon in addons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    outputs = [ok(answer) for answer in answers]
    (winner,) = [out.id for out in outputs if out.added]
    assert {out.duplicate_of for out in outputs if not out.added} == {winner}
    assert len(outputs) == 8
    assert addons[0].client().xlen("{q}") == 1


DEDUPE_IDS = st.sampled_from(["a", "b", "c", "ünï 🧵", None])
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), DEDUPE_IDS, st.none() | st.integers(1, 4)),
        st.tuples(st.just("take"), st.integers(1, 3), st.integers(1, 3)),
        st.tuples(st.just("ack"), st.integers(0, 3)),
        st.tuples(st.just("fail"), st.integers(0, 3), st.integers(1, 3)),
    ),
    max_size=25,
)


@pytest.fixture(params=["embedded", "server"])
def fresh_queue(request: pytest.FixtureRequest, make_addon: MakeAddon) -> RedisRoomsAddon:
    return addon_factory(request, make_addon, request.param)()


@settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=OPERATIONS)
def test_a_dedupe_marker_lives_exactly_as_long_as_its_job(
    fresh_queue: RedisRoomsAddon, operations: list[tuple]
) -> None:
    """Any sequence of adds (with or without dedupe_id and max_length), takes (a take's
    max_deliveries may bury given-back jobs), acks and fails: an add is refused exactly when a
    job with its dedupe_id is in the queue (and names it), and the markers are exactly the
    queue's jobs' (none left behind, none missing)."""
    addon, raw = fresh_queue, fresh_queue.client()
    raw.delete("{q}", "{q}:dead", "{q}:dedupe")
    for operation in operations:
        held = {fields.get("dedupe"): job_id for job_id, fields in raw.xrange("{q}")}
        pending = [entry["message_id"] for entry in raw_pending(raw)]
        if operation[0] == "add":
            _, dedupe_id, max_length = operation
            added = ok(addon.queue_add("q", {"n": 1}, dedupe_id=dedupe_id, max_length=max_length))
            expected = held.get(dedupe_id) if dedupe_id is not None else None
            assert (added.added, added.duplicate_of) == (expected is None, expected)
        elif operation[0] == "take":
            _, count, most = operation
            ok(addon.queue_take("q", count=count, max_deliveries=most))
        elif pending and operation[0] == "ack":
            ok(addon.queue_ack("q", [pending[operation[1] % len(pending)]]))
        elif pending:
            job_id = pending[operation[1] % len(pending)]
            ok(addon.queue_fail("q", job_id, max_deliveries=operation[2]))
        entries = raw.xrange("{q}")
        markers = {fields["dedupe"]: job_id for job_id, fields in entries if "dedupe" in fields}
        assert raw.hgetall("{q}:dedupe") == markers
        dedupe_ids = [fields["dedupe"] for _, fields in entries if "dedupe" in fields]
        assert len(dedupe_ids) == len(set(dedupe_ids))


def raw_pending(raw: object) -> list[dict]:
    try:
        return raw.xpending_range("{q}", "workers", "-", "+", 100)
    except redis.ResponseError:  # no group yet
        return []


# --- many consumers: every job finished exactly once --------------------------------------------


def fill(addon: RedisRoomsAddon, queue: str, count: int) -> set[str]:
    """``count`` jobs added in pipelined batches, as queue_add stores them; their ids."""
    raw = addon.client()
    ids: set[str] = set()
    for start in range(0, count, 1000):
        pipe = raw.pipeline(transaction=False)
        for n in range(start, min(count, start + 1000)):
            pipe.xadd("{" + queue + "}", {"job": json.dumps({"n": n})})
        ids.update(pipe.execute())
    return ids


def run_consumers(make: MakeAddon, queue: str, consumers: int, jobs: int) -> Counter:
    """``consumers`` threads taking and acknowledging until the queue is empty; how many times
    each id was acknowledged."""
    acked: Counter = Counter()
    lock = threading.Lock()
    errors: list[str] = []
    addons = [make(id=f"worker-{n}") for n in range(consumers)]

    def work(addon: RedisRoomsAddon) -> None:
        for _ in range(jobs):  # bounded: each round takes at least one job or stops
            taken = addon.queue_take(queue, count=20)
            if taken.code != 200:
                errors.append(taken.message)
                return
            if not taken.output.jobs:
                return
            ids = [job["id"] for job in taken.output.jobs]
            done = addon.queue_ack(queue, ids)
            if done.code != 200 or done.output.not_pending:
                errors.append(done.message)
                return
            with lock:
                acked.update(ids)

    threads = [threading.Thread(target=work, args=(addon,)) for addon in addons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return acked


@pytest.mark.parametrize(
    ("mode", "per_consumer"),
    [("server", 2000), ("cluster", 2000), ("sentinel", 250)],
)
def test_eight_consumers_finish_every_job_exactly_once(
    request: pytest.FixtureRequest, make_addon: MakeAddon, mode: str, per_consumer: int
) -> None:
    make = addon_factory(request, make_addon, mode)
    total = 8 * per_consumer
    ids = fill(make(), "load", total)
    assert len(ids) == total
    acked = run_consumers(make, "load", 8, total)
    assert set(acked) == ids  # none lost
    assert set(acked.values()) == {1}  # none finished twice
    info = ok(make().queue_info("load"))
    assert (info.length, info.pending) == (0, 0)


# --- bad input, read_only -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda a: a.queue_add("", {"n": 1}), id="add-empty-queue"),
        pytest.param(lambda a: a.queue_add("q", "not an object"), id="add-job-not-object"),
        pytest.param(lambda a: a.queue_add("q", {"n": 1}, max_length=0), id="add-max-length-0"),
        pytest.param(lambda a: a.queue_add("q", {"n": 1}, dedupe_id=""), id="add-empty-dedupe"),
        pytest.param(lambda a: a.queue_add("q", {"n": 1}, dedupe_id=" "), id="add-blank-dedupe"),
        pytest.param(lambda a: a.queue_add("q", {"n": 1}, dedupe_id=True), id="add-bool-dedupe"),
        pytest.param(
            lambda a: a.queue_add("q", {"n": 1}, dedupe_id="\ud800"), id="add-surrogate-dedupe"
        ),
        pytest.param(lambda a: a.queue_take("", count=1), id="take-empty-queue"),
        pytest.param(lambda a: a.queue_take("q", count=0), id="take-count-0"),
        pytest.param(lambda a: a.queue_take("q", count=-1), id="take-count-negative"),
        pytest.param(lambda a: a.queue_take("q", wait_s=-1), id="take-wait-negative"),
        pytest.param(lambda a: a.queue_take("q", reclaim_after_s=0), id="take-reclaim-0"),
        pytest.param(lambda a: a.queue_take("q", reclaim_after_s=float("nan")), id="take-nan"),
        pytest.param(lambda a: a.queue_take("q", group=" "), id="take-blank-group"),
        pytest.param(lambda a: a.queue_take("q", max_deliveries=0), id="take-max-deliveries-0"),
        pytest.param(lambda a: a.queue_take("q", max_deliveries=1001), id="take-max-del-1001"),
        pytest.param(lambda a: a.queue_take("q", max_deliveries=True), id="take-max-del-bool"),
        pytest.param(lambda a: a.queue_ack("q", []), id="ack-no-ids"),
        pytest.param(lambda a: a.queue_ack("q", ["not-an-id"]), id="ack-bad-id"),
        pytest.param(lambda a: a.queue_ack("q", ["99999999999999999999-0"]), id="ack-id-overflow"),
        pytest.param(lambda a: a.queue_fail("q", "1-0", max_deliveries=0), id="fail-max-0"),
        pytest.param(lambda a: a.queue_fail("q", ""), id="fail-empty-id"),
    ],
)
def test_bad_input_answers_400_and_writes_nothing(
    addon: RedisRoomsAddon, call: Callable[[RedisRoomsAddon], object]
) -> None:
    response = call(addon)
    assert response.code == 400, response.message
    assert "invalid input" in response.message
    assert addon.client().dbsize() == 0  # on a cluster: summed over the primaries


def test_read_only_refuses_the_writing_queue_actions(make: MakeAddon) -> None:
    addon = make(read_only=True)
    answers = {
        "add": addon.queue_add("q", {"n": 1}).code,
        "take": addon.queue_take("q").code,
        "ack": addon.queue_ack("q", ["1-0"]).code,
        "fail": addon.queue_fail("q", "1-0").code,
        "info": addon.queue_info("q").code,
    }
    assert answers == {"add": 403, "take": 403, "ack": 403, "fail": 403, "info": 200}


@pytest.mark.parametrize("command", ["xadd", "xdel"])
def test_a_take_that_may_not_bury_a_job_answers_403_and_claims_nothing(
    server: RedisServer, make_addon: MakeAddon, command: str
) -> None:
    """The dead-letter move's commands are checked before the first claim: a user who may not
    run them gets 403, and the stale job stays as it was (same owner, same delivery count)."""
    owner = make_addon(password=PASSWORD, host="127.0.0.1", port=server.port)
    ok(owner.queue_add("q", {"n": 1}))
    ok(owner.queue_take("q", consumer="dies"))
    add_acl_user(server, "worker", "worker-pw", "~*", "+@all", f"-{command}")
    try:
        worker = make_addon(
            password="worker-pw", host="127.0.0.1", port=server.port, username="worker"
        )
        time.sleep(0.1)  # the job has been pending longer than reclaim_after_s
        response = worker.queue_take("q", reclaim_after_s=0.05)
    finally:
        server.client().execute_command("ACL", "DELUSER", "worker")
    assert response.code == 403, response.message
    assert command.upper() in response.message.upper()
    (pending,) = server.client().xpending_range("{q}", "workers", "-", "+", 10)
    assert (pending["consumer"], pending["times_delivered"]) == ("dies", 1)


def queue_state(raw: object) -> tuple:
    """The jobs, who holds each pending one and how often it was handed out, the markers, the
    dead jobs (no idle times: they change by themselves)."""
    pending = raw.xpending_range("{q}", "workers", "-", "+", 10)
    holders = [(p["message_id"], p["consumer"], p["times_delivered"]) for p in pending]
    return raw.xrange("{q}"), holders, raw.hgetall("{q}:dedupe"), raw.xrange("{q}:dead")


QUEUE_CALLS = {
    "take": lambda addon: addon.queue_take("q", reclaim_after_s=0.05),
    "ack": lambda addon: addon.queue_ack("q", [addon.client().xrange("{q}")[0][0]]),
    "fail": lambda addon: addon.queue_fail("q", addon.client().xrange("{q}")[0][0]),
    "add": lambda addon: addon.queue_add("q", {"n": 2}, dedupe_id="two"),
}


@pytest.mark.parametrize(
    ("call", "command"),
    [("take", "hdel"), ("ack", "hdel"), ("ack", "hlen"), ("fail", "hget"), ("add", "hset")],
)
def test_a_queue_step_that_may_not_touch_the_dedupe_markers_answers_403_and_writes_nothing(
    server: RedisServer, make_addon: MakeAddon, call: str, command: str
) -> None:
    owner = make_addon(password=PASSWORD, host="127.0.0.1", port=server.port)
    ok(owner.queue_add("q", {"n": 1}, dedupe_id="one"))
    ok(owner.queue_take("q", consumer="dies"))
    raw = server.client()
    before = queue_state(raw)
    add_acl_user(server, "worker", "worker-pw", "~*", "+@all", f"-{command}")
    try:
        worker = make_addon(
            password="worker-pw", host="127.0.0.1", port=server.port, username="worker"
        )
        time.sleep(0.1)  # the job has been pending longer than reclaim_after_s
        response = QUEUE_CALLS[call](worker)
    finally:
        raw.execute_command("ACL", "DELUSER", "worker")
    assert response.code == 403, response.message
    assert command.upper() in response.message.upper()
    assert queue_state(raw) == before
    assert ok(owner.queue_add("q", {"n": 3})).added is True  # without dedupe_id: no hash


def test_a_key_of_another_type_answers_409(addon: RedisRoomsAddon) -> None:
    addon.client().set("{q}", "text")
    response = addon.queue_take("q")
    assert response.code == 409, response.message
    assert "string" in response.message


# --- a lost reply (fault proxy, single server) --------------------------------------------------


@pytest.fixture
def proxy(server: RedisServer) -> Iterator[FaultProxy]:
    with FaultProxy(server.port) as started:
        yield started


@pytest.fixture
def proxied(proxy: FaultProxy, make_addon: MakeAddon) -> RedisRoomsAddon:
    return make_addon(
        password=PASSWORD, host="127.0.0.1", port=proxy.port, socket_timeout=2, retry_attempts=3
    )


@pytest.fixture
def direct(server: RedisServer, make_addon: MakeAddon) -> RedisRoomsAddon:
    return make_addon(password=PASSWORD, host="127.0.0.1", port=server.port, id="other")


def test_lost_reply_of_queue_take_loses_no_job(
    proxy: FaultProxy, proxied: RedisRoomsAddon, direct: RedisRoomsAddon
) -> None:
    """The take ran (the job is pending under the consumer) but its answer never came: 504,
    not resent, and the job is handed out again after reclaim_after_s."""
    ok(proxied.queue_take("warm"))  # the script is loaded
    job_id = ok(direct.queue_add("q", {"n": 1})).id
    proxy.arm("EVALSHA")
    response = proxied.queue_take("q", reclaim_after_s=0.2)
    assert proxy.dropped == ["EVALSHA"]
    assert response.code == 504, response.message
    assert "may have been applied" in response.message
    assert proxy.seen.count("EVALSHA") == 2  # the warm-up and this one: never resent
    assert direct.client().xpending("{q}", "workers")["pending"] == 1
    (job,) = take_when_reclaimable(direct, "q", reclaim_after_s=0.2)
    assert (job["id"], job["deliveries"]) == (job_id, 2)


def test_lost_reply_of_queue_ack_is_safe_to_run_again(
    proxy: FaultProxy, proxied: RedisRoomsAddon, direct: RedisRoomsAddon
) -> None:
    job_id = ok(direct.queue_add("q", {"n": 1})).id
    ok(proxied.queue_take("q"))
    ok(proxied.queue_ack("q", ["1-0"]))  # the script is loaded
    proxy.arm("EVALSHA")
    response = proxied.queue_ack("q", [job_id])
    assert proxy.dropped == ["EVALSHA"]
    assert response.code == 504, response.message
    again = ok(proxied.queue_ack("q", [job_id]))  # the step run again
    assert (again.acked, again.not_pending) == (0, [job_id])
    assert direct.client().xlen("{q}") == 0


def test_lost_reply_of_queue_add_with_a_dedupe_id_is_safe_to_run_again(
    proxy: FaultProxy, proxied: RedisRoomsAddon, direct: RedisRoomsAddon
) -> None:
    """The add ran but its answer never came: 504, not resent; the step run again with the same
    dedupe_id adds nothing and names the job the first run added."""
    ok(proxied.queue_add("warm", {"n": 0}, dedupe_id="warm"))  # the script is loaded
    proxy.arm("EVALSHA")
    response = proxied.queue_add("q", {"n": 1}, dedupe_id="order-17")
    assert proxy.dropped == ["EVALSHA"]
    assert response.code == 504, response.message
    assert "may have been applied" in response.message
    assert proxy.seen.count("EVALSHA") == 2  # the warm-up and this one: never resent
    again = ok(proxied.queue_add("q", {"n": 1}, dedupe_id="order-17"))  # the step run again
    ((job_id, _),) = direct.client().xrange("{q}")
    assert (again.added, again.duplicate_of, again.id) == (False, job_id, job_id)


def test_a_prefix_that_splits_the_queue_slots_is_refused_on_a_cluster(
    request: pytest.FixtureRequest, make_addon: MakeAddon
) -> None:
    addon = addon_factory(request, make_addon, "cluster")(key_prefix="p{}")
    response = addon.queue_add("jobs", {"n": 1})
    assert response.code == 400, response.message
    assert "hash slot" in response.message
    assert addon.client().dbsize() == 0


def test_a_group_or_consumer_name_over_max_name_bytes_answers_413(make: MakeAddon) -> None:
    addon = make(max_name_bytes=16)
    assert addon.queue_take("q", group="g" * 17).code == 413
    assert addon.queue_take("q", consumer="c" * 17).code == 413
    assert addon.queue_info("q", group="g" * 17).code == 413
    assert addon.queue_add("q", {"n": 1}, dedupe_id="d" * 17).code == 413
    assert addon.client().dbsize() == 0
