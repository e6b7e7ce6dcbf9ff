"""Connecting to a real redis-server: one lazy pooled connection, credentials (rejected, from
.env), a server down, silent, restarted, two servers at once; and a README workflow on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer, SilentServer, free_port

MakeAddon = Callable[..., RedisRoomsAddon]


def test_no_connection_until_first_action_then_one_pooled(
    server: RedisServer, make_addon: MakeAddon
) -> None:
    raw = server.client()
    before = raw.info("stats")["total_connections_received"]
    addon = make_addon(password=PASSWORD, host="127.0.0.1", port=server.port)
    assert raw.info("stats")["total_connections_received"] == before
    for i in range(50):
        assert addon.set_key(f"k{i}", i).code == 200
        assert addon.get_key(f"k{i}").code == 200
    assert raw.info("stats")["total_connections_received"] == before + 1
    addon.close()
    assert addon.test() is True  # reconnects after close


@pytest.mark.parametrize(
    "password",
    [pytest.param("wrong-password", id="wrong"), pytest.param(None, id="missing")],
)
def test_rejected_credentials_are_401(
    server: RedisServer, make_addon: MakeAddon, password: str | None, log_lines: list[str]
) -> None:
    addon = make_addon(password=password, host="127.0.0.1", port=server.port, retry_attempts=0)
    response = addon.set_key("k", "v")
    assert response.code == 401
    assert "rejected the credentials" in response.message
    assert addon.test() is False
    assert server.client().exists("k") == 0
    assert not any("wrong-password" in line for line in log_lines)


def test_server_down_is_503(make_addon: MakeAddon) -> None:
    addon = make_addon(host="127.0.0.1", port=free_port(), retry_attempts=1)
    response = addon.get_key("k")
    assert response.code == 503
    assert "connection refused" in response.message
    assert response.output.found is None  # unknown, not "absent"
    assert addon.test() is False


def test_server_that_never_answers_is_504_within_the_timeout(
    silent_server: SilentServer, make_addon: MakeAddon
) -> None:
    addon = make_addon(host="127.0.0.1", port=silent_server.port, socket_timeout=0.5)
    started = time.monotonic()
    response = addon.get_key("k")
    assert response.code == 504
    assert "0.5s socket_timeout" in response.message
    assert addon.test() is False
    # Bounded, not hung: two calls of one socket_timeout each, far below a hang.
    assert time.monotonic() - started < 10


def test_actions_succeed_after_a_server_restart(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    assert real_addon.set_key("before", "1").code == 200
    server.restart()
    after = real_addon.set_key("after", "2")
    assert after.code == 200
    assert real_addon.get_key("after").output.value == "2"


def test_actions_during_downtime_fail_then_recover(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    assert real_addon.set_key("k", "1").code == 200
    server.stop()
    down = real_addon.get_key("k")
    assert down.code == 503
    server.start()
    assert real_addon.set_key("k", "2").code == 200


def test_two_instances_two_servers_two_passwords(
    tmp_path: Path, server: RedisServer, make_addon: MakeAddon
) -> None:
    other = RedisServer(tmp_path / "other", password="second-password").start()
    try:
        first = make_addon(password=PASSWORD, host="127.0.0.1", port=server.port, id="first")
        second = make_addon(
            password="second-password", host="127.0.0.1", port=other.port, id="second"
        )
        assert first.set_key("k", "first").code == 200
        assert second.set_key("k", "second").code == 200
        assert first.get_key("k").output.value == "first"
        assert second.get_key("k").output.value == "second"
        assert other.client().get("k") == "second"
    finally:
        other.stop()


def test_password_from_environment_and_dotenv(
    server: RedisServer, make_addon: MakeAddon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    (tmp_path / ".env").write_text(f"REDIS_PASSWORD={PASSWORD}\n")
    from_dotenv = make_addon(host="127.0.0.1", port=server.port)
    assert from_dotenv.test() is True
    monkeypatch.setenv("REDIS_PASSWORD", "env-wins-and-is-wrong")
    from_env = make_addon(host="127.0.0.1", port=server.port, retry_attempts=0)
    assert from_env.get_key("k").code == 401


def test_spec_examples_run_against_the_real_server(server: RedisServer) -> None:
    import json

    from redis_rooms_pkg.workflow import redis_addon_entries, run_workflow

    examples = Path(__file__).parents[2] / "examples"
    workflow = json.loads((examples / "api_caching.json").read_text())
    (entry,) = redis_addon_entries(workflow).values()
    addon = RedisRoomsAddon()
    entry = {**entry, "config": {**entry["config"], "host": "127.0.0.1", "port": server.port}}
    assert addon.loadAddonConfig(entry)
    addon.loadCredentials(redis_password=PASSWORD)
    payload = {"request_id": "r1", "endpoint": "https://api.example.test"}
    stubs = {"fetch-api": {"response": "cached body"}}
    with addon:
        first = run_workflow(workflow, payload, addons={"redis-cache": addon}, stubs=stubs)
        second = run_workflow(workflow, payload, addons={"redis-cache": addon}, stubs=stubs)
    assert [r.status for r in first] == ["ok", "stubbed", "ok"]
    assert [r.status for r in second] == ["ok", "skipped", "skipped"]
    assert server.client().get("api:response:r1") == "cached body"
    assert 0 < server.client().ttl("api:response:r1") <= 300
