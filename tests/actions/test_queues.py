"""Queues on Redis Streams (queue_add, queue_take, queue_ack, queue_fail, queue_info) on a real
server, a Redis Cluster and through Sentinel: no job is lost, none is finished twice."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

from action_support import MakeAddon, ok
from backends import addon_factory
from conftest import PASSWORD
from faultproxy import FaultProxy
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

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
    raw = addon.client()
    assert raw.type("app:{jobs}") == "stream"
    assert raw.xlen("app:{jobs}:dead") == 1
    assert raw.exists("{jobs}", "jobs") == 0


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
        pytest.param(lambda a: a.queue_take("", count=1), id="take-empty-queue"),
        pytest.param(lambda a: a.queue_take("q", count=0), id="take-count-0"),
        pytest.param(lambda a: a.queue_take("q", count=-1), id="take-count-negative"),
        pytest.param(lambda a: a.queue_take("q", wait_s=-1), id="take-wait-negative"),
        pytest.param(lambda a: a.queue_take("q", reclaim_after_s=0), id="take-reclaim-0"),
        pytest.param(lambda a: a.queue_take("q", reclaim_after_s=float("nan")), id="take-nan"),
        pytest.param(lambda a: a.queue_take("q", group=" "), id="take-blank-group"),
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
    assert addon.client().dbsize() == 0
