"""The richer key actions against a real redis-server; the cases live in key_action_cases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import PASSWORD
from key_action_cases import *  # noqa: F403 - the shared cases, collected here
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer


@pytest.fixture
def addon(real_addon: RedisRoomsAddon) -> RedisRoomsAddon:
    return real_addon


@pytest.fixture
def make(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> Callable[..., RedisRoomsAddon]:
    """An addon with extra options, on the (emptied) real server."""
    return lambda **options: make_addon(
        password=PASSWORD, host="127.0.0.1", port=server.port, socket_timeout=2, **options
    )
