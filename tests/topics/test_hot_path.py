"""The hot path (services/hotpath.py) answers exactly as redis-py's generic path does.

Every action runs a set of calls (its documented example on an empty server, the same call
again, on keys holding a type no action reads, with an unknown and a malformed parameter, and
against a port where nothing listens) once through the hot path and once through redis-py's
``execute_command``, each from the same server state; the response dumps must be equal.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.client import EMPTY_RESPONSE
from redis.connection import BlockingConnectionPool
from redis.retry import Retry

from catalogue_calls import CALLS
from conftest import PASSWORD
from redis_rooms_pkg.actions import CATALOGUE, ActionResponse
from redis_rooms_pkg.actions.base import RAW, validate
from redis_rooms_pkg.actions.history_key import KEY_PREFIX
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.services import hotpath
from redis_rooms_pkg.services.client import AddonConnection, AddonSentinelConnection
from redis_rooms_pkg.services.errors import WriteOutcomeUnknownError
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
    assert list(built.model_dump()) == list(validated.model_dump())  # the fields' order too
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
    exchanged: list[str] = []
    for method in ("exchange", "exchange_all"):
        monkeypatch.setattr(AddonConnection, method, lambda *_a, _m=method: exchanged.append(_m))
    executed: list[int] = []
    original_execute = redis.client.Pipeline.execute

    def counted_execute(pipe: redis.client.Pipeline, *args: Any, **kwargs: Any) -> Any:
        executed.append(len(pipe.command_stack))
        return original_execute(pipe, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counted_execute)
    response = real_addon.get_key("k", with_ttl=True)  # a pipeline: redis-py's execute too
    assert (response.output.value, response.output.ttl) == ("v", -1)
    assert executed == [2]
    assert exchanged == []


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


# --- the one-call exchange (AddonConnection.exchange) fails exactly as redis-py's two calls ---


class FaultySocket:
    """A connected socket whose ``sendall`` or ``recv_into`` fails as asked (else the real one)."""

    def __init__(self, sock: socket.socket, on: str, fault: BaseException | None) -> None:
        self._sock, self._on, self._fault = sock, on, fault

    def sendall(self, data: bytes) -> None:
        if self._on == "send":
            self._raise()
        self._sock.sendall(data)

    def recv_into(self, buffer: Any, *args: Any) -> int:
        if self._on == "read":
            if self._fault is None:  # the peer closed: end of file
                return 0
            self._raise()
        return self._sock.recv_into(buffer, *args)

    def _raise(self) -> None:
        assert self._fault is not None
        raise self._fault

    def __getattr__(self, name: str) -> Any:  # settimeout, shutdown, close...
        return getattr(self._sock, name)


FAULTS = [
    pytest.param("send", TimeoutError("timed out"), id="send-timeout"),
    pytest.param("send", BrokenPipeError(32, "Broken pipe"), id="send-broken-pipe"),
    pytest.param("send", OSError("no errno"), id="send-oserror-one-arg"),
    pytest.param("send", RuntimeError("interrupted"), id="send-other-exception"),
    pytest.param("read", TimeoutError("timed out"), id="read-timeout"),
    pytest.param("read", ConnectionResetError(104, "Connection reset by peer"), id="read-reset"),
    pytest.param("read", None, id="read-end-of-file"),
    pytest.param("read", RuntimeError("interrupted"), id="read-other-exception"),
]


def connected(server: RedisServer, on: str, fault: BaseException | None) -> AddonConnection:
    """An addon connection to ``server`` past its first reply, whose socket then fails."""
    connection = AddonConnection(host="127.0.0.1", port=server.port, password=PASSWORD)
    connection.send_command("PING")
    assert connection.read_response() in (b"PONG", "PONG")
    faulty = FaultySocket(connection._sock, on, fault)
    connection._sock = connection._parser._sock = faulty
    return connection


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        call()
    except BaseException as exc:  # the outcome compared is the exception
        cause = exc.__cause__ or exc.__context__
        unknown = isinstance(exc, WriteOutcomeUnknownError)
        return type(exc), str(exc), type(cause) if unknown else None
    raise AssertionError("the faulty socket did not fail the command")


@pytest.mark.parametrize(("on", "fault"), FAULTS)
@pytest.mark.parametrize("args", [("GET", "k"), ("INCR", "n")], ids=["resend-safe", "unsafe"])
def test_the_exchange_fails_as_redis_py_send_and_read(
    server: RedisServer, on: str, fault: BaseException | None, args: tuple[str, ...]
) -> None:
    lean, generic = connected(server, on, fault), connected(server, on, fault)
    found = outcome(lambda: lean.exchange(args))
    expected = outcome(lambda: (generic.send_command(*args), generic.read_response()))
    assert found == expected
    assert lean._sock is None  # closed: no late reply is ever read
    assert generic._sock is None
    if args[0] == "INCR" and not isinstance(fault, RuntimeError):
        assert found[0] is WriteOutcomeUnknownError  # may have run: not resent


def test_the_exchange_reads_an_error_reply_as_redis_py(server: RedisServer) -> None:
    server.client().set("text", "not a number")
    lean, generic = (connected(server, "", None) for _ in range(2))
    found = outcome(lambda: lean.exchange(("INCR", "text")))
    expected = outcome(lambda: (generic.send_command("INCR", "text"), generic.read_response()))
    assert found == expected
    assert found[0] is redis.ResponseError
    assert lean._sock is not None  # an error reply leaves the connection usable
    assert lean.exchange(("GET", "text")) == b"not a number"


@pytest.fixture
def read_only_replica(tmp_path: Path) -> Iterator[RedisServer]:
    """A replica (of a primary that is not there): it refuses writes with READONLY, as a
    demoted primary does."""
    replica = RedisServer(tmp_path, options=["--replicaof", "127.0.0.1", str(free_port())])
    yield replica.start()
    replica.stop()


class _PrimaryPool:
    """What a sentinel connection asks its pool: it believes it talks to the primary."""

    is_master = True
    check_connection = False
    service_name = "mymaster"

    def __init__(self, port: int) -> None:
        self.port = port

    def get_master_address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port


def test_a_demoted_primary_refusing_a_write_is_a_connection_error_on_both_paths(
    read_only_replica: RedisServer,
) -> None:
    """Sentinel: READONLY closes the connection and becomes a connection error (the retry asks
    the sentinels for the new primary), not an unknown outcome: the write was not applied."""
    answers = []
    for path in ("exchange", "generic"):
        connection = AddonSentinelConnection(
            connection_pool=_PrimaryPool(read_only_replica.port), retry=Retry(NoBackoff(), 0)
        )
        connection.connect()
        if path == "exchange":
            answers.append(outcome(lambda c=connection: c.exchange(("INCR", "n"))))
        else:
            answers.append(
                outcome(lambda c=connection: (c.send_command("INCR", "n"), c.read_response()))
            )
        assert connection._sock is None
    assert answers[0] == answers[1]
    assert answers[0][:2] == (redis.ConnectionError, "The previous master is now a slave")


def test_a_reply_callback_and_its_options_apply_on_the_exchange(
    paths: tuple[RedisRoomsAddon, RedisRoomsAddon],
) -> None:
    """redis-py's parse_response steps around the exchange: callbacks get the options they
    take (not NEVER_DECODE, EMPTY_RESPONSE or keys), and EMPTY_RESPONSE answers an error."""
    hot, generic = (addon.client() for addon in paths)
    for client in (hot, generic):
        client.set("k", "v")
    assert hot.execute_command("GET", "k", **RAW) == generic.execute_command("GET", "k", **RAW)
    assert hot.execute_command("GET", "k", **RAW) == b"v"
    assert hot.ttl("k") == generic.ttl("k") == -1
    wrong = ("INCR", "k")
    assert hot.execute_command(*wrong, **{EMPTY_RESPONSE: "empty"}) == "empty"
    assert generic.execute_command(*wrong, **{EMPTY_RESPONSE: "empty"}) == "empty"


def generic_pipeline(connection: AddonConnection, commands: list[tuple[Any, ...]]) -> list[Any]:
    """What redis-py's pipeline does on a connection: one write, then each reply in turn."""
    connection.send_packed_command(connection.pack_commands(commands))
    replies = []
    for _ in commands:
        try:
            replies.append(connection.read_response())
        except redis.ResponseError as error:
            replies.append(error)
    return replies


