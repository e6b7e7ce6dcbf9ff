"""The runner on files in the engine's own format (embedded Redis): order, joins, loops, errors."""

from __future__ import annotations

from typing import Any

import pytest

import redis_rooms_pkg.workflow as workflow_module
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.workflow import (
    MAX_RUNS_WITHOUT_LIMIT,
    StepResult,
    WorkflowCheckError,
    check,
    is_engine_format,
    run_workflow,
)
from runner_cases import (
    CACHE_MOCKS,
    NEXROO_MOCKS,
    NEXROO_PAYLOAD,
    REDIS,
    broken_second_step,
    cache_aside,
    counting_loop,
    engine_file,
    nexroo_shapes,
    on_error,
    parallel_join,
    step,
    two_entrypoints,
)


def run(document: dict[str, Any], addon: RedisRoomsAddon, payload: Any = None, **options: Any):
    return run_workflow(document, payload, addons={REDIS: addon}, **options)


def walked(results: list[StepResult]) -> list[tuple[str, str]]:
    return [(result.id, result.status) for result in results]


def problems_of(document: dict[str, Any], **options: Any) -> list[str]:
    with pytest.raises(WorkflowCheckError) as caught:
        check(document, redis_ids=[REDIS], **options)
    assert str(caught.value).count("\n  - ") == len(caught.value.problems)
    return caught.value.problems


def test_cache_aside_listed_out_of_order_misses_then_hits(embedded: RedisRoomsAddon) -> None:
    first = run(cache_aside(), embedded, {"id": "7"}, mocks=CACHE_MOCKS)
    assert walked(first) == [
        ("check", "ok"), ("fetch", "mocked"), ("store", "ok"), ("done", "ok"),
    ]  # fmt: skip
    assert embedded.client().get("cache:7") == "fresh"
    assert first[0].target == "the embedded in-process Redis"
    second = run(cache_aside(), embedded, {"id": "7"}, mocks=CACHE_MOCKS)
    assert walked(second) == [("check", "ok"), ("hit", "ok")]
    assert second[1].output == {"transformed": {"body": "fresh"}}


def test_parallel_branches_are_joined_once(embedded: RedisRoomsAddon) -> None:
    results = run(parallel_join(), embedded)
    assert [r.id for r in results] == ["start", "write-a", "write-b", "write-c", "join"]
    assert results[-1].output["value"] == 1  # "by" read write-c's number, its type kept
    client = embedded.client()
    assert [client.get(f"n:{b}") for b in "abc"] == ["1", "1", "1"]
    assert client.get("joined") == "1"


def test_join_waits_for_a_longer_branch_but_not_for_a_path_not_taken(
    embedded: RedisRoomsAddon,
) -> None:
    document = engine_file(
        [
            step("fork", "builtin::log", parameters={"message": "x"}, next=["short", "long"]),
            step("short", "builtin::log", parameters={"message": "s"}, next=["join"]),
            step("long", "builtin::log", parameters={"message": "l"}, next=["longer"]),
            step("longer", "logic::if", parameters={"condition": "{{payload.go}}"},
                 condition={"if": "{{longer.output.condition_met}}", "then": "taken",
                            "else": "not-taken"}),
            step("taken", "builtin::log", parameters={"message": "t"}, next=["join"]),
            step("not-taken", "builtin::log", parameters={"message": "n"}, next=["join"]),
            step("join", "builtin::log", waitForAll=True, parameters={"message": "joined"}),
        ],
        start="fork",
    )  # fmt: skip
    results = run(document, embedded, {"go": True})
    assert [r.id for r in results] == ["fork", "short", "long", "longer", "taken", "join"]
    results = run(document, embedded, {"go": False})
    assert [r.id for r in results] == ["fork", "short", "long", "longer", "not-taken", "join"]


def test_start_at_and_a_named_entrypoint(embedded: RedisRoomsAddon) -> None:
    assert [r.id for r in run(two_entrypoints(), embedded)] == ["second"]
    assert embedded.client().get("first") is None
    assert [r.id for r in run(two_entrypoints(), embedded, entrypoint="other")] == [
        "first",
        "second",
    ]
    (problem,) = problems_of(two_entrypoints(), entrypoint="othr")
    assert problem == "no entrypoint 'othr' (did you mean 'other'?); entrypoints: default, other"


