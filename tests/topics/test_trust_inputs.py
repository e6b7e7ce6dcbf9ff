"""Issue 11, input side, against a real redis-server: a refused call writes nothing, every number
and name is checked against Redis's limits before it is sent, and errors name what to fix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import PASSWORD
from keyspace_state import keyspace
from redis_rooms_pkg.actions.base import (
    INT64_MAX,
    INT64_MIN,
    MAX_EXPIRE_MS,
    MAX_EXPIRE_S,
    ActionContext,
)
from redis_rooms_pkg.actions.hash_set import SCRIPT as HASH_SET
from redis_rooms_pkg.actions.increment import SCRIPT as INCREMENT
from redis_rooms_pkg.actions.rate_limit import SCRIPT as RATE_LIMIT
from redis_rooms_pkg.actions.scripts import PUSH, run_script
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer, add_acl_user

pytestmark = pytest.mark.integration  # some tests start their own redis-server

MakeAddon = Callable[..., RedisRoomsAddon]
NESTED_DEEP = 5000  # levels: far beyond Python's recursion limit
MESSAGE = {"role": "user", "content": "hi"}


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.fixture
def seeded(server: RedisServer) -> RedisServer:
    """The server with one key of each kind the actions below touch."""
    raw = server.client()
    raw.set("k", "v")
    raw.rpush("l", "a", "b")
    raw.hset("h", "f", "1")
    raw.rpush("history:s", '{"role":"user","content":"x"}')
    raw.set("lock", "tok")
    return server


def addon_on(server: RedisServer, make_addon: MakeAddon, **options: Any) -> RedisRoomsAddon:
    return make_addon(
        password=PASSWORD, host="127.0.0.1", port=server.port, socket_timeout=2, **options
    )


def refused(
    server: RedisServer, addon: RedisRoomsAddon, action: str, params: dict, code: int = 400
) -> str:
    """Run ``action``; it must answer ``code`` and leave every key as it was; its message."""
    before = keyspace(server)
    response = getattr(addon, action)(**params)
    assert response.code == code, (action, response.code, response.message)
    assert keyspace(server) == before, f"{action} changed data while answering {code}"
    return response.message


# --- defect 2: numbers out of Redis's range -----------------------------------------------------

OUT_OF_RANGE = [
    pytest.param("list_push", {"key": "l", "values": ["x"], "ex": 10**16}, "ex", id="push-ex"),
    pytest.param(
        "list_push", {"key": "l", "values": ["x"], "max_length": 10**30}, "max_length", id="cap"
    ),
    pytest.param("hash_set", {"key": "h", "fields": {"g": 1}, "ex": 10**16}, "ex", id="hash-ex"),
    pytest.param(
        "history_append", {"session_id": "s", "messages": [MESSAGE], "ex": 10**16}, "ex", id="hx"
    ),
    pytest.param("increment", {"key": "c", "ex": 10**16}, "ex", id="incr-ex"),
    pytest.param("increment", {"key": "c", "by": 2**63}, "by", id="incr-by"),
    pytest.param("increment", {"key": "c", "by": -(2**63) - 1}, "by", id="incr-by-low"),
    pytest.param("increment", {"key": "c", "by": "99999999999999999999"}, "by", id="incr-by-s"),
    pytest.param("set_key", {"key": "n", "value": "v", "ex": 10**16}, "ex", id="set-ex"),
    pytest.param("set_key", {"key": "n", "value": "v", "px": 10**19}, "px", id="set-px"),
    pytest.param("set_key", {"key": "n", "value": "v", "ex": MAX_EXPIRE_S + 1}, "ex", id="ex+1"),
    pytest.param("set_key", {"key": "n", "value": "v", "px": MAX_EXPIRE_MS + 1}, "px", id="px+1"),
    pytest.param("expire_key", {"key": "k", "ex": 10**16}, "ex", id="expire-ex"),
    pytest.param("expire_key", {"key": "k", "px": 10**19}, "px", id="expire-px"),
    pytest.param("set_many", {"items": {"a": 1}, "ex": 10**16}, "ex", id="many-ex"),
    pytest.param("acquire_lock", {"name": "n", "ttl_ms": 10**19}, "ttl_ms", id="lock-ttl"),
    pytest.param(
        "extend_lock", {"name": "lock", "token": "tok", "ttl_ms": 10**19}, "ttl_ms", id="extend"
    ),
    pytest.param("list_range", {"key": "l", "start": 10**30}, "start", id="range-start"),
    pytest.param("list_range", {"key": "l", "stop": -(10**30)}, "stop", id="range-stop"),
    pytest.param("history_get", {"session_id": "s", "last": 10**30}, "last", id="last"),
    pytest.param("list_keys", {"cursor": "99999999999999999999"}, "cursor", id="cursor"),
]


@pytest.mark.parametrize(("action", "params", "names"), OUT_OF_RANGE)
def test_a_number_redis_would_refuse_is_400_and_nothing_is_written(
    seeded: RedisServer, real_addon: RedisRoomsAddon, action: str, params: dict, names: str
) -> None:
    message = refused(seeded, real_addon, action, params)
    assert message.startswith(f"invalid input: {names}:"), message


EXPIRING = [
    pytest.param("set_key", {"key": "n", "value": "v", "ex": MAX_EXPIRE_S}, "n", id="set-ex"),
    pytest.param("set_key", {"key": "n", "value": "v", "px": MAX_EXPIRE_MS}, "n", id="set-px"),
    pytest.param("expire_key", {"key": "k", "ex": MAX_EXPIRE_S}, "k", id="expire-ex"),
    pytest.param("expire_key", {"key": "k", "px": MAX_EXPIRE_MS}, "k", id="expire-px"),
    pytest.param("set_many", {"items": {"n": 1}, "ex": MAX_EXPIRE_S}, "n", id="many"),
    pytest.param("list_push", {"key": "n", "values": [1], "ex": MAX_EXPIRE_S}, "n", id="push"),
    pytest.param("hash_set", {"key": "n", "fields": {"f": 1}, "ex": MAX_EXPIRE_S}, "n", id="hash"),
    pytest.param("increment", {"key": "n", "ex": MAX_EXPIRE_S}, "n", id="incr"),
    pytest.param(
        "history_append",
        {"session_id": "n", "messages": [MESSAGE], "ex": MAX_EXPIRE_S},
        "history:n",
        id="history",
    ),
    pytest.param("acquire_lock", {"name": "n", "ttl_ms": MAX_EXPIRE_MS}, "n", id="lock"),
    pytest.param(
        "extend_lock", {"name": "lock", "token": "tok", "ttl_ms": MAX_EXPIRE_MS}, "lock", id="ext"
    ),
]


@pytest.mark.parametrize(("action", "params", "key"), EXPIRING)
def test_the_largest_expiry_accepted_is_one_the_server_takes(
    seeded: RedisServer, real_addon: RedisRoomsAddon, action: str, params: dict, key: str
) -> None:
    response = getattr(real_addon, action)(**params)
    assert response.code == 200, response.message
    ttl = seeded.client().ttl(key)
    assert MAX_EXPIRE_S - 60 <= ttl <= MAX_EXPIRE_S  # the server keeps the whole span


def test_the_largest_counts_and_indexes_work(
    seeded: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    pushed = real_addon.list_push("l", ["c"], max_length=INT64_MAX)
    assert (pushed.code, pushed.output.length) == (200, 3)
    assert real_addon.list_push("l", ["d"], max_length=2).output.length == 2  # still trims
    assert seeded.client().lrange("l", 0, -1) == ["c", "d"]
    read = real_addon.list_range("l", start=INT64_MIN, stop=INT64_MAX)
    assert (read.code, read.output.values) == (200, ["c", "d"])
    history = real_addon.history_get("s", last=INT64_MAX)
    assert (history.code, history.output.count) == (200, 1)
    top = real_addon.increment("c", by=INT64_MAX)
    assert (top.code, top.output.value) == (200, INT64_MAX)
    over = real_addon.increment("c", by=1)  # the sum overflows: the stored value's fault
    assert over.code == 409
    assert seeded.client().get("c") == str(INT64_MAX)


@pytest.mark.parametrize(
    ("source", "args"),
    [
        pytest.param(PUSH, ["RPUSH", "", "10000000000000000", "x"], id="push-expiry"),
        pytest.param(PUSH, ["RPUSH", "1" * 30, "", "x"], id="push-cap"),
        pytest.param(PUSH, ["LPUSH", "0", "", "x"], id="push-cap-zero"),
        pytest.param(PUSH, ["DEL", "", "", "x"], id="push-command"),
        pytest.param(HASH_SET, ["-5", "f", "v"], id="hash-expiry"),
        pytest.param(INCREMENT, ["1", "int", "1e3"], id="incr-expiry"),
        pytest.param(RATE_LIMIT, ["0", "1000000", "m"], id="rate-limit"),
        pytest.param(RATE_LIMIT, ["5", str(10**20), "m"], id="rate-window"),
    ],
)
def test_scripts_check_their_arguments_before_the_first_write(
    server: RedisServer, source: str, args: list[str]
) -> None:
    client = server.client()
    with pytest.raises(redis.ResponseError, match="must be"):
        run_script(ActionContext(client=client), source, "target", *args)
    assert client.dbsize() == 0


# --- defect 5: values that cannot be stored or returned ----------------------------------------

SURROGATE = "\ud800"
BAD_TEXT = [
    pytest.param("set_key", {"key": "n", "value": SURROGATE}, id="set-value"),
    pytest.param("set_key", {"key": "n", "value": {"a": SURROGATE}}, id="set-json"),
    pytest.param("set_key", {"key": SURROGATE, "value": "v"}, id="set-key"),
    pytest.param("get_key", {"key": "a" + SURROGATE}, id="get-key"),
    pytest.param("set_many", {"items": {"a": 1, "b": SURROGATE}}, id="many-value"),
    pytest.param("set_many", {"items": {SURROGATE: 1}}, id="many-key"),
    pytest.param("list_push", {"key": "l", "values": ["ok", SURROGATE]}, id="push"),
    pytest.param("hash_set", {"key": "h", "fields": {"g": SURROGATE}}, id="hash-value"),
    pytest.param("hash_set", {"key": "h", "fields": {SURROGATE: 1}}, id="hash-field"),
    pytest.param("hash_get", {"key": "h", "fields": [SURROGATE]}, id="hash-get-field"),
    pytest.param(
        "history_append",
        {"session_id": "s", "messages": [{"role": "user", "content": SURROGATE}]},
        id="history",
    ),
    pytest.param("publish", {"channel": "c", "message": SURROGATE}, id="publish"),
    pytest.param("publish", {"channel": SURROGATE, "message": "m"}, id="channel"),
    pytest.param("acquire_lock", {"name": SURROGATE, "ttl_ms": 1000}, id="lock"),
]


@pytest.mark.parametrize(("action", "params"), BAD_TEXT)
def test_a_lone_surrogate_anywhere_is_400(
    seeded: RedisServer, real_addon: RedisRoomsAddon, action: str, params: dict
) -> None:
    message = refused(seeded, real_addon, action, params)
    assert "surrogate" in message or "valid string" in message, message


DEEP = [
    pytest.param("set_key", {"key": "n", "value": nested(NESTED_DEEP)}, id="set"),
    pytest.param("set_many", {"items": {"a": 1, "b": nested(NESTED_DEEP)}}, id="many"),
    pytest.param("list_push", {"key": "l", "values": [1, nested(NESTED_DEEP)]}, id="push"),
    pytest.param("hash_set", {"key": "h", "fields": {"g": nested(NESTED_DEEP)}}, id="hash"),
    pytest.param(
        "history_append",
        {"session_id": "s", "messages": [{"role": "user", "content": nested(NESTED_DEEP)}]},
        id="history",
    ),
    pytest.param("publish", {"channel": "c", "message": nested(NESTED_DEEP)}, id="publish"),
]


@pytest.mark.parametrize(("action", "params"), DEEP)
def test_deeply_nested_json_is_400(
    seeded: RedisServer, real_addon: RedisRoomsAddon, action: str, params: dict
) -> None:
    assert "nested too deeply" in refused(seeded, real_addon, action, params)


@pytest.mark.parametrize("depth", [201, 400, NESTED_DEEP])
def test_reading_back_deeply_nested_json_is_422(
    server: RedisServer, real_addon: RedisRoomsAddon, depth: int
) -> None:
    server.client().set("deep", "[" * depth + "]" * depth)
    response = real_addon.get_key("deep", encoding="json")
    assert response.code == 422
    assert 'encoding "text"' in response.message
    assert real_addon.get_many(["deep"], encoding="json").code == 422
    assert real_addon.get_key("deep").code == 200  # as text it reads


def test_json_nested_to_the_limit_is_returned_as_data(
    server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    server.client().set("deep", "[" * 200 + "]" * 200)
    response = real_addon.get_key("deep", encoding="json")
    assert response.code == 200, response.message
    assert response.model_dump_json()  # the engine can serialise it


# --- defect 6: delete_matching may not match everything by accident ----------------------------


@pytest.mark.parametrize("pattern", ["*", "**", "?*", "?", "[a-z]*", "[^x]*", "\\"])
def test_a_pattern_without_a_literal_start_needs_allow_all(
    seeded: RedisServer, real_addon: RedisRoomsAddon, pattern: str
) -> None:
    message = refused(seeded, real_addon, "delete_matching", {"pattern": pattern})
    assert "allow_all" in message


def test_allow_all_and_literal_starts_delete(
    seeded: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    assert real_addon.delete_matching("h*").output.deleted_count == 2  # h, history:s
    seeded.client().set("*star", "1")
    assert real_addon.delete_matching("\\**").output.deleted_count == 1  # escaped: literal *
    assert real_addon.delete_matching("?*", allow_all=True).output.deleted_count == 3
    assert seeded.client().dbsize() == 0


# --- defect 7: names and whole calls are capped too ---------------------------------------------

LONG = "n" * 1025  # one byte over the default max_name_bytes
LONG_NAMES = [
    pytest.param("set_key", {"key": LONG, "value": "v"}, id="set"),
    pytest.param("set_key", {"key": "é" * 513, "value": "v"}, id="set-utf8"),
    pytest.param("get_key", {"key": LONG}, id="get"),
    pytest.param("set_many", {"items": {LONG: 1}}, id="many"),
    pytest.param("hash_set", {"key": "h", "fields": {LONG: 1}}, id="hash-field"),
    pytest.param("hash_get", {"key": "h", "fields": [LONG]}, id="hash-get"),
    pytest.param("hash_delete", {"key": "h", "fields": ["f", LONG]}, id="hash-delete"),
    pytest.param("history_append", {"session_id": LONG, "messages": [MESSAGE]}, id="session"),
    pytest.param("acquire_lock", {"name": LONG, "ttl_ms": 1000}, id="lock"),
    pytest.param("publish", {"channel": LONG, "message": "m"}, id="channel"),
    pytest.param("increment", {"key": LONG}, id="incr"),
]


@pytest.mark.parametrize(("action", "params"), LONG_NAMES)
def test_a_name_over_max_name_bytes_is_413(
    seeded: RedisServer, real_addon: RedisRoomsAddon, action: str, params: dict
) -> None:
    assert "max_name_bytes" in refused(seeded, real_addon, action, params, code=413)


def test_a_name_at_max_name_bytes_is_stored(
    server: RedisServer, real_addon: RedisRoomsAddon, make_addon: MakeAddon
) -> None:
    assert real_addon.set_key("n" * 1024, "v").code == 200
    assert real_addon.hash_set("h", {"f" * 1024: 1}).code == 200
    small = addon_on(server, make_addon, max_name_bytes=4, key_prefix="a-long-prefix:")
    assert small.set_key("abcd", "v").code == 200  # key_prefix is not counted
    assert small.set_key("abcde", "v").code == 413


BATCHES = [
    pytest.param("set_many", {"items": {"a": "x" * 600, "b": "y" * 600}}, id="many"),
    pytest.param("list_push", {"key": "l", "values": ["x" * 600, "y" * 600]}, id="push"),
    pytest.param("hash_set", {"key": "h", "fields": {"a": "x" * 600, "b": "y" * 600}}, id="hash"),
    pytest.param(
        "history_append",
        {"session_id": "s", "messages": [{"role": "user", "content": "x" * 600}] * 2},
        id="history",
    ),
]


@pytest.mark.parametrize(("action", "params"), BATCHES)
def test_a_batch_over_max_call_bytes_is_413(
    seeded: RedisServer, make_addon: MakeAddon, action: str, params: dict
) -> None:
    addon = addon_on(seeded, make_addon, max_call_bytes=1000)
    assert "max_call_bytes" in refused(seeded, addon, action, params, code=413)


def test_the_default_call_total_refuses_five_values_at_the_value_cap(
    seeded: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    big = "x" * (1024 * 1024 - 10)  # just under max_value_bytes, 5 of them over 4 MiB
    message = refused(
        seeded, real_addon, "set_many", {"items": {str(i): big for i in range(5)}}, code=413
    )
    assert "max_call_bytes" in message
    assert real_addon.set_many({str(i): big for i in range(3)}).code == 200


# --- defect 8: increment maps errors like every other action ------------------------------------


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A server this test may make read-only or full."""
    server = RedisServer(tmp_path, password=PASSWORD).start()
    yield server
    server.stop()


