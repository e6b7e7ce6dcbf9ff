"""The `redis-rooms` command line on the embedded backend: run, call, actions, check, bad input."""

from __future__ import annotations

import inspect
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.cli import app
from redis_rooms_pkg.cli.check import run_check
from redis_rooms_pkg.cli.inputs import call_values

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
SCRIPT = Path(sys.executable).with_name("redis-rooms")  # the installed console script
runner = CliRunner()

CACHING = [
    str(EXAMPLES / "api_caching.json"),
    "--embedded",
    "--payload",
    '{"request_id": "r1", "endpoint": "https://api.example.test/x"}',
    "--stub",
    'fetch-api={"response": {"temp": 18}}',
]


def invoke(*args: str, **kwargs: Any):
    return runner.invoke(app, list(args), **kwargs)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def write(tmp_path: Path, name: str, document: Any) -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def step(step_id: str, action: str, **fields: Any) -> dict[str, Any]:
    return {"id": step_id, "action": action, **fields}


# --- run ---------------------------------------------------------------------------------------


def test_run_caching_example_twice_shows_the_cache_hit() -> None:
    result = invoke("run", *CACHING, "--repeat", "2", "--json")
    assert result.exit_code == 0, result.output
    lines = json_lines(result.stdout)
    first = [(line["id"], line["status"]) for line in lines if line["run"] == 1]
    second = [(line["id"], line["status"]) for line in lines if line["run"] == 2]
    assert first == [("check-cache", "ok"), ("fetch-api", "stubbed"), ("store-cache", "ok")]
    assert second == [("check-cache", "ok"), ("fetch-api", "skipped"), ("store-cache", "skipped")]
    assert json.loads(lines[3]["output"]["value"]) == {"temp": 18}


def test_run_prints_a_table_per_run() -> None:
    result = invoke("run", *CACHING, "--repeat", "2")
    assert result.exit_code == 0, result.output
    assert "api_caching.json (run 1 of 2)" in result.stdout
    assert "api_caching.json (run 2 of 2)" in result.stdout
    assert "condition false" in result.stdout
    assert "stubbed" in result.stdout