def test_a_failed_step_stops_the_run(embedded: RedisRoomsAddon) -> None:
    results = run(on_error(continues=False), embedded)
    assert walked(results) == [("bad", "failed")]
    assert results[0].code == 400
    assert embedded.client().get("after") is None


def test_on_error_continue_workflow_goes_on(embedded: RedisRoomsAddon) -> None:
    results = run(on_error(continues=True), embedded)
    assert walked(results) == [("bad", "failed"), ("write", "ok")]
    assert embedded.client().get("after") == "ran"


def test_run_limit_ends_a_loop(embedded: RedisRoomsAddon) -> None:
    results = run(counting_loop(limit=3, until=10), embedded)
    assert walked(results) == [("bump", "ok")] * 3 + [("bump", "skipped")]
    assert results[-1].message == "runLimit 3 reached: not run again, this path ends here"
    client = embedded.client()
    assert (client.get("loops"), client.get("after")) == ("3", None)


def test_a_loop_ends_by_its_condition_within_its_limit(embedded: RedisRoomsAddon) -> None:
    results = run(counting_loop(limit=5, until=2), embedded)
    assert walked(results) == [("bump", "ok"), ("bump", "ok"), ("after", "ok")]
    assert embedded.client().get("after") == "yes"


def test_a_loop_without_a_limit_cannot_hang(embedded: RedisRoomsAddon) -> None:
    results = run(counting_loop(limit=None, until=10**9), embedded)
    assert len(results) == MAX_RUNS_WITHOUT_LIMIT + 1
    assert results[-1].status == "failed"
    assert "has no runLimit" in results[-1].message
    assert 'give the step a "runLimit"' in results[-1].message
    assert embedded.client().get("loops") == str(MAX_RUNS_WITHOUT_LIMIT)


def test_a_broken_second_step_writes_nothing(embedded: RedisRoomsAddon) -> None:
    with pytest.raises(WorkflowCheckError) as caught:
        run(broken_second_step(), embedded)
    assert caught.value.problems == [
        "step 'read': template {{wrte.output.key}} names no step or payload (did you mean 'write'?)"
    ]
    assert "nothing ran" in str(caught.value)
    assert embedded.client().dbsize() == 0


def test_every_problem_is_reported_with_a_suggestion() -> None:
    document = engine_file(
        [
            step("read", f"{REDIS}::get_kye", parameters={"key": "k"}, next=["stor"]),
            step("store", f"{REDIS}::set_key", parameters={"kye": "k", "value": "v"},
                 conditon="{{read.output.found}} == false", next=["later"]),
            step("later", "builtin::log", parameters={"message": "{{store.output.key}}"},
                 condition={"if": "{{payload.x}}", "then": "nowhere"}),
            step("early", f"{REDIS}::get_key", parameters={"key": "{{later.output.message}}"}),
        ],
        start="reed",
    )  # fmt: skip
    problems = problems_of(document)
    expected = [
        "entrypoint 'default': startAt names unknown step 'reed' (did you mean 'read'?)",
        "step 'read': unknown action 'get_kye' (did you mean 'get_key'?)",
        "step 'read': \"next\" names unknown step 'stor' (did you mean 'store'?)",
        "step 'store': unknown field 'conditon' (did you mean 'condition'?)",
        "step 'store': set_key takes no parameter 'kye' (did you mean 'key'?)",
        "step 'store': set_key needs parameter(s) 'key'",
        "step 'later': condition 'then' names unknown step 'nowhere'",
        "step 'early': template {{later.output.message}} reads step 'later', which cannot have "
        "run before 'early'",
    ]
    for text in expected:
        assert any(problem.startswith(text) for problem in problems), (text, problems)
    assert len(problems) == len(expected)


def test_a_template_must_name_a_step_that_can_have_run_before() -> None:
    document = engine_file(
        [
            step("a", "builtin::log", parameters={"message": "{{b.output.message}}"},
                 next=["b"]),
            step("b", "builtin::log", parameters={"message": "b"}),
        ],
        start="a",
    )  # fmt: skip
    assert problems_of(document) == [
        "step 'a': template {{b.output.message}} reads step 'b', which cannot have run before "
        "'a' (no path leads from it here)"
    ]