def test_increment_out_of_memory_is_507(own_server: RedisServer, make_addon: MakeAddon) -> None:
    addon = addon_on(own_server, make_addon)
    own_server.client().config_set("maxmemory-policy", "noeviction")
    own_server.client().config_set("maxmemory", 1)
    assert refused(own_server, addon, "increment", {"key": "c"}, code=507)


def test_increment_on_a_replica_is_503(own_server: RedisServer, make_addon: MakeAddon) -> None:
    addon = addon_on(own_server, make_addon)
    own_server.client().execute_command("REPLICAOF", "127.0.0.1", "1")  # nobody: stays read-only
    assert "read-only replica" in refused(own_server, addon, "increment", {"key": "c"}, code=503)


@pytest.mark.parametrize(
    ("rules", "says"),
    [
        pytest.param(["+@all", "-incrby"], "may not run the INCRBY command", id="incrby"),
        pytest.param(["+@all", "-expire"], "may not run the EXPIRE command", id="expire"),
        pytest.param(["+@all", "-@scripting"], "grant +@scripting", id="scripting"),
    ],
)
def test_increment_denied_by_acl_is_403_and_writes_nothing(
    server: RedisServer, make_addon: MakeAddon, rules: list[str], says: str
) -> None:
    add_acl_user(server, "limited", "limited-pw", "~*", *rules)
    try:
        addon = make_addon(
            password="limited-pw", host="127.0.0.1", port=server.port, username="limited"
        )
        message = refused(server, addon, "increment", {"key": "c", "ex": 60}, code=403)
    finally:
        server.client().execute_command("ACL", "DELUSER", "limited")
    assert says in message


