"""docs/guarantees.md lists every writing action once, in catalogue order (reads: resent)."""

from __future__ import annotations

from pathlib import Path

from redis_rooms_pkg.actions import CATALOGUE

NAMES = list(CATALOGUE)  # every declared action, in declaration order

DOC = Path(__file__).resolve().parents[2] / "docs" / "guarantees.md"


def action_rows() -> list[tuple[str, str]]:
    rows = []
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 3:
            rows.append((cells[0].strip("`"), cells[2]))
    return rows


def test_the_guarantee_table_lists_every_writing_action() -> None:
    writes = [name for name in NAMES if CATALOGUE[name].writes]
    assert [name for name, _ in action_rows()] == writes


def test_every_read_is_said_to_be_resent() -> None:
    assert "Every action that only reads" in DOC.read_text()
    assert all(CATALOGUE[name].writes for name, _ in action_rows())
