"""The options that bound every action: key_prefix, read_only, max_value_bytes. Cases take
``addon``/``make`` (both backends, tests/backends.py); each family's own over-the-limit
case lives with the family (``limited``)."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from action_support import MakeAddon, key_count, seed
from catalogue_calls import READ_CALLS, WRITE_CALLS
from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

# --- key_prefix -------------------------------------------------------------------------------


def test_key_prefix_namespaces_every_action(make: MakeAddon) -> None:
    addon = make(key_prefix="wf42:")
    addon.set_key("a", "1")
    raw = addon.client()
    raw.set("outside", "x")
    raw.set("wf42X", "x")
    assert raw.get("wf42:a") == "1"
    assert addon.get_key("a").output.value == "1"
    listed = addon.list_keys("*")
    assert listed.output.keys == ["a"]
    assert addon.get_key("outside").output.found is False
    assert addon.delete_key("a").output.deleted is True
    assert raw.exists("outside", "wf42X") == 2


def test_key_prefix_with_glob_characters_is_literal(make: MakeAddon) -> None:
    addon = make(key_prefix="t[1]*:")
    addon.set_key("a", "1")
    addon.client().set("t1x:b", "no")
    assert addon.list_keys("*").output.keys == ["a"]


def test_key_prefix_confines_every_action(make: MakeAddon) -> None:
    addon = make(key_prefix="wf1:")
    raw = addon.client()
    seed(addon, {"outside": 1, "wf2:x": 1})
    assert addon.set_many({"a": 1, "b": 2}).code == 200
    assert addon.set_key("c", "3", nx=True).output.written is True
    assert sorted(raw.scan_iter("wf1:*")) == ["wf1:a", "wf1:b", "wf1:c"]
    assert addon.get_many(["a", "outside"]).output.values == {"a": "1", "outside": None}
    assert addon.exists_key(["a", "outside"]).output.exists == {"a": True, "outside": False}
    assert addon.expire_key("a", ex=100).output.updated is True
    assert 90 < raw.ttl("wf1:a") <= 100
    assert addon.get_ttl("a").output.found is True
    assert addon.list_keys(with_values=True).output.values == {"a": "1", "b": "2", "c": "3"}
    assert addon.delete_key(keys=["a", "outside"]).output.deleted_count == 1
    assert addon.delete_matching("*", allow_all=True).output.deleted_count == 2
    assert sorted(raw.scan_iter("*")) == ["outside", "wf2:x"]


# --- read_only --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WRITE_CALLS))
def test_read_only_refuses_every_write(make: MakeAddon, name: str) -> None:
    addon = make(read_only=True)
    addon.client().set("keep", "v")
    response = getattr(addon, name)(**WRITE_CALLS[name])
    assert response.code == 403
    assert "addon is read-only" in response.message
    assert key_count(addon) == 1
    assert addon.client().get("keep") == "v"
    assert addon.client().ttl("keep") == -1


@pytest.mark.parametrize("name", sorted(READ_CALLS))
def test_read_only_still_reads(make: MakeAddon, name: str) -> None:
    addon = make(read_only=True)
    addon.client().set("keep", "v")
    assert getattr(addon, name)(**READ_CALLS[name]).code == 200


def test_read_only_sends_nothing_for_a_write(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(
        password=PASSWORD, host="127.0.0.1", port=server.port, socket_timeout=2, read_only=True
    )
    raw = server.client()  # one connection for the checks: its own commands are known
    raw.config_resetstat()
    assert addon.set_key("k", "v").code == 403
    assert addon.delete_matching("*", allow_all=True).code == 403
    assert set(raw.info("commandstats")) == {"cmdstat_config|resetstat"}  # nothing from the addon
    assert addon.get_key("k").code == 200
    assert raw.info("commandstats")["cmdstat_get"]["calls"] == 1


# --- max_value_bytes --------------------------------------------------------------------------


def test_max_value_bytes_refuses_large_values(make: MakeAddon) -> None:
    addon = make(max_value_bytes=10)
    assert addon.set_key("k", "x" * 10).code == 200
    too_big = addon.set_key("k", "é" * 6)  # 12 bytes in UTF-8
    assert too_big.code == 413
    assert "max_value_bytes" in too_big.message
    assert addon.client().get("k") == "x" * 10
    assert addon.set_key("b", base64.b64encode(b"\x00" * 11).decode(), encoding="base64").code == (
        413
    )
    batch = addon.set_many({"a": "small", "b": "y" * 11})
    assert batch.code == 413
    assert addon.client().exists("a", "b") == 0


def test_default_max_value_bytes_is_one_mebibyte(addon: RedisRoomsAddon) -> None:
    assert addon.set_key("k", "x" * (1024 * 1024)).code == 200
    assert addon.set_key("k", "x" * (1024 * 1024 + 1)).code == 413