def test_the_engine_cli_example_shapes_run_with_mocks(embedded: RedisRoomsAddon) -> None:
    mocks = {action: mock["mock_response"] for action, mock in NEXROO_MOCKS.items()}
    results = run(nexroo_shapes(), embedded, NEXROO_PAYLOAD, mocks=mocks)
    assert [r.id for r in results] == [
        "shortcuts", "log", "delay", "context-set", "context-get", "completion", "is-john",
        "user-specific", "loop", "loop-item", "loop-item", "report",
    ]  # fmt: skip
    by_id = {r.id: r for r in results}
    assert all(r.status in ("ok", "mocked") for r in results)
    assert by_id["shortcuts"].output["transformed"]["full_payload"] == NEXROO_PAYLOAD
    assert by_id["log"].output["message"] == "Processing user johndoe"
    assert by_id["delay"].output == {"delayed": True, "seconds": 30, "waited": False}
    assert by_id["completion"].status == "mocked"
    assert by_id["user-specific"].output["transformed"] == {
        "theme": "dark", "met": True, "said": "Analyzed.",
    }  # fmt: skip
    loop_items = [r.output["transformed"] for r in results if r.id == "loop-item"]
    assert loop_items == [
        {"current_item": "john@example.com", "item_type": "loop_item_0"},
        {"current_item": "johndoe", "item_type": "loop_item_1"},
    ]
    assert by_id["report"].output["transformed"] == {"last": "johndoe", "got": "johndoe"}
    other = {**NEXROO_PAYLOAD, "content": {**NEXROO_PAYLOAD["content"], "username": "ada"}}
    assert "generic" in [r.id for r in run(nexroo_shapes(), embedded, other, mocks=mocks)]


def test_delay_waits_only_when_asked(
    embedded: RedisRoomsAddon, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(workflow_module.time, "sleep", slept.append)
    document = engine_file([step("d", "builtin::delay", parameters={"seconds": 2})], start="d")
    assert run(document, embedded)[0].output["waited"] is False
    assert slept == []
    assert run(document, embedded, real_delays=True)[0].output["waited"] is True
    assert slept == [2.0]


def test_a_step_read_later_needs_a_mock_or_stub() -> None:
    (problem,) = problems_of(cache_aside())
    assert problem == (
        "step 'store': template {{fetch.output.body}} reads step 'fetch' (api::fetch), which is "
        'not a Redis step and gets no output: add "api::fetch": {"mock_response": {...}} to the '
        "--mock-config file, or give --stub fetch=JSON"
    )
    check(cache_aside(), redis_ids=[REDIS], stubs={"fetch": {"body": "x"}})  # a stub will do


def test_an_unread_step_of_another_addon_is_skipped_and_the_path_goes_on(
    embedded: RedisRoomsAddon,
) -> None:
    document = engine_file(
        [
            step("notify", "mailer::send", parameters={"to": "x"}, next=["write"]),
            step("write", f"{REDIS}::set_key", parameters={"key": "k", "value": "v"}),
        ],
        start="notify",
    )  # fmt: skip
    results = run(document, embedded)
    assert walked(results) == [("notify", "skipped"), ("write", "ok")]
    assert '--mock-config "mailer::send"' in results[0].message


@pytest.mark.parametrize(
    ("options", "says"),
    [
        pytest.param({"mocks": {f"{REDIS}::get_key": {}}}, "mock 'r::get_key': this action runs "
                     "for real in the local runner; remove the mock", id="mock-redis"),
        pytest.param({"mocks": {"builtin::log": {}}}, "mock 'builtin::log'", id="mock-builtin"),
        pytest.param({"stubs": {"check": {}}}, "--stub check: a Redis step runs for real",
                     id="stub-redis"),
        pytest.param({"stubs": {"done": {}}}, "--stub done: a builtin step runs for real",
                     id="stub-builtin"),
        pytest.param({"stubs": {"fetc": {}}}, "--stub fetc: the workflow has no step 'fetc' "
                     "(did you mean 'fetch'?)", id="stub-unknown"),
    ],
)  # fmt: skip
def test_mocks_and_stubs_only_replace_other_addons(options: dict[str, Any], says: str) -> None:
    problems = problems_of(cache_aside(), **{"mocks": CACHE_MOCKS, **options})
    assert any(problem.startswith(says) for problem in problems), problems


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        pytest.param({"next": "b"}, 'write "next": ["b"]', id="next-string"),
        pytest.param({"runLimit": 0}, '"runLimit" must be a whole number', id="run-limit"),
        pytest.param({"onError": {"action": "retry"}}, '"onError" must be', id="on-error"),
        pytest.param({"waitForAll": "yes"}, '"waitForAll" must be true or false', id="wait"),
        pytest.param({"condition": {"iff": "x", "then": "b"}}, "unknown field 'iff' (did you "
                     "mean 'if'?)", id="condition-field"),
        pytest.param({"condition": {"if": "x", "then": "b"}, "next": ["b"]},
                     'has both "next" and a condition object', id="next-and-condition"),
        pytest.param({"condition": 3}, '"condition" is a string (a guard) or', id="condition"),
    ],
)  # fmt: skip
def test_bad_links_are_reported(fields: dict[str, Any], says: str) -> None:
    document = engine_file(
        [
            step("a", "builtin::log", parameters={"message": "a"}, **fields),
            step("b", "builtin::log", parameters={"message": "b"}),
        ],
        start="a",
    )
    assert any(says in problem for problem in problems_of(document))


