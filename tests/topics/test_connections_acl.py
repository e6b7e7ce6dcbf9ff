"""ACL users against a real redis-server: key patterns, command rules, user name as a secret."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from managed_fixtures import readme_example
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer, add_acl_user

LoadAddon = Callable[..., RedisRoomsAddon]
APP_PASSWORD = "app-Acl9$secret"  # the ACL users' password


@pytest.fixture
def acl_server(server: RedisServer) -> Iterator[RedisServer]:
    """The shared server with users: app (~app:* only), reader (read commands), unnamed."""
    add_acl_user(server, "app", APP_PASSWORD, "~app:*", "+@all")
    add_acl_user(server, "reader", APP_PASSWORD, "~*", "+@read", "+@connection")
    add_acl_user(server, "unnamed", APP_PASSWORD, "~*", "+@all", "-client|setname")
    yield server
    server.client().execute_command("ACL", "DELUSER", "app", "reader", "unnamed")


def acl_entry(server: RedisServer, **swap: object) -> dict:
    return readme_example("acl", swap={"host": "127.0.0.1", "port": server.port, **swap})


def test_user_works_inside_its_key_pattern(acl_server: RedisServer, load_addon: LoadAddon) -> None:
    addon = load_addon(acl_entry(acl_server), redis_password=APP_PASSWORD)
    assert addon.set_key("order:1", "paid").code == 200
    assert addon.get_key("order:1").output.value == "paid"
    listed = addon.list_keys("*")
    assert (listed.code, listed.output.keys) == (200, ["order:1"])
    assert addon.delete_key("order:1").output.deleted is True
    names = [c["name"] for c in acl_server.client().client_list() if c["user"] == "app"]
    assert names == ["rooms:redis-cache"]  # the default client_name, on every connection


def test_key_outside_the_pattern_is_403_naming_the_key_rule(
    acl_server: RedisServer, load_addon: LoadAddon
) -> None:
    addon = load_addon(acl_entry(acl_server, key_prefix="billing:"), redis_password=APP_PASSWORD)
    response = addon.set_key("invoice:1", "x")
    assert response.code == 403
    assert "NOPERM" in response.message
    assert "key is outside the user's key patterns" in response.message
    assert "set_key" in response.message
    assert acl_server.client().exists("billing:invoice:1") == 0


def test_command_not_granted_is_403_naming_the_command(
    acl_server: RedisServer, load_addon: LoadAddon
) -> None:
    addon = load_addon(acl_entry(acl_server, username="reader"), redis_password=APP_PASSWORD)
    assert addon.get_key("k").code == 200
    response = addon.set_key("k", "v")
    assert response.code == 403
    assert "may not run the SET command" in response.message


def test_user_without_client_setname_needs_empty_client_name(
    acl_server: RedisServer, load_addon: LoadAddon
) -> None:
    named = load_addon(acl_entry(acl_server, username="unnamed"), redis_password=APP_PASSWORD)
    response = named.get_key("app:k")
    assert response.code == 403
    assert 'set client_name to ""' in response.message
    entry = acl_entry(acl_server, username="unnamed")
    entry["config"]["client_name"] = ""
    assert load_addon(entry, redis_password=APP_PASSWORD).get_key("app:k").code == 200


def test_username_from_secret(
    acl_server: RedisServer, load_addon: LoadAddon, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = acl_entry(acl_server)
    del entry["config"]["username"]
    entry["secrets"]["redis_username"] = "REDIS_USERNAME"
    monkeypatch.setenv("REDIS_USERNAME", "app")
    monkeypatch.setenv("REDIS_PASSWORD", APP_PASSWORD)
    addon = load_addon(entry)
    assert addon.set_key("k", "v").code == 200
    assert acl_server.client().get("app:k") == "v"


def test_wrong_password_for_user_is_401(acl_server: RedisServer, load_addon: LoadAddon) -> None:
    addon = load_addon(acl_entry(acl_server), redis_password="not-" + APP_PASSWORD)
    response = addon.get_key("k")
    assert response.code == 401
    assert APP_PASSWORD not in response.model_dump_json()