def test_run_payload_from_file(tmp_path: Path) -> None:
    payload = write(tmp_path, "payload.json", {"user_id": "7", "session_token": "tok"})
    result = invoke(
        "run", str(EXAMPLES / "session_management.json"), "--embedded", "-p", f"@{payload}",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    verify = json_lines(result.stdout)[1]["output"]
    assert (verify["key"], verify["value"], verify["found"]) == ("session:7", "tok", True)


def test_run_without_redis_addon_uses_embedded(tmp_path: Path) -> None:
    workflow = {
        "steps": [
            step("put", "cache::set_key", parameters={"key": "k", "value": {"a": 1}}),
            step("get", "cache::get_key", parameters={"key": "k"}),
            step("ask", "llm::ask"),
        ]
    }
    result = invoke("run", write(tmp_path, "w.json", workflow), "--json")
    assert result.exit_code == 0, result.output
    lines = json_lines(result.stdout)
    assert [line["status"] for line in lines] == ["ok", "ok", "skipped"]
    assert lines[1]["output"]["value"] == '{"a":1}'
    assert "--stub ask=JSON" in lines[2]["message"]


def test_run_addon_config_replaces_the_files_entry(tmp_path: Path) -> None:
    entry = {"id": "redis-cache", "type": "redis", "name": "c", "mode": "embedded",
             "key_prefix": "wf:"}  # fmt: skip
    result = invoke(
        "run", str(EXAMPLES / "session_management.json"),
        "--addon-config", write(tmp_path, "addon.json", entry),
        "--payload", '{"user_id": 1, "session_token": "t"}', "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [line["code"] for line in json_lines(result.stdout)] == [200, 200]


def test_run_failed_step_exits_1(tmp_path: Path) -> None:
    workflow = {"steps": [step("get", "cache::get_key", parameters={"key": "{{payload.k}}"})]}
    result = invoke("run", write(tmp_path, "w.json", workflow), "--payload", '{"k": ""}')
    assert result.exit_code == 1
    assert "failed" in result.stdout
    assert "400" in result.stdout


def test_run_with_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RR_TEST_FROM_ENV_FILE", raising=False)
    env = write(tmp_path, "test.env", "RR_TEST_FROM_ENV_FILE=yes\n")
    result = invoke("run", *CACHING, "--env-file", env)
    assert result.exit_code == 0, result.output
    assert os.environ.pop("RR_TEST_FROM_ENV_FILE") == "yes"


@pytest.mark.parametrize(
    ("document", "args", "says"),
    [
        pytest.param('{"steps": [', [], "not valid JSON: Expecting value at line 1 column 12",
                     id="invalid-json"),
        pytest.param({"nope": 1}, [], 'no "steps" list', id="no-steps"),
        pytest.param([1, 2], [], "a JSON object", id="not-an-object"),
        pytest.param({"addons": [{"id": "cache", "type": "redis", "name": "c"}],
                      "steps": [step("a", "cache::nope")]}, [],
                     "step 'a': unknown action 'nope'; known actions: ", id="unknown-action"),
        pytest.param({"steps": [step("a", "cache::get_key", parameters={"key": "k"},
                                     next=["zz"])]}, [],
                     "step 'a': \"next\" names unknown step 'zz'", id="unknown-next"),
        pytest.param({"steps": [step("a", "cache::get_key", parameters={"kee": "x"})]}, [],
                     "get_key takes no parameter 'kee' (did you mean 'key'?)",
                     id="unknown-parameter"),
        pytest.param({"steps": [step("a", "cache::set_key", parameters={"key": "x"})]}, [],
                     "set_key needs parameter(s) 'value'", id="missing-parameter"),
        pytest.param({"steps": [step("a", "cache::get_key",
                                     parameters={"key": "{{later.output.key}}"}),
                                step("later", "cache::get_key", parameters={"key": "k"})]}, [],
                     "reads step 'later', which cannot have run before 'a'",
                     id="template-names-later-step"),
        pytest.param({"steps": [step("x", "llm::ask"),
                                step("a", "cache::get_key",
                                     parameters={"key": "{{x.output.text}}"})]}, [],
                     'reads step \'x\' (llm::ask), which is not a Redis step and gets no output: '
                     'add "llm::ask": {"mock_response": {...}} to the --mock-config file',
                     id="template-unmocked-step"),
        pytest.param({"steps": [step("a", "llm::ask", next="b"), step("b", "llm::ask")]}, [],
                     'step \'a\': "next" is a list of step ids in the engine\'s format: '
                     'write "next": ["b"]', id="next-not-a-list"),
        pytest.param({"steps": [step("a", "llm::ask")]}, ["--payload", "[1]"],
                     "--payload must be a JSON object", id="payload-not-object"),
        pytest.param({"steps": [step("a", "llm::ask")]}, ["--payload", "{x"],
                     "--payload is not valid JSON", id="payload-bad-json"),
        pytest.param({"steps": [step("a", "llm::ask")]}, ["--stub", "a"],
                     "--stub 'a' must look like NAME=VALUE", id="stub-without-value"),
        pytest.param({"steps": [step("a", "llm::ask")]}, ["--stub", "b={}"],
                     "the workflow has no step 'b'", id="stub-unknown-step"),
        pytest.param({"steps": [step("a", "cache::get_key", parameters={"key": "k"})]},
                     ["--stub", "a={}"], "cannot be stubbed", id="stub-redis-step"),
        pytest.param({"steps": [step("a", "llm::ask")]}, ["--env-file", "/nonexistent/.env"],
                     "env file '/nonexistent/.env' not found", id="env-file-missing"),
        pytest.param({"addons": [{"id": "c", "type": "redis", "name": "c",
                                  "config": {"hots": "x"}}],
                      "steps": [step("a", "c::get_key", parameters={"key": "k"})]}, [],
                     "addon 'c': invalid input: ", id="bad-addon-config"),
        pytest.param({"addons": "x", "steps": [step("a", "c::get_key")]}, [],
                     '"addons" must be a list', id="addons-not-a-list"),
    ],
)  # fmt: skip
def test_run_bad_input_is_a_clear_error(
    tmp_path: Path, document: Any, args: list[str], says: str
) -> None:
    result = invoke("run", write(tmp_path, "w.json", document), *args)
    assert result.exit_code == 2, result.output
    assert says in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output


SESSION = "session_management.json"


@pytest.mark.parametrize(
    ("runs", "says"),
    [
        pytest.param({"workflow": SESSION}, "must hold a non-empty list of runs", id="not-a-list"),
        pytest.param([], "must hold a non-empty list of runs", id="empty"),
        pytest.param([1], "run 1: a run is an object with workflow, entrypoint, payload",
                     id="not-obj"),
        pytest.param([{"workflow": SESSION, "payload": {}, "stub": {}}],
                     "run 1: unknown field(s) 'stub'", id="unknown-field"),
        pytest.param([{"payload": {}}], 'run 1: "workflow" must name a workflow file',
                     id="no-workflow"),
        pytest.param([{"workflow": SESSION, "payload": [1]}], '"payload" must be an object',
                     id="payload-not-object"),
        pytest.param([{"workflow": SESSION, "stubs": {"a": 1}}],
                     '"stubs" must map step ids to output objects', id="bad-stubs"),
        pytest.param([{"workflow": "nope.json"}], "nope.json' not found", id="missing-workflow"),
        pytest.param([{"workflow": SESSION, "mock_config": 1}],
                     '"mock_config" must name a mocks file', id="bad-mock-config"),
        pytest.param([{"workflow": SESSION, "entrypoint": 1}],
                     '"entrypoint" must be an entrypoint id', id="bad-entrypoint"),
        pytest.param([{"workflow": SESSION, "stubs": {"zz": {}}}], "the workflow has no step 'zz'",
                     id="stub-unknown-step"),
    ],
)  # fmt: skip
def test_runs_file_errors(tmp_path: Path, runs: Any, says: str) -> None:
    (tmp_path / SESSION).write_text((EXAMPLES / SESSION).read_text())
    result = invoke("run", "--runs", write(tmp_path, "runs.json", runs), "--embedded")
    assert result.exit_code == 2, result.output
    assert says in result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param([], "give a WORKFLOW.json file, or a runs file with --runs", id="neither"),
        pytest.param([str(EXAMPLES / SESSION), "--runs", str(EXAMPLES / "demo_runs.json")],
                     "(one of them)", id="both"),
        pytest.param(["--runs", str(EXAMPLES / "demo_runs.json"), "--payload", "{}"],
                     "--payload, --payload-file, --mock-config, --stub and ENTRYPOINT go with "
                     "WORKFLOW.json", id="payload-with-runs"),
    ],
)  # fmt: skip
def test_run_needs_one_source(args: list[str], says: str) -> None:
    result = invoke("run", *args)
    assert result.exit_code == 2
    assert says in result.stderr


