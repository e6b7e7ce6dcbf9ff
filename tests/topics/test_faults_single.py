"""A single server under faults: a frozen server never mixes replies up."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conftest import PASSWORD, entry
from faults import SOCKET_TIMEOUT, frozen_then_read
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

pytestmark = pytest.mark.integration  # the tests start their own servers


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


def test_durable_write_without_replicas_is_202_and_applied(
    own_server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    """min_replicas_acked on a server with no replica: every write waits replica_ack_timeout_ms,
    is applied, and answers 202 saying so; reads answer 200 without waiting."""
    addon = make_addon(
        password=PASSWORD, host="127.0.0.1", port=own_server.port,
        min_replicas_acked=1, replica_ack_timeout_ms=50,
    )  # fmt: skip
    pushed = addon.list_push("queue", ["a", "b"])
    assert pushed.code == 202, pushed.message
    assert pushed.output.length == 2
    assert "applied on the primary, but only 0 of the 1 replicas" in pushed.message
    assert "Do not run the step again" in pushed.message
    assert own_server.client().lrange("queue", 0, -1) == ["a", "b"]
    many = addon.set_many({"x": 1, "y": 2}, ex=60)  # a pipeline: on the same connection
    assert (many.code, many.output.count) == (202, 2)
    assert addon.get_key("x").code == 200


def test_durable_writes_refused_where_they_cannot_hold(
    make_addon: Callable[..., RedisRoomsAddon],
) -> None:
    for options in (
        {"mode": "cluster", "startup_nodes": ["127.0.0.1:7000"], "min_replicas_acked": 1},
        {"socket_timeout": 1, "min_replicas_acked": 1, "replica_ack_timeout_ms": 1000},
    ):
        addon = RedisRoomsAddon()
        assert addon.loadAddonConfig(entry(**options)) is False


def test_a_storm_of_one_failure_logs_one_line(
    make_addon: Callable[..., RedisRoomsAddon], log_lines: list[str]
) -> None:
    """Nothing listens on port 1: 50 failed steps, one WARNING; every step still answers."""
    addon = make_addon(host="127.0.0.1", port=1, retry_attempts=0)
    codes = {addon.get_key("k").code for _ in range(50)}
    assert codes == {503}
    warnings = [line for line in log_lines if line.startswith("WARNING") and "failed" in line]
    assert len(warnings) == 1, warnings
