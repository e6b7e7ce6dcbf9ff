"""The README is the product's front door: its tables, examples and commands match the code."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.configuration import BaseAddonConfig, CustomAddonConfig
from redis_rooms_pkg.configuration.addonconfig import KNOWN_SECRETS

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()


def section(title: str, text: str = README) -> str:
    """The text of the section headed ``title`` (until the next heading of the same level)."""
    match = re.search(rf"^(#+) {re.escape(title)}\s*$", text, re.M)
    assert match, f"README has no section {title!r}"
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def table(text: str) -> dict[str, list[str]]:
    """Body rows of the first markdown table in ``text``, keyed by the first cell (no backticks)."""
    lines = [line.strip() for line in text.splitlines() if line.startswith("|")]
    rows = {}
    for line in lines[2:]:  # after the header and its separator
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def json_blocks(text: str) -> list:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]


def default_text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    return json.dumps(value) if not isinstance(value, float) else f"{value:g}"


def test_quickstart_is_exactly_make_demo_and_make_test() -> None:
    block = re.search(r"```bash\n(.*?)```", section("Quickstart"), re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_base_fields_table_matches_the_model() -> None:
    rows = table(section("BaseAddonConfig Fields"))
    assert list(rows) == list(BaseAddonConfig.model_fields)


def test_redis_fields_table_matches_the_model() -> None:
    rows = table(section("CustomAddonConfig Fields (redis-specific)"))
    options = [f for f in CustomAddonConfig.model_fields if f not in BaseAddonConfig.model_fields]
    assert list(rows) == options
    for name in options:
        field = CustomAddonConfig.model_fields[name]
        assert rows[name][2] == default_text(field.default), name
        assert rows[name][3].startswith(field.description.split(" (")[0]), name


def test_secrets_table_lists_every_known_secret() -> None:
    rows = table(section("Required Secrets"))
    assert set(rows) == set(KNOWN_SECRETS)
    env_example = (ROOT / ".env.example").read_text()
    for cells in rows.values():
        assert f"{cells[0].strip('`')}=" in env_example


def bullets(text: str, heading: str) -> list[str]:
    part = text.split(f"**{heading}:**", 1)[1].split("**", 1)[0]
    return re.findall(r"^- `(\w+)`", part, re.M)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_action_reference_matches_the_models(name: str) -> None:
    text = section(name)
    spec = CATALOGUE[name]
    assert bullets(text, "Parameters") == list(spec.input.model_fields)
    assert sorted(bullets(text, "Output Structure")) == sorted(spec.output.model_fields)
    examples = json_blocks(text)
    assert examples, f"{name} has no workflow JSON example"
    assert all(example["action"].endswith(f"::{name}") for example in examples)


def test_every_action_has_a_section() -> None:
    documented = set(re.findall(r"^### (\w+)\s*$", section("Available Actions"), re.M))
    assert documented == set(CATALOGUE)


USE_CASES = [
    pytest.param("Caching API Responses", ["api_caching.json"], id="api-caching"),
    pytest.param("Session Management", ["session_management.json"], id="sessions"),
    pytest.param("Rate Limiting an External API", ["rate_limiting.json"], id="rate-limiting"),
    pytest.param(
        "A Work Queue Between Two Workflows",
        ["work_queue_producer.json", "work_queue_consumer.json"],
        id="work-queue",
    ),
    pytest.param("Idempotent Step with a Lock", ["idempotent_lock.json"], id="lock"),
    pytest.param("Agent Chat Memory", ["agent_memory.json"], id="agent-memory"),
]


@pytest.mark.parametrize(("title", "examples"), USE_CASES)
def test_use_cases_are_the_shipped_examples(title: str, examples: list[str]) -> None:
    documented = json_blocks(section(title))
    assert len(documented) == len(examples)
    for block, example in zip(documented, examples, strict=True):
        shipped = json.loads((ROOT / "examples" / example).read_text())
        assert block["steps"] == shipped["steps"], example
        assert (
            shipped["addons"]
            == json.loads((ROOT / "examples" / "session_management.json").read_text())["addons"]
        )


def test_every_use_case_is_documented_and_shipped() -> None:
    titles = re.findall(r"^### (.+?)\s*$", section("Common Use Cases"), re.M)
    assert titles == [case.values[0] for case in USE_CASES]
    shipped = {path.name for path in (ROOT / "examples").glob("*.json")}
    shipped.discard("demo_runs.json")  # make demo's list of runs, not a workflow
    assert shipped == {name for case in USE_CASES for name in case.values[1]}


def test_addon_configuration_example_is_the_shipped_entry() -> None:
    (documented,) = json_blocks(section("Addon Configuration"))
    shipped = json.loads((ROOT / "examples" / "session_management.json").read_text())
    assert documented["addons"] == shipped["addons"]
    CustomAddonConfig(**documented["addons"][0])


def test_python_snippet_runs_as_shown() -> None:
    code = re.search(r"```python\n(.*?)```", section("Using the addon from Python"), re.S).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README", "exec"), {})
    assert printed.getvalue().strip() == "hello"


def parameter_bullets(text: str) -> dict[str, str]:
    """Each ``- `name` (...)`` bullet of the Parameters list: name -> what the brackets say."""
    part = text.split("**Parameters:**", 1)[1].split("**", 1)[0]
    return dict(re.findall(r"^- `(\w+)` \(([^)]*)\)", part, re.M))


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_parameter_bullets_say_required_and_default_as_the_model(name: str) -> None:
    fields = CATALOGUE[name].input.model_fields
    for parameter, brackets in parameter_bullets(section(name)).items():
        field = fields[parameter]
        assert ("required" in brackets.split(", ")) == field.is_required(), parameter
        default = re.search(r"default (.+)$", brackets)
        if default:
            assert default.group(1) == default_text(field.default), parameter


def filled(value: object) -> object:
    """A parameter with every ``{{template}}`` rendered as "1" (valid as a key, number, cursor)."""
    if isinstance(value, dict):
        return {filled(key): filled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [filled(item) for item in value]
    return re.sub(r"\{\{[^}]*\}\}", "1", value) if isinstance(value, str) else value


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_workflow_examples_are_valid_parameters(name: str) -> None:
    for example in json_blocks(section(name)):
        CATALOGUE[name].input.model_validate(filled(example["parameters"]))


def test_actions_table_matches_the_catalogue_flags() -> None:
    text = section("Available Actions")
    rows = table(text.split("| Action |", 1)[1].join(["| Action |", ""]))
    assert list(rows) == list(CATALOGUE)
    for name, (access, summary) in rows.items():
        spec = CATALOGUE[name]
        expected = "reads" if spec.read_only else "writes"
        expected += " (destructive)" if spec.destructive else ""
        assert access == expected, name
        assert summary, name


def test_contents_lists_every_top_level_section() -> None:
    listed = re.findall(r"^- \[(.+?)\]\(#([\w-]+)\)$", section("Contents"), re.M)
    headings = re.findall(r"^## (.+)$", README, re.M)
    expected = [h for h in headings if h not in ("Overview", "Quickstart", "Contents")]
    assert [title for title, _ in listed] == expected
    for title, anchor in listed:
        assert anchor == re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