def test_runs_share_one_addon_per_id(tmp_path: Path) -> None:
    cache = {"id": "c", "type": "redis", "name": "c", "mode": "embedded"}
    put = {
        "addons": [cache],
        "steps": [step("put", "c::set_key", parameters={"key": "k", "value": "{{payload.v}}"})],
    }
    get = {"addons": [cache], "steps": [step("get", "c::get_key", parameters={"key": "k"})]}
    write(tmp_path, "put.json", put)
    write(tmp_path, "get.json", get)
    runs = [{"workflow": "put.json", "payload": {"v": "shared"}}, {"workflow": "get.json"}]
    result = invoke("run", "--runs", write(tmp_path, "runs.json", runs), "--json")
    assert result.exit_code == 0, result.output
    lines = json_lines(result.stdout)
    assert [(line["run"], line["workflow"]) for line in lines] == [(1, "put.json"), (2, "get.json")]
    assert lines[1]["output"]["value"] == "shared"
    other = {"addons": [{**cache, "key_prefix": "x:"}], "steps": get["steps"]}
    write(tmp_path, "get.json", other)
    clash = invoke("run", "--runs", str(tmp_path / "runs.json"))
    assert clash.exit_code == 2
    assert "addon 'c' is declared differently in two workflow files" in clash.stderr
    entry = write(tmp_path, "addon.json", cache)
    replaced = invoke("run", "--runs", str(tmp_path / "runs.json"), "--addon-config", entry)
    assert replaced.exit_code == 0, replaced.output


