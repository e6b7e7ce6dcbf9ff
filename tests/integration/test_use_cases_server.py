"""The README's use-case workflows against a real redis-server; cases live in use_case_cases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.workflow import redis_addon_entries
from servers import RedisServer
from use_case_cases import *  # noqa: F403 - the shared cases, collected here
from use_case_cases import FlowAddons


@pytest.fixture
def flow_addons(server: RedisServer) -> Iterator[FlowAddons]:
    """The workflow's own addon entries, pointed at the test server, credentials as the engine
    passes them (loadCredentials)."""
    made: list[RedisRoomsAddon] = []

    def build(workflow: dict) -> dict[str, RedisRoomsAddon]:
        addons = {}
        for addon_id, entry in redis_addon_entries(workflow).items():
            addon = RedisRoomsAddon()
            config = {**entry["config"], "host": "127.0.0.1", "port": server.port}
            assert addon.loadAddonConfig({**entry, "config": config})
            assert addon.loadCredentials(redis_password=PASSWORD)
            made.append(addon)
            addons[addon_id] = addon
        return addons

    yield build
    for addon in made:
        addon.close()
