"""docs/guarantees.md lists every action of the catalogue, once, in catalogue order."""

from __future__ import annotations

from pathlib import Path

from redis_rooms_pkg.actions import CATALOGUE, NAMES

DOC = Path(__file__).resolve().parents[2] / "docs" / "guarantees.md"


def action_rows() -> list[tuple[str, str]]:
    rows = []
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            rows.append((cells[0].strip("`"), cells[2]))
    return rows


def test_the_guarantee_table_lists_every_action() -> None:
    assert [name for name, _ in action_rows()] == list(NAMES)


def test_only_writing_actions_may_answer_may_have_been_applied() -> None:
    for name, unknown in action_rows():
        if not CATALOGUE[name].writes:
            assert "may have been applied" not in unknown, name
