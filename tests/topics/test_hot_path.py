"""The hot path (services/hotpath.py) answers exactly as redis-py's generic path does.

Every action runs a set of calls (its documented example on an empty server, the same call
again, on keys holding a type no action reads, with an unknown and a malformed parameter, and
against a port where nothing listens) once through the hot path and once through redis-py's
``execute_command``, each from the same server state; the response dumps must be equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from redis.connection import BlockingConnectionPool

from catalogue_calls import CALLS
from conftest import PASSWORD
from redis_rooms_pkg.actions import CATALOGUE, ActionResponse
from redis_rooms_pkg.actions.base import validate
from redis_rooms_pkg.actions.history_key import KEY_PREFIX
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.services import hotpath
from servers import RedisServer, free_port

MakeAddon = Callable[..., RedisRoomsAddon]
RANDOM = ("token",)  # output fields that differ on every call by design (a new lock token)
# Figures read from the server's clock or state that change between two runs of a call
LIVE = {
    "server_info": (
        "uptime_s",
        "used_memory",
        "used_memory_human",
        "connected_clients",
        "keyspace",
        "info",
    ),
    "rate_limit": ("reset_in",),  # seconds until the window frees a slot, from the server clock
    "zset_pop_due": ("now",),  # the server's Unix time the scores were compared to
    "queue_add": ("id",),  # a stream entry id: the server's time in ms
}
ECHOED_IN_MESSAGE = {"queue_add": "id"}  # a live figure the message repeats


def stored_keys(params: dict[str, Any]) -> list[str]:
    """The keys a call names (as stored: no key_prefix in these tests)."""
    names = [params[field] for field in ("key", "name") if isinstance(params.get(field), str)]
    names += [KEY_PREFIX + params["session_id"]] if "session_id" in params else []
    keys = params.get("keys")
    names += [keys] if isinstance(keys, str) else list(keys or [])
    return names


def holding_a_zset(server: RedisServer, params: dict[str, Any]) -> None:
    client = server.client()
    for key in stored_keys(params):
        client.zadd(key, {"member": 1})


def nothing(server: RedisServer, params: dict[str, Any]) -> None:
    pass


def comparable(response: ActionResponse, name: str = "") -> dict[str, Any]:
    dump = response.model_dump()
    output = dump["output"] or {}
    for field in RANDOM:
        if output.get(field) is not None:
            output[field] = "<random>"
    for field in LIVE.get(name, ()) if response.code == 200 else ():
        if output.get(field) is not None:
            if ECHOED_IN_MESSAGE.get(name) == field:
                for holder in (output, dump):
                    holder["message"] = holder["message"].replace(output[field], "<live>")
            output[field] = "<live figure>"
    return dump


@pytest.fixture
def paths(server: RedisServer, make_addon: MakeAddon) -> tuple[RedisRoomsAddon, RedisRoomsAddon]:
    """Two addons on the same server: one on the hot path, one on redis-py's generic path."""
    options = {"host": "127.0.0.1", "port": server.port, "socket_timeout": 2}
    hot, generic = make_addon(PASSWORD, **options), make_addon(PASSWORD, **options)
    generic.client().hot_path = False  # this instance only
    return hot, generic


@pytest.fixture
def generic_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The commands that went through redis-py's Redis.execute_command."""
    calls: list[tuple[Any, ...]] = []
    original = redis.Redis.execute_command

    def counted(self: redis.Redis, *args: Any, **options: Any) -> Any:
        calls.append(args)
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    return calls


CASES = [
    pytest.param(name, setup, times, id=f"{name}-{label}")
    for name in CATALOGUE
    for label, setup, times in (
        ("empty", nothing, 1),
        ("twice", nothing, 2),
        ("wrongtype", holding_a_zset, 1),
    )
]


@pytest.mark.parametrize(("name", "setup", "times"), CASES)
def test_every_action_answers_the_same_on_both_paths(
    server: RedisServer,
    paths: tuple[RedisRoomsAddon, RedisRoomsAddon],
    name: str,
    setup: Callable[[RedisServer, dict[str, Any]], None],
    times: int,
) -> None:
    params = CALLS[name]
    answers = []
    for addon in paths:
        server.client().flushall()
        setup(server, params)
        for _ in range(times):
            response = getattr(addon, name)(**params)
            assert_validation_builds(response)
        answers.append(comparable(response, name))
    hot, generic = answers
    assert hot == generic


