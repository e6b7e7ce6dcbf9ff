"""make demo: the README's workflow examples through RedisRoomsAddon on an embedded Redis."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from loguru import logger

from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.workflow import StepResult, redis_addon_entries, run_workflow

HERE = Path(__file__).parent

# (file, payload, outputs of the non-Redis steps): the API-caching flow runs twice, so the second
# run finds the response the first one cached and skips the external call; the work queue hands a
# job from the producer to the consumer; the agent remembers the first exchange in the second.
WEATHER = {"request_id": "req-1", "endpoint": "https://api.example.com/weather"}
DEMOS = [
    ("session_management.json", {"user_id": "42", "session_token": "tok-7f3a"}, {}),
    ("api_caching.json", WEATHER, {"fetch-api": {"response": {"city": "Paris", "temp_c": 18}}}),
    ("api_caching.json", WEATHER, {"fetch-api": {"response": {"city": "Paris", "temp_c": 18}}}),
    ("rate_limiting.json", {"endpoint": "https://api.example.com/weather"}, {"call-api": {}}),
    ("work_queue_producer.json", {"job": {"image": "cat.png", "size": 128}}, {}),
    ("work_queue_consumer.json", {}, {"make-thumbnail": {"thumbnail": "cat-128.png"}}),
    ("idempotent_lock.json", {"order_id": "o-1", "amount": 42}, {"charge": {"charge_id": "ch_1"}}),
    (
        "agent_memory.json",
        {"session_id": "chat-1", "message": "Hi, I'm Ada."},
        {"ask-llm": {"reply": "Hello Ada!"}},
    ),
    (
        "agent_memory.json",
        {"session_id": "chat-1", "message": "What's my name?"},
        {"ask-llm": {"reply": "Ada."}},
    ),
]


def embedded_addons(workflow: dict) -> dict[str, RedisRoomsAddon]:
    """One addon per Redis entry of the file, switched to the in-process embedded Redis."""
    addons = {}
    for addon_id, entry in redis_addon_entries(workflow).items():
        addon = RedisRoomsAddon()
        config = {**entry.get("config", {}), "mode": "embedded"}
        if not addon.loadAddonConfig({**entry, "config": config}):
            raise SystemExit(f"addon {addon_id!r}: invalid config")
        addons[addon_id] = addon
    return addons


def show(result: StepResult) -> None:
    print(f"  {result.id:<16} {result.action:<30} {result.status:<8} code={result.code}")
    if result.output is not None:
        print(f"  {'':<16} output: {json.dumps(result.output)}")


def main() -> int:
    logger.remove()  # the demo prints its own lines
    addons: dict[str, RedisRoomsAddon] = {}
    failed = 0
    for name, payload, stubs in DEMOS:
        workflow = json.loads((HERE / name).read_text())
        addons = addons or embedded_addons(workflow)
        print(f"\n{name}  payload={json.dumps(payload)}")
        results = run_workflow(workflow, payload, addons=addons, stubs=stubs, on_step=show)
        failed += sum(result.status == "failed" for result in results)
    for addon in addons.values():
        addon.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
