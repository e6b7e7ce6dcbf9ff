"""The richer key actions on the embedded backend (fakeredis); cases in key_action_cases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from key_action_cases import *  # noqa: F403 - the shared cases, collected here
from redis_rooms_pkg.addon import RedisRoomsAddon


@pytest.fixture
def addon(embedded: RedisRoomsAddon) -> RedisRoomsAddon:
    return embedded


@pytest.fixture
def make(make_addon: Callable[..., RedisRoomsAddon]) -> Callable[..., RedisRoomsAddon]:
    """An addon with extra options, on its own in-process server."""
    return lambda **options: make_addon(mode="embedded", **options)
