"""server_info: what a real server reports, and the embedded Redis's 501."""

from __future__ import annotations

from collections.abc import Callable

from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer


def test_server_info_says_the_embedded_redis_has_no_info(embedded: RedisRoomsAddon) -> None:
    response = embedded.server_info()
    assert response.code == 501
    assert "embedded" in response.message


def test_server_info_refuses_unknown_sections(prefixed: RedisRoomsAddon) -> None:
    response = prefixed.server_info(section="secrets")
    assert response.code == 400
    assert "section" in response.message


def test_server_info_reports_the_first_things_to_check(
    real_prefixed: RedisRoomsAddon, server: RedisServer
) -> None:
    server.client().set("a", 1, ex=100)
    server.client().set("b", 2)
    response = real_prefixed.server_info()
    assert response.code == 200, response.message
    out = response.output
    assert out.version == server.client().info("server")["redis_version"]
    assert (out.mode, out.role) == ("standalone", "master")
    assert out.used_memory > 0
    assert out.used_memory_human
    assert out.connected_clients >= 1
    assert out.uptime_s >= 0
    assert out.keyspace["db0"]["keys"] == 2
    assert out.keyspace["db0"]["expires"] == 1
    assert out.info is None
    memory = real_prefixed.server_info(section="memory").output.info
    assert "used_memory_peak" in memory
    assert "redis_version" not in memory


def test_read_only_addon_still_reports_server_info(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(password=PASSWORD, host="127.0.0.1", port=server.port, read_only=True)
    assert addon.server_info().code == 200
    refused = addon.increment("n")
    assert refused.code == 403
    assert server.client().exists("n") == 0


def test_server_info_denied_by_acl_is_403(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    server.client().acl_setuser(
        "no-info",
        enabled=True,
        passwords=["+no-info-pw"],
        keys=["*"],
        commands=["+@all", "-info"],
    )
    try:
        addon = make_addon(
            password="no-info-pw", host="127.0.0.1", port=server.port, username="no-info"
        )
        response = addon.server_info()
        assert response.code == 403
        assert "denied" in response.message
    finally:
        server.client().acl_deluser("no-info")
