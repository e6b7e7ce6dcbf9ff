"""The reliable work queue recipe (docs/recipes.md) is the shipped engine-format examples, and
runs as documented: a job that fails is given back, and the next consumer run finishes it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.workflow import run_workflow

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "engine"
PRODUCER = json.loads((EXAMPLES / "queue_producer.json").read_text())
CONSUMER = json.loads((EXAMPLES / "queue_consumer.json").read_text())
MOCKS = {
    action: mock["mock_response"]
    for action, mock in json.loads((EXAMPLES / "queue_mocks.json").read_text()).items()
}
FAILED = {"make-thumbnail": {"ok": False, "error": "image service timed out"}}


def recipe_blocks() -> list[dict]:
    text = (ROOT / "docs" / "recipes.md").read_text()
    start = text.index("# A Reliable Work Queue")
    end = text.index("\n# ", start + 1)
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text[start:end], re.S)]


def test_the_recipe_shows_the_shipped_workflows() -> None:
    producer, consumer = recipe_blocks()
    assert producer["workflow"]["steps"] == PRODUCER["workflow"]["steps"]
    assert consumer["workflow"]["steps"] == CONSUMER["workflow"]["steps"]


def test_the_shipped_workflows_use_the_other_examples_addon_entry() -> None:
    shipped = json.loads((ROOT / "examples" / "session_management.json").read_text())["addons"]
    assert PRODUCER["addons"] == CONSUMER["addons"] == shipped


def statuses(results: list) -> dict[str, tuple[str, dict | None]]:
    return {result.id: (result.status, result.output) for result in results}


def run_recipe(addon: RedisRoomsAddon) -> None:
    addons = {"redis-cache": addon}
    produced = statuses(run_workflow(PRODUCER, {"job": {"image": "dog.png"}}, addons=addons))
    job_id = produced["queue-job"][1]["id"]
    failed = statuses(run_workflow(CONSUMER, addons=addons, stubs=FAILED))
    assert failed["take-job"][1]["jobs"] == [
        {"id": job_id, "job": {"image": "dog.png"}, "deliveries": 1}
    ]
    assert failed["retry-job"][0] == "ok"
    assert (failed["retry-job"][1]["dead"], failed["retry-job"][1]["deliveries"]) == (False, 1)
    assert "finish-job" not in failed
    done = statuses(run_workflow(CONSUMER, addons=addons, mocks=MOCKS))
    assert done["take-job"][1]["jobs"][0]["deliveries"] == 2
    assert done["finish-job"][1]["acked"] == 1
    assert "retry-job" not in done
    info = addon.queue_info("thumbnails").output
    assert (info.length, info.pending, info.dead) == (0, 0, 0)


def test_the_recipe_runs_on_the_embedded_redis(embedded: RedisRoomsAddon) -> None:
    run_recipe(embedded)


@pytest.mark.integration
def test_the_recipe_runs_on_a_server(
    server: object, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    run_recipe(make_addon(password=PASSWORD, host="127.0.0.1", port=server.port))