def test_run_bad_addon_config_names_the_option(tmp_path: Path) -> None:
    entry = {"id": "redis-cache", "type": "redis", "name": "c", "config": {"hots": "x"}}
    result = invoke("run", *CACHING, "--addon-config", write(tmp_path, "addon.json", entry))
    assert result.exit_code == 2
    assert "'hots'" in result.stderr


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param({"id": "c", "type": "redis", "name": "c", "mode": "standalone",
                      "config": {"port": 1}}, id="top-level-mode"),
        pytest.param({"id": "c", "type": "redis", "name": "c",
                      "config": {"mode": "standalone", "port": 1}}, id="mode-in-config"),
        pytest.param({"id": "c", "type": "redis", "name": "c", "port": 1}, id="template-shape"),
    ],
)  # fmt: skip
def test_embedded_flag_switches_any_entry_shape(tmp_path: Path, entry: dict[str, Any]) -> None:
    config = write(tmp_path, "addon.json", entry)
    result = invoke("call", "list_keys", "--addon-config", config, "--embedded")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["code"] == 200


def test_embedded_without_fakeredis_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("redis_rooms_pkg.addon._fakeredis_available", lambda: False)
    result = invoke("call", "list_keys", "--embedded")
    assert result.exit_code == 2
    assert "redis-rooms-pkg[embedded]" in result.stderr


