"""One valid call per action, taken from its documented example step, so a new action needs no
entry in any test table: templates are filled with "1" (valid as a key, a number, a cursor), and
waits (and cursors) are dropped so that no call blocks."""

from __future__ import annotations

import re
from typing import Any

from redis_rooms_pkg.actions import CATALOGUE


def filled(value: Any) -> Any:
    """``value`` with every ``{{template}}`` rendered as "1"."""
    if isinstance(value, dict):
        return {filled(key): filled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [filled(item) for item in value]
    return re.sub(r"\{\{[^}]*\}\}", "1", value) if isinstance(value, str) else value


def example_call(name: str) -> dict[str, Any]:
    """The parameters of ``name``'s first example step, filled, without a wait (nor a cursor,
    which only the deployment that handed it out takes)."""
    parameters = filled(CATALOGUE[name].examples[0]["parameters"])
    parameters.pop("wait_s", None)
    parameters.pop("cursor", None)
    return parameters


CALLS: dict[str, dict[str, Any]] = {name: example_call(name) for name in CATALOGUE}
WRITE_CALLS = {name: call for name, call in CALLS.items() if CATALOGUE[name].writes}
# server_info reads too, but the embedded Redis has no INFO (501): its checks are its own
READ_CALLS = {
    name: call
    for name, call in CALLS.items()
    if CATALOGUE[name].read_only and name != "server_info"
}