def test_a_string_condition_guards_a_step_in_the_engine_format(embedded: RedisRoomsAddon) -> None:
    document = engine_file(
        [
            step("a", "builtin::log", parameters={"message": "a"}, next=["b"],
                 condition="{{payload.run_a}} == true"),
            step("b", "builtin::log", parameters={"message": "b"}),
        ],
        start="a",
    )  # fmt: skip
    results = run(document, embedded, {"run_a": False})
    assert walked(results) == [("a", "skipped"), ("b", "ok")]


@pytest.mark.parametrize("path", ["a.outputs.message", "a.message", "a"])
def test_a_step_is_read_through_its_output(path: str) -> None:
    document = engine_file(
        [
            step("a", "builtin::log", parameters={"message": "a"}, next=["b"]),
            step("b", "builtin::log", parameters={"message": f"{{{{{path}}}}}"}),
        ],
        start="a",
    )
    assert problems_of(document) == [
        f"step 'b': template {{{{{path}}}}}: a step's values are read as {{{{a.output.<field>}}}}"
    ]


def test_steps_the_entrypoint_never_reaches_are_noted() -> None:
    document = engine_file(
        [
            step("a", "builtin::log", parameters={"message": "a"}),
            step("b", "builtin::log", parameters={"message": "{{a.output.message}}"}),
        ],
        start="a",
    )
    assert check(document).notes == ["not reached from 'a', so never run: b"]


@pytest.mark.parametrize(
    ("document", "engine"),
    [
        pytest.param({"steps": [{"id": "a"}]}, False, id="seed"),
        pytest.param({"steps": [{"id": "a", "condition": "{{x}}"}]}, False, id="seed-guard"),
        pytest.param({"steps": [{"id": "a", "next": []}]}, True, id="next"),
        pytest.param({"steps": [{"id": "a", "condition": {"if": "x"}}]}, True, id="condition"),
        pytest.param({"entrypoints": [], "steps": [{"id": "a"}]}, True, id="entrypoints"),
    ],
)
def test_engine_format_is_told_by_entrypoints_next_or_condition_objects(
    document: dict[str, Any], engine: bool
) -> None:
    assert is_engine_format(document) is engine


def test_joins_waiting_for_each_other_fail_instead_of_vanishing(embedded: RedisRoomsAddon) -> None:
    document = engine_file(
        [
            step("fork", "builtin::log", parameters={"message": "x"}, next=["a", "b"]),
            step("a", "builtin::log", parameters={"message": "a"}, next=["j1"]),
            step("b", "builtin::log", parameters={"message": "b"}, next=["j2"]),
            step("j1", "builtin::log", waitForAll=True, parameters={"message": "1"},
                 next=["j2"]),
            step("j2", "builtin::log", waitForAll=True, parameters={"message": "2"},
                 next=["j1"]),
        ],
        start="fork",
    )  # fmt: skip
    results = run(document, embedded)
    assert walked(results) == [("fork", "ok"), ("a", "ok"), ("b", "ok"), ("j1", "failed")]
    assert results[-1].message == (
        "waitForAll: the joins j1, j2 wait for each other (each has a predecessor that runs "
        "only after another); none can run"
    )


def test_a_run_has_a_total_step_cap(
    embedded: RedisRoomsAddon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow_module, "MAX_STEPS_PER_RUN", 5)
    results = run(counting_loop(limit=50, until=10**9), embedded)
    assert walked(results) == [("bump", "ok")] * 5 + [("bump", "failed")]
    assert (
        results[-1].message == "stopped: 5 steps ran in this run; lower the runLimit of its loops"
    )


