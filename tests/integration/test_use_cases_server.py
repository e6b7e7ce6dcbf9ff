"""The README's use-case workflows against a real redis-server; cases live in use_case_cases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import PASSWORD
from servers import RedisServer
from use_case_cases import *  # noqa: F403 - the shared cases, collected here
from use_case_cases import FlowAddons, flow_addons_with


@pytest.fixture
def flow_addons(server: RedisServer) -> Iterator[FlowAddons]:
    """The workflow's own addon entries, pointed at the test server, credentials as the engine
    passes them (loadCredentials)."""
    yield from flow_addons_with(
        lambda config: {**config, "host": "127.0.0.1", "port": server.port},
        redis_password=PASSWORD,
    )
