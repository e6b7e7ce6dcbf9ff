"""The README's use-case workflows (examples/*.json) run through the addon as the engine calls it,
on the embedded Redis and on a real redis-server (``flow_addons``, parametrised by ``backend``).

tests/deployments/ imports the cases by name and re-runs them on a cluster and through Sentinel
with its own ``flow_addons``: workflow -> {addon id: configured addon}.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.workflow import redis_addon_entries, run_workflow

EXAMPLES = Path(__file__).parents[2] / "examples"
FlowAddons = Callable[[dict], dict[str, RedisRoomsAddon]]


def flow_addons_with(retarget: Callable[[dict], dict], **credentials: str) -> Iterator[FlowAddons]:
    """Fixture body: build each workflow's own addon entries with only their ``config``
    retargeted (mode, host, nodes...), credentials passed as the engine does; close them after."""
    made: list[RedisRoomsAddon] = []

    def build(workflow: dict) -> dict[str, RedisRoomsAddon]:
        addons = {}
        for addon_id, entry in redis_addon_entries(workflow).items():
            addon = RedisRoomsAddon()
            assert addon.loadAddonConfig({**entry, "config": retarget(dict(entry["config"]))})
            if credentials:
                assert addon.loadCredentials(**credentials)
            made.append(addon)
            addons[addon_id] = addon
        return addons

    yield build
    for addon in made:
        addon.close()


@pytest.fixture
def flow_addons(backend: str, request: pytest.FixtureRequest) -> Iterator[FlowAddons]:
    """The workflow's own addon entries switched to the embedded Redis, or pointed at the test
    server with credentials as the engine passes them (loadCredentials)."""
    if backend == "embedded":
        yield from flow_addons_with(lambda config: {**config, "mode": "embedded"})
        return
    port = request.getfixturevalue("server").port
    yield from flow_addons_with(
        lambda config: {**config, "host": "127.0.0.1", "port": port}, redis_password=PASSWORD
    )


def load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def statuses(results: list) -> list[str]:
    return [result.status for result in results]


def test_session_management_flow(flow_addons: FlowAddons) -> None:
    workflow = load("session_management.json")
    addons = flow_addons(workflow)
    results = run_workflow(workflow, {"user_id": "42", "session_token": "t-1"}, addons=addons)
    assert statuses(results) == ["ok", "ok"]
    assert (results[1].output["found"], results[1].output["value"]) == (True, "t-1")
    assert 86000 < addons["redis-cache"].client().ttl("session:42") <= 86400


def test_api_caching_flow(flow_addons: FlowAddons) -> None:
    workflow = load("api_caching.json")
    addons = flow_addons(workflow)
    payload = {"request_id": "r1", "endpoint": "https://api.example.test/weather"}
    stubs = {"fetch-api": {"response": {"temp": 18}}}
    first = run_workflow(workflow, payload, addons=addons, stubs=stubs)
    assert statuses(first) == ["ok", "stubbed", "ok"]
    second = run_workflow(workflow, payload, addons=addons, stubs=stubs)
    assert statuses(second) == ["ok", "skipped", "skipped"]
    assert json.loads(second[0].output["value"]) == {"temp": 18}


def test_rate_limiting_flow_lets_ten_calls_a_minute_through(flow_addons: FlowAddons) -> None:
    workflow = load("rate_limiting.json")
    addons = flow_addons(workflow)
    stubs = {"call-api": {"response": "ok"}}
    runs = [
        run_workflow(workflow, {"endpoint": "https://api.example.test"}, addons=addons, stubs=stubs)
        for _ in range(13)
    ]
    assert [statuses(run) for run in runs[:10]] == [["ok", "stubbed", "skipped"]] * 10
    assert [statuses(run) for run in runs[10:]] == [["ok", "skipped", "ok"]] * 3
    assert runs[-1][2].output["value"] == 3  # three throttled calls counted
    raw = addons["redis-cache"].client()
    assert 0 < raw.ttl("stats:weather-api:throttled") <= 3600
    assert runs[-1][0].output["reset_in"] > 0


def test_work_queue_flows_hand_jobs_from_one_workflow_to_another(flow_addons: FlowAddons) -> None:
    producer, consumer = load("work_queue_producer.json"), load("work_queue_consumer.json")
    addons = flow_addons(producer)
    jobs = [{"image": "a.png", "size": 128}, {"image": "b.png", "size": 64}]
    for job in jobs:
        (pushed,) = run_workflow(producer, {"job": job}, addons=addons)
        assert pushed.status == "ok"
    assert pushed.output["length"] == 2
    stubs = {"make-thumbnail": {"done": True}}
    taken = []
    for _ in jobs:
        results = run_workflow(consumer, {}, addons=addons, stubs=stubs)
        assert statuses(results) == ["ok", "stubbed", "ok"]
        taken.append(json.loads(results[0].output["values"][0]))
    assert taken == jobs  # first in, first out
    assert results[2].output["value"] == 2


def test_work_queue_consumer_waits_for_the_next_job(flow_addons: FlowAddons) -> None:
    producer, consumer = load("work_queue_producer.json"), load("work_queue_consumer.json")
    addons = flow_addons(producer)
    results: list = []
    waiting = threading.Thread(
        target=lambda: results.extend(
            run_workflow(consumer, {}, addons=addons, stubs={"make-thumbnail": {"done": True}})
        )
    )
    waiting.start()
    time.sleep(0.2)  # the consumer is waiting on the empty queue by now
    run_workflow(producer, {"job": {"image": "late.png"}}, addons=addons)
    waiting.join(30)
    assert not waiting.is_alive()
    assert statuses(results) == ["ok", "stubbed", "ok"]
    assert json.loads(results[0].output["values"][0]) == {"image": "late.png"}


def test_idempotent_flow_skips_the_charge_while_another_run_holds_the_lock(
    flow_addons: FlowAddons,
) -> None:
    workflow = load("idempotent_lock.json")
    addons = flow_addons(workflow)
    redis = addons["redis-cache"]
    payload = {"order_id": "o-9", "amount": 42}
    stubs = {"charge": {"charge_id": "ch_1"}}
    other = redis.acquire_lock("lock:charge:o-9", ttl_ms=60_000).output  # a run in progress
    duplicate = run_workflow(workflow, payload, addons=addons, stubs=stubs)
    assert statuses(duplicate) == ["ok", "skipped", "skipped", "skipped"]
    assert redis.client().exists("order:o-9") == 0
    assert redis.release_lock("lock:charge:o-9", other.token).output.released
    first = run_workflow(workflow, payload, addons=addons, stubs=stubs)
    assert statuses(first) == ["ok", "stubbed", "ok", "ok"]
    assert first[3].output["released"] is True  # released with the token the first step got
    assert redis.client().hgetall("order:o-9") == {"charge_id": "ch_1", "status": "charged"}
    assert redis.client().exists("lock:charge:o-9") == 0


def test_agent_memory_flow_remembers_the_conversation(flow_addons: FlowAddons) -> None:
    workflow = load("agent_memory.json")
    addons = flow_addons(workflow)
    first = run_workflow(
        workflow,
        {"session_id": "chat-1", "message": "Hi, I'm Ada."},
        addons=addons,
        stubs={"ask-llm": {"reply": "Hello Ada!"}},
    )
    assert statuses(first) == ["ok", "stubbed", "ok"]
    assert first[0].output["found"] is False
    second = run_workflow(
        workflow,
        {"session_id": "chat-1", "message": "What's my name?"},
        addons=addons,
        stubs={"ask-llm": {"reply": "Ada."}},
    )
    assert second[0].output["messages"] == [
        {"role": "user", "content": "Hi, I'm Ada."},
        {"role": "assistant", "content": "Hello Ada!"},
    ]
    assert second[2].output["length"] == 4
    assert 604000 < addons["redis-cache"].client().ttl("history:chat-1") <= 604800
