"""Life cycle: lazy client, reuse, close, health check, unconfigured use, embedded extra."""

from __future__ import annotations

import socket
import sys

import pytest

from conftest import entry
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.services import client as client_module


def test_no_socket_before_the_first_action(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry(host="127.0.0.1", port=1))
    assert addon.loadCredentials(redis_password="pw")
    assert addon._context is None


def test_client_is_built_once_and_reused(embedded: RedisRoomsAddon) -> None:
    embedded.set_key("a", "1")
    first = embedded.client()
    embedded.get_key("a")
    assert embedded.client() is first


def test_close_releases_and_next_action_reconnects(embedded: RedisRoomsAddon) -> None:
    embedded.set_key("a", "1")
    first = embedded.client()
    embedded.close()
    assert embedded._context is None
    assert embedded.set_key("b", "2").code == 200
    assert embedded.client() is not first


def test_context_manager_closes() -> None:
    with RedisRoomsAddon() as addon:
        assert addon.loadAddonConfig(entry(mode="embedded"))
        addon.set_key("a", "1")
        assert addon._context is not None
    assert addon._context is None


def test_action_before_config_is_500_not_an_exception() -> None:
    addon = RedisRoomsAddon()
    response = addon.get_key("a")
    assert response.code == 500
    assert "loadAddonConfig" in response.message
    assert addon.test() is False


def test_health_check_on_embedded(embedded: RedisRoomsAddon) -> None:
    assert embedded.test() is True


def test_observer_callback_is_kept() -> None:
    addon = RedisRoomsAddon()
    calls: list = []
    addon.setObserverCallback(calls.append, "redis-cache-1")
    assert addon.observer == calls.append
    assert addon.addon_id == "redis-cache-1"


def test_repr_shows_target_only() -> None:
    addon = RedisRoomsAddon()
    assert repr(addon) == "RedisRoomsAddon(unconfigured)"
    addon.loadAddonConfig(entry(host="h", port=7000))
    addon.loadCredentials(redis_password="pw-in-repr")
    assert repr(addon) == "RedisRoomsAddon(id='redis-cache', Redis at h:7000 (db 0))"


def test_embedded_without_fakeredis_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fakeredis", None)
    monkeypatch.setattr("redis_rooms_pkg.addon._fakeredis_available", lambda: False)
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry(mode="embedded")) is False
    config = addon.config
    assert config is None
    # The client factory says the same if it is reached anyway.
    from redis_rooms_pkg.configuration import CustomAddonConfig
    from redis_rooms_pkg.services.credentials import Credentials
    from redis_rooms_pkg.services.errors import AddonError

    with pytest.raises(AddonError, match=r"redis-rooms-pkg\[embedded\]") as caught:
        client_module.build_client(CustomAddonConfig(**entry(mode="embedded")), Credentials())
    assert caught.value.code == 500


def test_fakeredis_detection_is_real() -> None:
    from redis_rooms_pkg.addon import _fakeredis_available

    assert _fakeredis_available() is True


def test_each_embedded_instance_has_its_own_server() -> None:
    first, second = RedisRoomsAddon(), RedisRoomsAddon()
    first.loadAddonConfig(entry(id="a", mode="embedded"))
    second.loadAddonConfig(entry(id="b", mode="embedded"))
    first.set_key("k", "first")
    assert second.get_key("k").output.found is False
    assert first.get_key("k").output.value == "first"


def test_reloading_config_drops_the_old_client(embedded: RedisRoomsAddon) -> None:
    embedded.set_key("k", "v")
    assert embedded.loadAddonConfig(entry(mode="embedded"))
    assert embedded._context is None
    assert embedded.get_key("k").output.found is False