def test_run_workflow_file_that_is_a_folder(tmp_path: Path) -> None:
    result = invoke("run", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot read workflow file {str(tmp_path)!r}")


def test_run_missing_workflow_file() -> None:
    result = invoke("run", "/nonexistent/workflow.json")
    assert result.exit_code == 2
    assert "workflow file '/nonexistent/workflow.json' not found" in result.stderr


def test_run_template_error_fails_its_step_after_the_steps_that_ran(tmp_path: Path) -> None:
    workflow = {
        "steps": [
            step("put", "cache::set_key", parameters={"key": "k", "value": "v"}),
            step("get", "cache::get_key", parameters={"key": "{{put.output.nope}}"}),
        ]
    }
    result = invoke("run", write(tmp_path, "w.json", workflow), "--json")
    assert result.exit_code == 1  # a step ran: not a refused file (2)
    put, get = json_lines(result.stdout)
    assert (put["id"], put["status"]) == ("put", "ok")
    assert get["status"] == "failed"
    assert "'nope' not found in put.output (it has: message, key, success" in get["message"]


@pytest.mark.parametrize(
    ("key", "payload", "says"),
    [
        pytest.param("{{payload.user.id}}", {"user": {"name": "x"}},
                     "template {{payload.user.id}}: 'id' not found in payload.user (it has: name)",
                     id="missing-field"),
        pytest.param("{{payload.tags.first}}", {"tags": ["x", "y"]},
                     "'first' not found in payload.tags (it is a list of 2 item(s))",
                     id="list-field"),
        pytest.param("{{payload.n.x}}", {"n": 5},
                     "'x' not found in payload.n (it is a int, not an object)", id="scalar-field"),
    ],
)  # fmt: skip
def test_run_payload_path_missing_fails_the_step(
    tmp_path: Path, key: str, payload: dict[str, Any], says: str
) -> None:
    workflow = {"steps": [step("a", "cache::get_key", parameters={"key": key})]}
    result = invoke("run", write(tmp_path, "w.json", workflow), "-p", json.dumps(payload), "--json")
    assert result.exit_code == 1
    (line,) = json_lines(result.stdout)
    assert line["status"] == "failed"
    assert says in line["message"]


ENGINE = EXAMPLES / "engine"
WEATHER = [str(ENGINE / "weather_cache.json"), "--mock-config", str(ENGINE / "mocks.json")]


def test_run_engine_file_with_mocks_misses_then_hits() -> None:
    result = invoke("run", *WEATHER, "--embedded", "-p", '{"city": "Oslo"}', "--repeat", "2",
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = json_lines(result.stdout)
    first = [(line["id"], line["status"]) for line in lines if line["run"] == 1]
    second = [line["id"] for line in lines if line["run"] == 2]
    assert first == [
        ("check-cache", "ok"), ("is-cached", "ok"), ("fetch-api", "mocked"),
        ("store-cache", "ok"),
    ]  # fmt: skip
    assert second == ["check-cache", "is-cached", "log-hit"]
    assert lines[-1]["output"]["message"] == "hit: 18 C in Oslo"
    assert {line["target"] for line in lines if "weather-cache::" in line["action"]} == {
        "the embedded in-process Redis"
    }


def test_run_table_says_where_the_data_went(tmp_path: Path) -> None:
    payload = write(tmp_path, "payload.json", {"city": "Oslo"})
    result = invoke("run", *WEATHER, "--embedded", "--payload-file", payload)
    assert result.exit_code == 0, result.output
    caption = " ".join(result.stdout.split())  # the caption wraps at the terminal's width
    assert "Redis: weather-cache -> the embedded in-process Redis" in caption
    assert "entrypoint 'default' at 'check-cache'" in caption
    assert "mocked" in result.stdout


def test_run_names_an_entrypoint(tmp_path: Path) -> None:
    document = json.loads((ENGINE / "weather_cache.json").read_text())
    document["entrypoints"].append({"id": "refresh", "name": "x", "startAt": "fetch-api"})
    path = write(tmp_path, "w.json", document)
    result = invoke("run", path, "refresh", *WEATHER[1:], "-p", '{"city": "Oslo"}', "--embedded",
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [line["id"] for line in json_lines(result.stdout)] == ["fetch-api", "store-cache"]
    wrong = invoke("run", path, "refrsh", *WEATHER[1:], "--embedded")
    assert wrong.exit_code == 2
    assert "no entrypoint 'refrsh' (did you mean 'refresh'?)" in wrong.stderr


def test_run_refuses_an_unmocked_step_that_is_read(tmp_path: Path) -> None:
    result = invoke("run", str(ENGINE / "weather_cache.json"), "--embedded", "-p", "{}")
    assert result.exit_code == 2
    assert 'add "weather-api::fetch": {"mock_response": {...}} to the --mock-config file' in (
        result.stderr
    )
    assert result.stdout == ""  # nothing ran


def test_run_lists_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    document = json.loads((ENGINE / "weather_cache.json").read_text())
    steps = document["workflow"]["steps"]
    steps[0]["conditon"] = steps[0]["next"]
    steps[1]["parameters"]["condition"] = "{{check-cach.output.found}} == true"
    result = invoke("run", write(tmp_path, "w.json", document), *WEATHER[1:], "--embedded",
                    "-p", "{}")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the workflow cannot run as written (2 problems;")
    assert "unknown field 'conditon' (did you mean 'condition'?)" in result.stderr
    assert "{{check-cach.output.found}} names no step or payload (did you mean 'check-cache'?)" in (
        result.stderr
    )


def test_run_prints_notes_on_stderr(tmp_path: Path) -> None:
    document = {"steps": [step("a", "builtin::log", parameters={"message": "hi"}, next=[]),
                          step("b", "builtin::log", parameters={"message": "b"})]}  # fmt: skip
    result = invoke("run", write(tmp_path, "w.json", document))
    assert result.exit_code == 0, result.output
    assert "note: w.json: no \"entrypoints\": the run starts at the first step, 'a'" in (
        result.stderr
    )
    assert "note: w.json: not reached from 'a', so never run: b" in result.stderr
    assert "no Redis steps" in result.stdout


@pytest.mark.parametrize(
    ("document", "says"),
    [
        pytest.param([1], "must hold an object", id="not-object"),
        pytest.param({"fetch": {"mock_response": {}}}, "a key names a step's action",
                     id="no-addon"),
        pytest.param({"a::b": {"response": {}}}, 'give the output as {"mock_response": {...}}',
                     id="no-mock-response"),
    ],
)  # fmt: skip
def test_run_bad_mock_config(tmp_path: Path, document: Any, says: str) -> None:
    mocks = write(tmp_path, "mocks.json", document)
    result = invoke("run", str(ENGINE / "weather_cache.json"), "--mock-config", mocks)
    assert result.exit_code == 2
    assert says in result.stderr


def test_run_payload_once(tmp_path: Path) -> None:
    payload = write(tmp_path, "p.json", {})
    result = invoke("run", *WEATHER, "-p", "{}", "--payload-file", payload)
    assert result.exit_code == 2
    assert "--payload or --payload-file, not both" in result.stderr


def test_runs_file_with_mocks_and_entrypoint(tmp_path: Path) -> None:
    runs = [
        {"workflow": str(ENGINE / "weather_cache.json"), "payload": {"city": "Rome"},
         "mock_config": str(ENGINE / "mocks.json"), "entrypoint": "default"},
    ]  # fmt: skip
    result = invoke("run", "--runs", write(tmp_path, "runs.json", runs), "--embedded", "--json")
    assert result.exit_code == 0, result.output
    assert json_lines(result.stdout)[2]["status"] == "mocked"


# --- call --------------------------------------------------------------------------------------


def test_call_prints_the_response_as_json() -> None:
    result = invoke("call", "set_key", "key=k", 'value:={"a":1}', "ex:=60", "--embedded")
    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout)
    assert response["code"] == 200
    output = response["output"]
    assert (output["key"], output["success"]) == ("k", True)
    assert output["message"] == "stored 'k' (expires in 60s)"
    assert response["tokens"] == {"stepAmount": 0, "totalCurrentAmount": 0}


@pytest.mark.parametrize(
    ("args", "stored"),
    [
        pytest.param(["value=1.50"], "1.50", id="text-stays-text"),
        pytest.param(["value=1e3"], "1e3", id="exponent-stays-text"),
        pytest.param(["value=true"], "true", id="true-stays-text"),
        pytest.param(["value:=1.50"], "1.5", id="json-number"),
        pytest.param(["value:={\"a\": 1}"], '{"a":1}', id="json-object"),
        pytest.param(["value=x", "ex=60"], "x", id="number-parameter-from-text"),
        pytest.param(["value=x", "ex:=60"], "x", id="number-parameter-from-json"),
    ],
)  # fmt: skip
def test_call_values_follow_httpie(args: list[str], stored: str) -> None:
    set_result = invoke("call", "set_key", "key=k", *args, "--embedded")
    assert set_result.exit_code == 0, set_result.output
    assert json.loads(set_result.stdout)["code"] == 200
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig({"id": "r", "type": "redis", "name": "r", "mode": "embedded"})
    response = addon.set_key(key="k", **call_values(args))  # the values `call` passed
    assert response.code == 200
    assert addon.client().get("k") == stored
    addon.close()


def test_call_optional_parameter_default() -> None:
    result = invoke("call", "list_keys", "--embedded")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"]["count"] == 0


def test_call_non_2xx_exits_1() -> None:
    result = invoke("call", "set_key", "key=k", "value=v", "ex=0", "--embedded")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["code"] == 400


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(["nope"], "unknown action 'nope'; known actions: ", id="unknown-action"),
        pytest.param(["get_key"], "get_key needs key=VALUE", id="missing"),
        pytest.param(["get_key", "key=a", "kee=b"],
                     "get_key takes no parameter 'kee' (did you mean 'key'?)", id="unknown"),
        pytest.param(["get_key", "key"], "parameter 'key' must look like NAME=TEXT or NAME:=JSON",
                     id="no-eq"),
        pytest.param(["set_key", "key=a", "value:={x"], "parameter value:= is not valid JSON",
                     id="bad-json"),
        pytest.param(["get_key", "key=a", "key=b"], "'key' is given twice", id="twice"),
        pytest.param(["get_key", "key=a", "--addon-config", "/nonexistent.json"],
                     "addon config '/nonexistent.json' not found", id="no-config-file"),
    ],
)  # fmt: skip
def test_call_bad_input(args: list[str], says: str) -> None:
    result = invoke("call", *args, "--embedded")
    assert result.exit_code == 2
    assert says in result.stderr


def test_call_picks_the_addon_from_a_workflow_file(tmp_path: Path) -> None:
    addons = [
        {"id": "one", "type": "redis", "name": "1", "mode": "embedded"},
        {"id": "two", "type": "redis", "name": "2", "mode": "embedded", "key_prefix": "p:"},
        {"id": "llm", "type": "openai", "name": "x"},
    ]
    path = write(tmp_path, "w.json", {"addons": addons, "steps": []})
    several = invoke("call", "get_key", "key=a", "--addon-config", path)
    assert several.exit_code == 2
    assert "several Redis addons (one, two): pick one with --addon-id" in several.stderr
    unknown = invoke("call", "get_key", "key=a", "--addon-config", path, "--addon-id", "llm")
    assert "no addon 'llm'" in unknown.stderr
    chosen = invoke("call", "get_key", "key=a", "--addon-config", path, "--addon-id", "two")
    assert chosen.exit_code == 0, chosen.output


@pytest.mark.parametrize(
    ("document", "says"),
    [
        pytest.param([1], "an addon object or a list of them", id="list-of-numbers"),
        pytest.param({"type": "redis"}, 'needs a non-empty "id"', id="no-id"),
        pytest.param({"addons": [{"id": "x", "type": "mongo"}]}, "no Redis addon", id="no-redis"),
    ],
)
def test_call_bad_addon_config_files(tmp_path: Path, document: Any, says: str) -> None:
    result = invoke("call", "list_keys", "--addon-config", write(tmp_path, "a.json", document))
    assert result.exit_code == 2
    assert says in result.stderr


# --- actions -----------------------------------------------------------------------------------


def test_actions_json_matches_catalogue_and_signatures() -> None:
    result = invoke("actions", "--json")
    assert result.exit_code == 0, result.output
    listed = {entry["name"]: entry for entry in json_lines(result.stdout)}
    assert set(listed) == {name for name in CATALOGUE if hasattr(RedisRoomsAddon, name)}
    for name, entry in listed.items():
        signature = inspect.signature(getattr(RedisRoomsAddon, name))
        assert [p["name"] for p in entry["parameters"]] == list(signature.parameters)[1:]
        assert entry["read_only"] is CATALOGUE[name].read_only
        assert entry["summary"] == CATALOGUE[name].summary
    assert listed["list_keys"]["parameters"][0]["default"] == "*"
    assert listed["get_key"]["parameters"][0]["required"] is True


def test_catalogue_entries_without_a_method_are_not_offered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(CATALOGUE, "ghost", CATALOGUE["get_key"])
    listed = [entry["name"] for entry in json_lines(invoke("actions", "--json").stdout)]
    assert "ghost" not in listed
    assert "get_key" in listed
    called = invoke("call", "ghost", "key=a", "--embedded")
    assert called.exit_code == 2
    assert "unknown action 'ghost'" in called.stderr


def test_check_needs_a_configured_addon() -> None:
    with pytest.raises(ValueError, match="no configuration"):
        run_check(RedisRoomsAddon())


def test_actions_table() -> None:
    result = invoke("actions")
    assert result.exit_code == 0
    for name in CATALOGUE:
        assert name in result.stdout
    assert "read-only" in result.stdout
    assert "destructive" in result.stdout
    assert "key: string" in result.stdout
    types = {
        param["type"]
        for entry in json_lines(invoke("actions", "--json").stdout)
        for param in entry["parameters"]
    }
    assert {"string", "integer", "array of string"} <= types  # the JSON schema's types


# --- check, version, help ----------------------------------------------------------------------


def test_check_embedded() -> None:
    result = invoke("check", "--embedded", "--json")
    assert result.exit_code == 0, result.output
    stages = {line["stage"]: line["status"] for line in json_lines(result.stdout)}
    assert stages == {"auth": "skip", "server": "ok", "latency": "ok"}


def test_check_embedded_table() -> None:
    result = invoke("check", "--embedded")
    assert result.exit_code == 0
    assert result.stdout.startswith("checking the embedded in-process Redis (addon 'redis')")
    assert re.search(r"✓ latency +PING round trip", result.stdout)


def test_version_and_help() -> None:
    assert invoke("--version").stdout.startswith("redis-rooms ")
    result = invoke()
    assert "run" in result.output
    assert "check" in result.output


def test_verbose_shows_the_addon_log(capfd: pytest.CaptureFixture[str]) -> None:
    quiet = subprocess.run(
        [str(SCRIPT), "call", "get_key", "key=", "--embedded"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    loud = subprocess.run(
        [str(SCRIPT), "-v", "call", "get_key", "key=", "--embedded"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert quiet.returncode == loud.returncode == 1
    assert "get_key failed (400)" not in quiet.stderr
    assert "get_key failed (400)" in loud.stderr


# --- the installed script and make demo ---------------------------------------------------------


def demo_command() -> list[str]:
    """The one command of the Makefile's demo target, as the installed script."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^demo:.*\n((?:\t.+\n)+)", makefile, re.M)
    assert recipe
    (line,) = recipe.group(1).strip().splitlines()
    args = shlex.split(line)
    assert args[:3] == ["$(POETRY)", "run", "redis-rooms"]
    return [str(SCRIPT), *args[3:]]


def test_make_demo_runs_every_example_on_one_redis() -> None:
    command = demo_command()
    shown = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "session_management.json (run 1 of 14)" in shown.stdout
    done = subprocess.run(
        [*command, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stdout)
    by_run: dict[int, dict[str, dict[str, Any]]] = {}
    for line in lines:
        by_run.setdefault(line["run"], {})[line["id"]] = line
    shipped = {path.name for path in EXAMPLES.glob("*.json")} - {"demo_runs.json"}
    shipped.add("engine/weather_cache.json")  # the engine's own format, other addons mocked
    shipped |= {"engine/queue_producer.json", "engine/queue_consumer.json"}  # the reliable queue
    assert {line["workflow"] for line in lines} == shipped  # every use case is in the demo
    assert by_run[1]["verify-session"]["output"]["value"] == "tok-7f3a"
    # the external steps of the first API-caching run, the rate-limited call, the thumbnail,
    # the charge and the two LLM turns; the second API-caching run is served from the cache
    assert sum(line["status"] == "stubbed" for line in lines) == 7  # + a failed thumbnail
    assert by_run[3]["check-cache"]["output"]["found"] is True
    assert by_run[3]["fetch-api"]["status"] == "skipped"
    assert by_run[6]["take-job"]["output"]["found"] is True  # the producer's job
    assert any(line["output"] and line["output"].get("released") for line in by_run[7].values())
    assert by_run[9]["load-history"]["output"]["count"] == 2  # the agent remembered
    # the engine-format cache-aside: a miss (the API's response mocked), then a hit
    assert list(by_run[10]) == ["check-cache", "is-cached", "fetch-api", "store-cache"]
    assert by_run[10]["fetch-api"]["status"] == "mocked"
    assert list(by_run[11]) == ["check-cache", "is-cached", "log-hit"]
    assert by_run[11]["log-hit"]["output"]["message"] == "hit: 18 C in Paris"
    # the reliable queue: the job fails once, is given back, and the next run finishes it
    assert by_run[13]["retry-job"]["output"]["dead"] is False
    assert by_run[14]["take-job"]["output"]["jobs"][0]["deliveries"] == 2
    assert by_run[14]["finish-job"]["output"]["acked"] == 1


def test_installed_script_json_run() -> None:
    done = subprocess.run(
        [str(SCRIPT), "run", *CACHING, "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [line["status"] for line in json_lines(done.stdout)] == ["ok", "stubbed", "ok"]


def test_installed_script_bad_file_has_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SCRIPT), "run", write(tmp_path, "w.json", "{oops")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "is not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr


def test_addon_import_stays_light() -> None:
    code = (
        "import sys, redis_rooms_pkg.addon, redis_rooms_pkg.workflow; "
        "print(sorted(m for m in ('typer', 'rich', 'click') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_actions_markdown_prints_the_generated_reference() -> None:
    done = invoke("actions", "--markdown")
    assert done.exit_code == 0
    assert done.output == (Path(__file__).parents[2] / "docs" / "actions.md").read_text()
