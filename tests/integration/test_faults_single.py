"""A single server under faults: a frozen server never mixes replies up."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conftest import PASSWORD
from faults import SOCKET_TIMEOUT, frozen_then_read
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer


@pytest.fixture
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """Its own server: it is frozen here."""
    server = RedisServer(tmp_path_factory.mktemp("frozen"), password=PASSWORD).start()
    yield server
    server.stop()


def test_frozen_server_never_answers_another_commands_reply(
    own_server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(
        password=PASSWORD, host="127.0.0.1", port=own_server.port,
        socket_timeout=SOCKET_TIMEOUT, max_connections=1,
    )  # fmt: skip
    frozen_then_read(addon, own_server, ("alpha", "beta"))