@pytest.mark.parametrize(("on", "fault"), FAULTS)
@pytest.mark.parametrize(
    "commands",
    [[("GET", "k"), ("TTL", "k")], [("SET", "k", "v"), ("INCR", "n")]],
    ids=["resend-safe", "unsafe"],
)
def test_a_pipeline_exchange_fails_as_redis_py_pipeline(
    server: RedisServer, on: str, fault: BaseException | None, commands: list[tuple[Any, ...]]
) -> None:
    lean, generic = connected(server, on, fault), connected(server, on, fault)
    found = outcome(lambda: lean.exchange_all([(args, False) for args in commands]))
    expected = outcome(lambda: generic_pipeline(generic, commands))
    assert found == expected
    assert lean._sock is None
    assert generic._sock is None
    if commands[-1][0] == "INCR" and not isinstance(fault, RuntimeError):
        assert found[0] is WriteOutcomeUnknownError


def test_a_pipeline_exchange_keeps_error_replies_in_place(server: RedisServer) -> None:
    server.client().set("text", "not a number")
    commands = [("INCR", "text"), ("GET", "text"), ("LPUSH", "text", "x")]
    lean, generic = (connected(server, "", None) for _ in range(2))
    found = lean.exchange_all([(args, False) for args in commands])
    expected = generic_pipeline(generic, commands)
    assert [type(reply) for reply in found] == [type(reply) for reply in expected]
    assert [str(reply) for reply in found] == [str(reply) for reply in expected]
    assert found[1] == b"not a number"
    assert isinstance(found[2], redis.ResponseError)


