"""Workflow files in the engine's own format, shared by the runner's embedded and server tests.

Shapes copied from the engine CLI's examples (hello-workflow.json, mock_workflow.json, mocks.json
in nexroo-ai/nexroo-cli): entrypoints, ``next`` lists, condition objects, ``waitForAll``,
``runLimit``, ``onError``, builtins and mocks keyed by ``"<addon id>::<action>"``.
"""

from __future__ import annotations

from typing import Any

REDIS = "r"  # the Redis addon id of these files


def step(step_id: str, action: str, **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "name": step_id.replace("-", " "), "action": action, **fields}


def engine_file(
    steps: list[dict[str, Any]], start: str, addons: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A complete file: addons, one "default" entrypoint, the workflow's steps."""
    return {
        "addons": addons or [],
        "entrypoints": [{"id": "default", "name": "Test", "startAt": start, "guards": []}],
        "workflow": {"id": "test", "name": "Test", "version": "1.0.0", "steps": steps},
    }


def cache_aside(key: str = "cache:{{payload.id}}") -> dict[str, Any]:
    """Get the key; on a miss, fetch (another addon, mocked) and store it. Steps out of order."""
    return engine_file(
        [
            step("store", f"{REDIS}::set_key",
                 parameters={"key": key, "value": "{{fetch.output.body}}", "ex": 300},
                 next=["done"]),
            step("done", "builtin::log", parameters={"message": "stored {{payload.id}}"}),
            step("fetch", "api::fetch", parameters={"id": "{{payload.id}}"}, next=["store"]),
            step("check", f"{REDIS}::get_key", parameters={"key": key},
                 condition={"if": "{{check.output.found}} == true", "then": "hit",
                            "else": "fetch"}),
            step("hit", "builtin::transform",
                 parameters={"rules": {"body": "{{check.output.value}}"}}),
        ],
        start="check",
    )  # fmt: skip


CACHE_MOCKS = {"api::fetch": {"body": "fresh"}}


def parallel_join() -> dict[str, Any]:
    """Three branches (one Redis write each), joined once by a waitForAll step reading them."""
    branches = ["a", "b", "c"]
    return engine_file(
        [
            step("start", "builtin::log", parameters={"message": "go"},
                 next=[f"write-{b}" for b in branches]),
            *[
                step(f"write-{b}", f"{REDIS}::increment", parameters={"key": f"n:{b}"},
                     next=["join"])
                for b in branches
            ],
            step("join", f"{REDIS}::increment", waitForAll=True, runLimit=1,
                 parameters={"key": "joined",
                             "by": "{{write-c.output.value}}"}),
        ],
        start="start",
    )  # fmt: skip


def counting_loop(limit: int | None, until: int) -> dict[str, Any]:
    """A step that loops back to itself while a counter is below ``until``."""
    fields = {} if limit is None else {"runLimit": limit}
    return engine_file(
        [
            step("bump", f"{REDIS}::increment", parameters={"key": "loops"}, **fields,
                 condition={"if": f"{{{{bump.output.value}}}} < {until}", "then": "bump",
                            "else": "after"}),
            step("after", f"{REDIS}::set_key", parameters={"key": "after", "value": "yes"}),
        ],
        start="bump",
    )  # fmt: skip


def on_error(continues: bool) -> dict[str, Any]:
    """A failing Redis step (empty key) followed by a write."""
    extra = {"onError": {"action": "continue-workflow"}} if continues else {}
    return engine_file(
        [
            step("bad", f"{REDIS}::get_key", parameters={"key": ""}, next=["write"], **extra),
            step("write", f"{REDIS}::set_key", parameters={"key": "after", "value": "ran"}),
        ],
        start="bad",
    )  # fmt: skip


def two_entrypoints() -> dict[str, Any]:
    """The entrypoint "default" starts at "second"; "other" at "first"."""
    document = engine_file(
        [
            step("first", f"{REDIS}::set_key", parameters={"key": "first", "value": "1"},
                 next=["second"]),
            step("second", f"{REDIS}::set_key", parameters={"key": "second", "value": "2"}),
        ],
        start="second",
    )  # fmt: skip
    document["entrypoints"].append({"id": "other", "name": "Other", "startAt": "first"})
    return document


def broken_second_step() -> dict[str, Any]:
    """The first step writes; the second names a step that does not exist."""
    return engine_file(
        [
            step("write", f"{REDIS}::set_key", parameters={"key": "k", "value": "v"},
                 next=["read"]),
            step("read", f"{REDIS}::get_key", parameters={"key": "{{wrte.output.key}}"}),
        ],
        start="write",
    )  # fmt: skip


def nexroo_shapes() -> dict[str, Any]:
    """The engine CLI's example steps: transform, log, delay, context, logic::if, a loop, mocks."""
    return engine_file(
        [
            step("shortcuts", "builtin::transform", runLimit=1,
                 parameters={"rules": {"full_payload": "{{payload}}",
                                       "username": "{{payload.content.username}}",
                                       "theme": "{{payload.content.profile.theme}}"}},
                 next=["log"]),
            step("log", "builtin::log", runLimit=1,
                 parameters={"message": "Processing user {{payload.content.username}}",
                             "level": "INFO"},
                 next=["delay"]),
            step("delay", "builtin::delay", runLimit=1, parameters={"seconds": 30},
                 next=["context-set"]),
            step("context-set", "builtin::context_set", runLimit=1,
                 parameters={"name": "test_context",
                             "value": {"user_data": "{{payload.content.username}}",
                                       "preferences": "{{payload.content.profile}}"}},
                 next=["context-get"]),
            step("context-get", "builtin::context_get", parameters={"name": "test_context"},
                 next=["completion"]),
            step("completion", "template::llm_completion", parameters={"prompt": "hi"},
                 next=["is-john"]),
            step("is-john", "logic::if", runLimit=1,
                 parameters={"condition": "{{payload.content.username}} == 'johndoe'"},
                 condition={"if": "{{is-john.output.condition_met}} == true",
                            "then": "user-specific", "else": "generic"}),
            step("user-specific", "builtin::transform",
                 parameters={"rules": {"theme": "{{context.test_context.preferences.theme}}",
                                       "met": "{{is-john.output.condition_met}}",
                                       "said": "{{completion.output.completion}}"}},
                 next=["loop"]),
            step("generic", "builtin::transform", parameters={"rules": {"type": "generic"}},
                 next=["loop"]),
            step("loop", "logic::loop", runLimit=1,
                 parameters={"items": ["{{payload.content.email}}",
                                       "{{payload.content.username}}"]},
                 next=["loop-item"]),
            step("loop-item", "builtin::transform", runLimit=5,
                 parameters={"rules": {"current_item": "{{loop_item}}",
                                       "item_type": "loop_item_{{loop_index}}"}},
                 condition={"if": "{{loop_index}} < 1", "then": "loop-item",
                            "else": "report"}),
            step("report", "builtin::transform", runLimit=1,
                 parameters={"rules": {"last": "{{loop-item.output.transformed.current_item}}",
                                       "got": "{{context-get.output.value.user_data}}"}}),
        ],
        start="shortcuts",
    )  # fmt: skip


NEXROO_PAYLOAD = {
    "type": "json",
    "content": {
        "username": "johndoe",
        "email": "john@example.com",
        "profile": {"theme": "dark"},
    },
}
NEXROO_MOCKS = {
    "template::llm_completion": {"mock_response": {"completion": "Analyzed.", "model": "gpt-4"}},
    "template::semantic_search": {"mock_response": {"results": [], "total_results": 0}},
}
