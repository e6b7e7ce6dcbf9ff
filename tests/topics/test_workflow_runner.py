"""The workflow runner: templates, conditions, the seed's file order, stubs, the spec examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.workflow import (
    WorkflowError,
    condition_holds,
    redis_addon_entries,
    render,
    run_workflow,
    steps_of,
)

EXAMPLES = Path(__file__).parents[2] / "examples"
CONTEXT = {
    "payload": {"user_id": 42, "name": "Ada", "tags": ["a", "b"], "obj": {"x": 1}},
    "check-cache": {"output": {"found": False, "count": 3, "value": None}},
}


@pytest.mark.parametrize(
    ("template", "value"),
    [
        pytest.param("{{payload.user_id}}", 42, id="whole-keeps-type"),
        pytest.param("session:{{payload.user_id}}", "session:42", id="interpolated"),
        pytest.param("{{ payload.name }}", "Ada", id="spaces"),
        pytest.param("{{payload.obj}}", {"x": 1}, id="object"),
        pytest.param("x={{payload.obj}}", 'x={"x": 1}', id="object-in-text"),
        pytest.param("{{payload.tags.1}}", "b", id="list-index"),
        pytest.param({"k": ["{{payload.name}}"]}, {"k": ["Ada"]}, id="nested"),
        pytest.param(7, 7, id="not-a-string"),
    ],
)
def test_render(template: object, value: object) -> None:
    assert render(template, CONTEXT) == value


@pytest.mark.parametrize(
    ("template", "names"),
    [
        pytest.param("{{payload.missing}}", "'missing' not found", id="missing-field"),
        pytest.param("{{fetch-api.output.response}}", "'fetch-api'", id="missing-step"),
        pytest.param("{{payload.tags.9}}", "'9' not found", id="index-out-of-range"),
    ],
)
def test_render_missing_path_is_named(template: str, names: str) -> None:
    with pytest.raises(WorkflowError, match=names):
        render(template, CONTEXT)


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        pytest.param("{{check-cache.output.found}} == false", True, id="eq-false"),
        pytest.param("{{check-cache.output.found}} != false", False, id="ne-false"),
        pytest.param("{{check-cache.output.count}} > 2", True, id="gt"),
        pytest.param("{{check-cache.output.count}} <= 2", False, id="le"),
        pytest.param("{{check-cache.output.count}} >= 3", True, id="ge"),
        pytest.param("{{check-cache.output.count}} < 1", False, id="lt"),
        pytest.param("{{check-cache.output.value}} == null", True, id="null"),
        pytest.param("{{payload.name}} == 'Ada'", True, id="quoted-string"),
        pytest.param("{{payload.name}} == Ada", True, id="bare-string"),
        pytest.param("{{check-cache.output.found}}", False, id="lone-template"),
        pytest.param(None, True, id="no-condition"),
        pytest.param("  ", True, id="blank"),
    ],
)
def test_conditions(condition: str | None, holds: bool) -> None:
    assert condition_holds(condition, CONTEXT) is holds


def test_unordered_comparison_is_an_error() -> None:
    with pytest.raises(WorkflowError, match="no order"):
        condition_holds("{{payload.obj}} > 1", CONTEXT)


@pytest.mark.parametrize(
    ("workflow", "says"),
    [
        pytest.param({}, 'no "steps"', id="no-steps"),
        pytest.param({"steps": [{"action": "x"}]}, 'non-empty string "id"', id="no-id"),
        pytest.param({"steps": [{"id": "a"}, {"id": "a"}]}, "used twice", id="duplicate"),
    ],
)
def test_bad_step_lists(workflow: dict, says: str) -> None:
    with pytest.raises(WorkflowError, match=says):
        steps_of(workflow)


def test_steps_under_workflow_key() -> None:
    assert steps_of({"workflow": {"steps": [{"id": "a"}]}}) == [{"id": "a"}]


def load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def embedded_addons(workflow: dict) -> dict[str, RedisRoomsAddon]:
    addons = {}
    for addon_id, entry in redis_addon_entries(workflow).items():
        addon = RedisRoomsAddon()
        assert addon.loadAddonConfig({**entry, "config": {**entry["config"], "mode": "embedded"}})
        addons[addon_id] = addon
    return addons


def test_session_management_example_runs_unchanged() -> None:
    workflow = load("session_management.json")
    addons = embedded_addons(workflow)
    results = run_workflow(workflow, {"user_id": "42", "session_token": "t"}, addons=addons)
    assert [r.status for r in results] == ["ok", "ok"]
    assert results[1].output["value"] == "t"
    assert results[1].output["found"] is True
    assert addons["redis-cache"].client().ttl("session:42") > 86000


def test_api_caching_example_caches_then_hits() -> None:
    workflow = load("api_caching.json")
    addons = embedded_addons(workflow)
    payload = {"request_id": "r1", "endpoint": "https://api.example.test/x"}
    stubs = {"fetch-api": {"response": {"temp": 18}}}
    first = run_workflow(workflow, payload, addons=addons, stubs=stubs)
    assert [r.status for r in first] == ["ok", "stubbed", "ok"]
    second = run_workflow(workflow, payload, addons=addons, stubs=stubs)
    assert [r.status for r in second] == ["ok", "skipped", "skipped"]
    assert json.loads(second[0].output["value"]) == {"temp": 18}


def test_other_addon_steps_are_skipped_without_a_stub() -> None:
    workflow = {"steps": [{"id": "x", "action": "llm::ask"}]}
    assert run_workflow(workflow, addons={})[0].status == "skipped"


def test_next_jumps_over_a_step(embedded: RedisRoomsAddon) -> None:
    jump = {
        "steps": [
            {
                "id": "a",
                "action": "r::set_key",
                "parameters": {"key": "k", "value": 1},
                "next": ["c"],
            },
            {"id": "b", "action": "r::delete_key", "parameters": {"key": "k"}},
            {"id": "c", "action": "r::get_key", "parameters": {"key": "k"}},
        ]
    }
    results = run_workflow(jump, addons={"r": embedded})
    assert [r.id for r in results] == ["a", "c"]
    assert results[1].output["found"] is True


@pytest.mark.parametrize(
    ("step", "says"),
    [
        pytest.param(
            {"id": "a", "action": "r::nope"}, "unknown action 'nope'", id="unknown-action"
        ),
        pytest.param(
            {"id": "a", "action": "r::get_key", "parameters": {"key": "k"}, "next": ["zz"]},
            "unknown step",
            id="next",
        ),
        pytest.param(
            {"id": "a", "action": "r::get_key", "parameters": {"kee": "x"}}, "kee", id="bad-param"
        ),
        pytest.param(
            {"id": "a", "action": "r::get_key", "parameters": "{{payload.s}}"},
            '"parameters" must be an object',
            id="params-not-object",
        ),
    ],
)
def test_bad_steps_are_clear_errors(embedded: RedisRoomsAddon, step: dict, says: str) -> None:
    with pytest.raises(WorkflowError, match=says):
        run_workflow({"steps": [step]}, {"s": "x"}, addons={"r": embedded})


def test_failed_step_is_reported_with_its_code(embedded: RedisRoomsAddon) -> None:
    seen = []
    workflow = {"steps": [{"id": "a", "action": "r::get_key", "parameters": {"key": ""}}]}
    results = run_workflow(workflow, addons={"r": embedded}, on_step=seen.append)
    assert (results[0].status, results[0].code) == ("failed", 400)
    assert seen == results