def test_a_demoted_primary_refusing_a_pipeline_is_a_connection_error(
    read_only_replica: RedisServer,
) -> None:
    connection = AddonSentinelConnection(
        connection_pool=_PrimaryPool(read_only_replica.port), retry=Retry(NoBackoff(), 0)
    )
    connection.connect()
    found = outcome(lambda: connection.exchange_all([(("INCR", "n"), False)]))
    assert found[:2] == (redis.ConnectionError, "The previous master is now a slave")
    assert connection._sock is None


def test_every_action_sends_its_commands_and_pipelines_on_the_hot_path(
    server: RedisServer,
    paths: tuple[RedisRoomsAddon, RedisRoomsAddon],
    generic_calls: list[tuple[Any, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every command an action sends (SCAN, SADD, ZRANGE, XADD, INFO... not only the single-key
    ones) and every pipeline without MULTI goes out through the connection's one-call
    exchange, on the hot path only."""
    exchanged: list[str] = []
    for method in ("exchange", "exchange_all"):
        original = getattr(AddonConnection, method)

        def counted(self: Any, *args: Any, _original: Any = original, _name: str = method) -> Any:
            exchanged.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(AddonConnection, method, counted)
    hot, generic = paths
    sent_generically = {}
    for name in CATALOGUE:
        server.client().flushall()
        generic_calls.clear()
        assert getattr(hot, name)(**CALLS[name]).code in (200, 404), name
        sent_generically[name] = list(generic_calls)
    assert sent_generically == {name: [] for name in CATALOGUE}
    assert exchanged.count("exchange_all") >= 3  # get_key with_ttl, exists_key, set_many...
    exchanged.clear()
    assert generic.get_key("k", with_ttl=True).code == 200
    assert generic.server_info().code == 200
    assert exchanged == []
    assert {call[0] for call in generic_calls} == {"INFO"}


class _Flaky:
    """A connection stand-in for hotpath._retried: its attempt fails ``failures`` times."""

    def __init__(self, failures: int, error: Exception, retries: int) -> None:
        self.failures, self.error = failures, error
        self.retry = Retry(NoBackoff(), retries, supported_errors=(redis.ConnectionError,))
        self.tries = self.disconnects = 0

    def attempt(self) -> str:
        self.tries += 1
        if self.tries <= self.failures:
            raise self.error
        return "answer"

    def disconnect(self) -> None:
        self.disconnects += 1


def policy_outcome(flaky: _Flaky, call: Callable[[], Any]) -> tuple[Any, int, int]:
    try:
        answer = call()
    except Exception as exc:  # the outcome compared
        answer = type(exc)
    return answer, flaky.tries, flaky.disconnects


@pytest.mark.parametrize("failures", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("error", [redis.ConnectionError("gone"), redis.TimeoutError("slow")])
def test_the_first_try_outside_the_retry_policy_tries_as_the_policy_does(
    failures: int, error: Exception
) -> None:
    """hotpath._retried makes its first try outside redis-py's Retry, then hands a failure to
    it: the same number of tries, disconnects and outcome as Retry.call_with_retry alone."""
    lean, plain = (_Flaky(failures, error, retries=2) for _ in range(2))
    found = policy_outcome(lean, lambda: hotpath._retried(lean, lean.attempt))
    expected = policy_outcome(
        plain, lambda: plain.retry.call_with_retry(plain.attempt, lambda _e: plain.disconnect())
    )
    assert found == expected
    if isinstance(error, redis.ConnectionError):
        assert found[1] == min(failures + 1, 3)  # retried: at most 1 + retries tries
    else:
        assert found[1] == 1  # a timeout is not retried (it may have run)
