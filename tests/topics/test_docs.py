"""The README (the front page) and docs/: generated parts current, examples shipped and run."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from catalogue_calls import filled
from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.cli.reference import generated_pages
from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.configuration.addonconfig import KNOWN_SECRETS

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()
RECIPES = (ROOT / "docs" / "recipes.md").read_text()


def section(title: str, text: str = README) -> str:
    """The text of the section headed ``title`` (until the next heading of the same level)."""
    match = re.search(rf"^(#+) {re.escape(title)}\s*$", text, re.M)
    assert match, f"no section {title!r}"
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


def test_quickstart_is_exactly_make_demo_and_make_test() -> None:
    block = re.search(r"```bash\n(.*?)```", section("Quickstart"), re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_generated_pages_are_current() -> None:
    """docs/actions.md, the README's actions table and docs/configuration.md's field tables are
    what the code says (`make docs` rewrites them)."""
    for path, text in generated_pages(ROOT).items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is stale: run make docs"


def test_secrets_table_lists_every_known_secret() -> None:
    rows = table(section("Required Secrets", CONFIGURATION))
    assert list(rows) == list(KNOWN_SECRETS)
    env_example = (ROOT / ".env.example").read_text()
    for cells in rows.values():
        assert f"{cells[0].strip('`')}=" in env_example


def test_every_action_has_example_steps() -> None:
    for name in CATALOGUE:
        steps = CATALOGUE[name].examples
        assert steps, name
        assert all(step["action"] == f"redis-cache::{name}" for step in steps), name


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_example_steps_run_on_the_embedded_redis(embedded, name: str) -> None:
    """Each action's documented example step, templates filled, answers 200 (server_info: the
    embedded Redis has no INFO, so 501)."""
    for step in CATALOGUE[name].examples:
        response = getattr(embedded, name)(**filled(step["parameters"]))
        assert response.code == (501 if name == "server_info" else 200), response.message


def test_readme_is_a_front_page() -> None:
    assert len(README.splitlines()) <= 250
    for heading in ("Quickstart", "Local development", "Install", "Actions", "Errors"):
        section(heading)


def test_every_docs_page_is_linked_and_every_link_resolves() -> None:
    links = set(re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)(?:#[\w-]+)?\)", README))
    pages = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")}
    assert pages <= links, f"pages the README does not link: {sorted(pages - links)}"
    for link in links:
        assert (ROOT / link).is_file(), link
    anchors = set(re.findall(r"\(docs/actions\.md#(\w+)\)", README))
    assert anchors == set(CATALOGUE)


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
    documented = json_blocks(section(title, RECIPES))
    assert len(documented) == len(examples)
    for block, example in zip(documented, examples, strict=True):
        shipped = json.loads((ROOT / "examples" / example).read_text())
        assert block["steps"] == shipped["steps"], example
        assert (
            shipped["addons"]
            == json.loads((ROOT / "examples" / "session_management.json").read_text())["addons"]
        )


def test_every_use_case_is_documented_and_shipped() -> None:
    titles = re.findall(r"^## (.+?)\s*$", section("Common Use Cases", RECIPES), re.M)
    assert titles == [case.values[0] for case in USE_CASES]
    shipped = {path.name for path in (ROOT / "examples").glob("*.json")}
    shipped.discard("demo_runs.json")  # make demo's list of runs, not a workflow
    assert shipped == {name for case in USE_CASES for name in case.values[1]}


def test_addon_configuration_example_is_the_shipped_entry() -> None:
    (documented,) = json_blocks(section("Addon Configuration", CONFIGURATION))
    shipped = json.loads((ROOT / "examples" / "session_management.json").read_text())
    assert documented["addons"] == shipped["addons"]
    CustomAddonConfig(**documented["addons"][0])


def test_python_snippet_runs_as_shown() -> None:
    code = re.search(
        r"```python\n(.*?)```", section("Using the addon from Python", RECIPES), re.S
    ).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README", "exec"), {})
    assert printed.getvalue().strip() == "hello"