LOG = {"message": "x"}


@pytest.mark.parametrize(
    ("document", "options", "says"),
    [
        pytest.param({"steps": [step("a", "builtin::log", parameters=LOG)]},
                     {"entrypoint": "main"}, "entrypoint 'main': the file has no \"entrypoints\"",
                     id="entrypoint-of-seed-file"),
        pytest.param({"entrypoints": {"id": "x"}, "steps": [step("a", "builtin::log")]}, {},
                     '"entrypoints" must be a non-empty list', id="entrypoints-not-list"),
        pytest.param(engine_file([step("a", "builtin::log", parameters=LOG, next={"b": 1})], "a"),
                     {}, "step 'a': \"next\" must be a list of step ids", id="next-object"),
        pytest.param(engine_file([step("a", "builtin::log", parameters=LOG, next=[3])], "a"), {},
                     "step 'a': \"next\" must be a step id (a string), not 3", id="next-number"),
        pytest.param(engine_file([step("a", "log", parameters=LOG)], "a"), {},
                     "step 'a': \"action\" must read \"<addon id>::<action>\"", id="action"),
        pytest.param(engine_file([step("a", "builtin::transform", parameters={})], "a"), {},
                     "step 'a': builtin::transform needs parameter(s) 'rules'", id="builtin"),
        pytest.param(engine_file([step("payload", "builtin::log", parameters=LOG)], "payload"),
                     {}, "step id 'payload' is a template name", id="reserved-id"),
    ],
)  # fmt: skip
def test_file_shape_problems(document: dict[str, Any], options: dict[str, Any], says: str) -> None:
    assert any(problem.startswith(says) for problem in problems_of(document, **options))


def test_entrypoint_guards_are_noted_as_not_evaluated() -> None:
    document = engine_file([step("a", "builtin::log", parameters=LOG)], "a")
    document["entrypoints"][0]["guards"] = [{"if": "x"}]
    assert check(document).notes == [
        "entrypoint 'default': guards are not evaluated by the local runner"
    ]


@pytest.mark.parametrize(
    ("steps", "says"),
    [
        pytest.param([step("a", "builtin::log", parameters={"message": "{{loop_item}}"})],
                     "template {{loop_item}}: there is no loop (a logic::loop step)", id="no-loop"),
        pytest.param([step("a", "builtin::delay", parameters={"seconds": "soon"})],
                     "builtin::delay: seconds must be a number >= 0, not 'soon'", id="delay"),
        pytest.param([step("a", "logic::loop", parameters={"items": "{{payload}}"})],
                     "logic::loop: items must be a list, not dict", id="loop-items"),
        pytest.param([step("a", "builtin::log", parameters=LOG,
                           condition={"if": "{{payload.nope}} == 1", "then": "a"})],
                     "its condition cannot be evaluated: template {{payload.nope}}",
                     id="condition"),
        pytest.param([step("a", "logic::loop", parameters={"items": [1]}, next=["b"]),
                      step("b", "builtin::log", parameters=LOG, runLimit=3,
                           condition={"if": "true", "then": "b"})],
                     "the loop of 'a' has 1 item(s) and this is run 2: end the loop with a "
                     "condition on {{loop_index}}", id="loop-overrun"),
    ],
)  # fmt: skip
def test_run_time_failures_stop_the_run_with_a_message(
    embedded: RedisRoomsAddon, steps: list[dict[str, Any]], says: str
) -> None:
    results = run(engine_file(steps, steps[0]["id"]), embedded, {"k": 1})
    assert results[-1].status == "failed"
    assert results[-1].message.startswith(says)


def test_a_guard_reading_a_skipped_step_fails_its_step(embedded: RedisRoomsAddon) -> None:
    document = {
        "steps": [
            step("a", "builtin::log", parameters=LOG, condition="{{payload.go}}"),
            step("b", "builtin::log", parameters=LOG, condition="{{a.output.logged}}"),
        ]
    }
    results = run(document, embedded, {"go": False})
    assert walked(results) == [("a", "skipped"), ("b", "failed")]
    assert results[1].message == (
        "template {{a.output.logged}}: step 'a' has no output: it was skipped (condition false)"
    )
