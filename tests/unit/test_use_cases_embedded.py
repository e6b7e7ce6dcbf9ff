"""The README's use-case workflows on the embedded Redis; the cases live in use_case_cases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.workflow import redis_addon_entries
from use_case_cases import *  # noqa: F403 - the shared cases, collected here
from use_case_cases import FlowAddons


@pytest.fixture
def flow_addons() -> Iterator[FlowAddons]:
    """The workflow's own addon entries, switched to the in-process embedded Redis."""
    made: list[RedisRoomsAddon] = []

    def build(workflow: dict) -> dict[str, RedisRoomsAddon]:
        addons = {}
        for addon_id, entry in redis_addon_entries(workflow).items():
            addon = RedisRoomsAddon()
            assert addon.loadAddonConfig(
                {**entry, "config": {**entry["config"], "mode": "embedded"}}
            )
            made.append(addon)
            addons[addon_id] = addon
        return addons

    yield build
    for addon in made:
        addon.close()