def test_list_push_denied_a_later_command_writes_nothing(
    server: RedisServer, make_addon: MakeAddon
) -> None:
    add_acl_user(server, "limited", "limited-pw", "~*", "+@all", "-ltrim")
    try:
        addon = make_addon(
            password="limited-pw", host="127.0.0.1", port=server.port, username="limited"
        )
        message = refused(
            server, addon, "list_push", {"key": "q", "values": [1], "max_length": 5}, code=403
        )
    finally:
        server.client().execute_command("ACL", "DELUSER", "limited")
    assert "LTRIM" in message


def test_increment_conflicts_are_409_and_an_out_of_range_by_is_never_sent(
    seeded: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    assert "cannot be incremented" in refused(seeded, real_addon, "increment", {"key": "k"}, 409)
    assert "holds a Redis hash" in refused(seeded, real_addon, "increment", {"key": "h"}, 409)
    raw = seeded.client()
    raw.config_resetstat()
    assert refused(seeded, real_addon, "increment", {"key": "c", "by": 2**64}).startswith(
        "invalid input: by:"
    )
    assert "cmdstat_evalsha" not in raw.info("commandstats")


# --- defect 11: reads have a size cap -----------------------------------------------------------

BIG_READS = [
    pytest.param("list_range", {"key": "big-list"}, "start and stop", id="list_range"),
    pytest.param("hash_get", {"key": "big-hash"}, "fields", id="hash_get-all"),
    pytest.param(
        "hash_get", {"key": "big-hash", "fields": [f"f{i}" for i in range(20)]}, "fewer", id="hf"
    ),
    pytest.param("get_many", {"keys": [f"big:{i}" for i in range(20)]}, "fewer keys", id="many"),
    pytest.param("list_keys", {"pattern": "big:*", "with_values": True}, "limit", id="keys-v"),
    pytest.param("list_keys", {"pattern": "name:*"}, "limit", id="keys"),
    pytest.param("history_get", {"session_id": "big"}, "last", id="history"),
    pytest.param("get_key", {"key": "big:0"}, "max_response_bytes", id="get_key"),
]


@pytest.mark.parametrize(("action", "params", "page"), BIG_READS)
def test_a_read_over_max_response_bytes_is_413_saying_how_to_page(
    server: RedisServer, make_addon: MakeAddon, action: str, params: dict, page: str
) -> None:
    raw = server.client()
    value = "x" * 100
    raw.rpush("big-list", *[value] * 20)
    raw.hset("big-hash", mapping={f"f{i}": value for i in range(20)})
    raw.mset({f"big:{i}": value * 11 if i == 0 else value for i in range(20)})
    raw.mset({f"name:{i:0>100}": "" for i in range(20)})
    raw.rpush("history:big", *[f'{{"role":"user","content":"{value}"}}'] * 20)
    addon = addon_on(server, make_addon, max_response_bytes=1000)
    message = refused(server, addon, action, params, code=413)
    assert "max_response_bytes" in message
    assert page in message
    within = addon_on(server, make_addon, max_response_bytes=100_000)
    assert getattr(within, action)(**params).code == 200


def test_the_default_response_cap_refuses_five_values_at_the_value_cap(
    server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    big = "x" * (1024 * 1024 - 10)
    server.client().mset({str(i): big for i in range(5)})
    response = real_addon.get_many([str(i) for i in range(5)])
    assert response.code == 413
    assert real_addon.get_many([str(i) for i in range(3)]).code == 200


# --- defect 13: the smaller ones ----------------------------------------------------------------

BLANK_NAMES = [
    pytest.param("set_key", {"key": " ", "value": "v"}, id="key"),
    pytest.param("set_key", {"key": "\t\n", "value": "v"}, id="key-tab"),
    pytest.param("set_many", {"items": {"  ": 1}}, id="many"),
    pytest.param("hash_set", {"key": "h", "fields": {" ": 1}}, id="field"),
    pytest.param("history_append", {"session_id": " ", "messages": [MESSAGE]}, id="session"),
    pytest.param("acquire_lock", {"name": " ", "ttl_ms": 1000}, id="lock"),
    pytest.param("publish", {"channel": " ", "message": "m"}, id="channel"),
]


@pytest.mark.parametrize(("action", "params"), BLANK_NAMES)
def test_whitespace_only_names_are_400(
    seeded: RedisServer, real_addon: RedisRoomsAddon, action: str, params: dict
) -> None:
    assert "only whitespace" in refused(seeded, real_addon, action, params)


@pytest.mark.parametrize("key", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_not_keys(
    seeded: RedisServer, real_addon: RedisRoomsAddon, key: float
) -> None:
    assert "finite" in refused(seeded, real_addon, "set_key", {"key": key, "value": "v"})


BOOLEANS = [
    pytest.param("list_keys", {"limit": True}, id="list_keys-limit"),
    pytest.param("delete_matching", {"pattern": "k*", "limit": True}, id="delete-limit"),
    pytest.param("list_range", {"key": "l", "start": True}, id="range-start"),
    pytest.param("history_get", {"session_id": "s", "last": True}, id="last"),
    pytest.param("list_push", {"key": "l", "values": [1], "max_length": True}, id="cap"),
    pytest.param("increment", {"key": "c", "by": True}, id="by"),
    pytest.param("set_key", {"key": "k", "value": "v", "ex": True}, id="ex"),
]


@pytest.mark.parametrize(("action", "params"), BOOLEANS)
def test_booleans_are_not_numbers(
    seeded: RedisServer, real_addon: RedisRoomsAddon, action: str, params: dict
) -> None:
    assert "not a boolean" in refused(seeded, real_addon, action, params)


@pytest.mark.parametrize("prefix", ["tenant1 ", " tenant1", "tenant1:\n"])
def test_key_prefix_with_surrounding_whitespace_is_refused_at_load(
    prefix: str, log_lines: list[str]
) -> None:
    addon = RedisRoomsAddon()
    entry = {"id": "r", "type": "redis", "name": "r", "config": {"key_prefix": prefix}}
    assert addon.loadAddonConfig(entry) is False
    assert any("key_prefix begins or ends with whitespace" in line for line in log_lines)


def test_key_prefix_is_kept_exactly(server: RedisServer, make_addon: MakeAddon) -> None:
    addon = addon_on(server, make_addon, key_prefix="my app:")
    assert addon.set_key("k", "v").code == 200
    assert server.client().get("my app:k") == "v"


def test_keys_with_binary_names_are_skipped_by_list_keys_and_deleted_by_delete_matching(
    server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    raw = server.client(decode_responses=False)
    raw.set(b"bin:\xff\xfe", b"x")
    raw.set(b"bin:ok", b"y")
    listed = real_addon.list_keys("bin:*", with_values=True)
    assert (listed.code, listed.output.keys, listed.output.values) == (
        200,
        ["bin:ok"],
        {"bin:ok": "y"},
    )
    assert "1 key(s) whose names are not UTF-8 text were skipped" in listed.message
    deleted = real_addon.delete_matching("bin:*")
    assert (deleted.code, deleted.output.deleted_count) == (200, 2)
    assert raw.dbsize() == 0


def test_rate_limit_remaining_never_goes_below_zero(
    server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    for _ in range(10):
        assert real_addon.rate_limit("api", limit=10, window_s=60).output.allowed is True
    lowered = real_addon.rate_limit("api", limit=5, window_s=60)
    assert (lowered.output.allowed, lowered.output.remaining) == (False, 0)
    assert "(0 of 5 left)" in lowered.message


@pytest.mark.parametrize(
    ("prepare", "action", "params", "says"),
    [
        pytest.param("hash", "get_key", {"key": "x"}, "holds a Redis hash", id="hash"),
        pytest.param("list", "hash_get", {"key": "x"}, "read it with list_range", id="list"),
        pytest.param("string", "list_push", {"key": "x", "values": [1]}, "get_key", id="string"),
        pytest.param("zset", "increment", {"key": "x"}, "read it with zset_range", id="zset"),
        pytest.param(
            "history", "history_get", {"session_id": "x"}, "'history:x' holds", id="history"
        ),
    ],
)
def test_wrong_type_names_the_type_found_and_its_reader(
    server: RedisServer,
    real_addon: RedisRoomsAddon,
    prepare: str,
    action: str,
    params: dict,
    says: str,
) -> None:
    raw = server.client()
    {
        "hash": lambda: raw.hset("x", "f", "1"),
        "list": lambda: raw.rpush("x", "a"),
        "string": lambda: raw.set("x", "a"),
        "zset": lambda: raw.zadd("x", {"a": 1}),
        "history": lambda: raw.set("history:x", "a"),
    }[prepare]()
    message = refused(server, real_addon, action, params, code=409)
    assert says in message
    assert "WRONGTYPE" in message
    assert "delete" not in message


def test_the_type_is_only_asked_after_a_wrong_type_error(
    server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    raw = server.client()
    raw.set("s", "v")
    raw.config_resetstat()
    assert real_addon.get_key("s").code == 200
    assert real_addon.hash_set("h", {"f": 1}).code == 200
    assert "cmdstat_type" not in raw.info("commandstats")
    assert real_addon.hash_get("s").code == 409
    assert raw.info("commandstats")["cmdstat_type"]["calls"] == 1