def assert_validation_builds(response: ActionResponse) -> None:
    """The output is what the output model's validator builds from the same values (an action
    may build it without the validator: actions.base.output)."""
    built = response.output
    assert built is not None
    given = {field: getattr(built, field) for field in built.model_fields_set}
    validated = type(built).model_validate(given)
    assert built.model_dump_json() == validated.model_dump_json()  # types too (true is not 1)
    assert built.model_fields_set == validated.model_fields_set


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_refused_input_answers_the_same_on_both_paths(
    paths: tuple[RedisRoomsAddon, RedisRoomsAddon], name: str
) -> None:
    params = CALLS[name]
    malformed = {**params, next(iter(params)): [{"not": "valid"}]}
    for call in ({**params, "bogus": 1}, malformed):
        hot, generic = (comparable(getattr(addon, name)(**call)) for addon in paths)
        assert hot["code"] >= 400
        assert hot == generic


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_no_server_answers_the_same_on_both_paths(make_addon: MakeAddon, name: str) -> None:
    options = {"host": "127.0.0.1", "port": free_port(), "retry_attempts": 0}
    hot, generic = make_addon(PASSWORD, **options), make_addon(PASSWORD, **options)
    generic.client().hot_path = False
    answers = [comparable(getattr(addon, name)(**CALLS[name])) for addon in (hot, generic)]
    assert answers[0]["code"] == 503
    assert answers[0] == answers[1]


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_the_envelope_is_the_one_validation_builds(
    paths: tuple[RedisRoomsAddon, RedisRoomsAddon], name: str
) -> None:
    response = getattr(paths[0], name)(**CALLS[name])
    validated = validate(
        ActionResponse,
        {"output": response.output, "message": response.message, "code": response.code},
    )
    assert type(response) is ActionResponse
    assert response.model_dump() == validated.model_dump()
    assert response.model_fields_set == validated.model_fields_set
    assert response.tokens.model_fields_set == validated.tokens.model_fields_set


def test_single_key_commands_take_the_hot_path(
    paths: tuple[RedisRoomsAddon, RedisRoomsAddon], generic_calls: list[tuple[Any, ...]]
) -> None:
    hot, generic = paths
    assert hot.set_key("k", "v").code == 200
    assert hot.get_key("k").output.value == "v"
    assert generic_calls == []
    assert generic.get_key("k").output.value == "v"
    assert generic_calls == [("GET", "k")]


def test_with_redis_metrics_on_everything_takes_redis_py_path(
    real_addon: RedisRoomsAddon,
    generic_calls: list[tuple[Any, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checkouts: list[object] = []
    original = BlockingConnectionPool.get_connection

    def counted(pool: BlockingConnectionPool, *args: Any, **kwargs: Any) -> Any:
        checkouts.append(pool)
        return original(pool, *args, **kwargs)

    monkeypatch.setattr(BlockingConnectionPool, "get_connection", counted)
    monkeypatch.setattr(hotpath, "observed", lambda: True)
    assert real_addon.set_key("k", "v").code == 200
    assert real_addon.get_key("k").output.value == "v"
    assert [call[0] for call in generic_calls] == ["SET", "GET"]
    assert len(checkouts) == 2


def test_a_connection_the_server_dropped_is_replaced_at_checkout(
    server: RedisServer, make_addon: MakeAddon
) -> None:
    # No retry: a dropped connection that reached the command would fail it (503).
    addon = make_addon(PASSWORD, host="127.0.0.1", port=server.port, retry_attempts=0)
    assert addon.set_key("k", "v").code == 200
    before = addon.client().client_id()
    server.client().client_kill_filter(_type="normal", skipme=True)
    response = addon.get_key("k")
    assert (response.code, response.output.value) == (200, "v")
    assert addon.client().client_id() != before
