"""Property test over every action against a real redis-server (issue 11): whatever the input,
hostile ones included, an action answers a documented code and never raises, and a refused call
(4xx) leaves the server's keyspace exactly as it was.

Bounded for CI: a fixed number of examples per action, derandomized (the same examples on every
run), no deadline (a shared machine may be slow), no example database written to disk.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogue_calls import CALLS
from keyspace_state import keyspace
from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.actions.base import ActionResponse
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

NAMES = list(CATALOGUE)  # every declared action, in declaration order

EXAMPLES = 30  # per action: 27 actions x 30 examples take ~20 s
# Codes a healthy server with a valid configuration may answer (the README's error table):
# success, invalid input, wrong type or conflict, too large, not decodable.
EXPECTED = {200, 400, 409, 413, 422}
OMIT = object()  # an optional parameter left out


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


DEEP = nested(3000)
HOSTILE_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    -(2**63) - 1,
    10**16,
    10**19,
    10**30,
    float("nan"),
    float("inf"),
    -0.5,
    1.5,
    "",
    " ",
    "\t\n",
    "\ud800",
    "a\udfffb",
    "?*",
    "*",
    "[a-z]*",
    "\\",
    "99999999999999999999",
    "1e400",
    "n" * 1100,
    DEEP,
    [DEEP],
    {"k": DEEP},
    {"role": "user", "content": "\ud800"},
    {" ": 1},
    {"\ud800": 1},
    {"": 1},
    [],
    {},
    [None],
    [" "],
    ["\ud800"],
]
HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3),
)
KEYS = st.sampled_from(["k", "l", "h", "c", "z", "history:s", "lock", "new", "1.5"])
TEXT_OR_NUMBER = st.one_of(st.text(max_size=12), st.integers(-5, 5), st.floats(-2, 2))
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant"]), "content": TEXT_OR_NUMBER}
)
SMALL = st.integers(1, 5)
FLAG = st.booleans()
# Plausible values by parameter name (shared by the actions that have it).
VALID: dict[str, st.SearchStrategy] = {
    "key": KEYS,
    "keys": st.lists(KEYS, min_size=1, max_size=3),
    "value": TEXT_OR_NUMBER,
    "message": TEXT_OR_NUMBER,
    "values": st.lists(TEXT_OR_NUMBER, min_size=1, max_size=3),
    "items": st.dictionaries(KEYS, TEXT_OR_NUMBER, min_size=1, max_size=3),
    "fields": st.one_of(
        st.dictionaries(st.text(min_size=1, max_size=4), TEXT_OR_NUMBER, min_size=1, max_size=3),
        st.lists(st.sampled_from(["f", "g", "x"]), min_size=1, max_size=3),
    ),
    "ex": st.integers(1, 100),
    "px": st.integers(1, 100_000),
    "ttl_ms": st.integers(1, 10_000),
    "window_s": st.floats(0.001, 10),
    "limit": SMALL,
    "count": SMALL,
    "start": st.integers(-5, 5),
    "stop": st.integers(-5, 5),
    "last": SMALL,
    "max_length": SMALL,
    "max_messages": SMALL,
    "by": st.one_of(st.integers(-5, 5), st.floats(-2, 2)),
    "side": st.sampled_from(["left", "right"]),
    "session_id": st.sampled_from(["s", "new"]),
    "messages": st.lists(MESSAGE, min_size=1, max_size=2),
    "name": st.sampled_from(["lock", "new"]),
    "token": st.sampled_from(["tok", "other"]),
    "channel": st.sampled_from(["events", "k"]),
    "pattern": st.sampled_from(["k*", "h*", "history:*", "*", "?*", "new*"]),
    "cursor": st.sampled_from(["0", "5", 0]),
    "encoding": st.sampled_from(["text", "json", "base64"]),
    "section": st.sampled_from([None, "server", "memory", "keyspace"]),
}
# Parameters whose hostile values must stay non-blocking: a generated wait never sleeps long.
NON_BLOCKING = {
    "wait_s": st.sampled_from([0, 0.001, -1, True, float("nan"), "soon", 10**30, None, 61])
}


def parameter(name: str) -> st.SearchStrategy:
    if name in NON_BLOCKING:
        return NON_BLOCKING[name]
    return st.one_of(VALID.get(name, FLAG), HOSTILE)


def calls(action: str) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments for the addon method: every required parameter, some optional ones."""
    strategies = {}
    for name, param in inspect.signature(getattr(RedisRoomsAddon, action)).parameters.items():
        if name == "self":
            continue
        value = parameter(name)
        strategies[name] = (
            value if param.default is inspect.Parameter.empty else (st.one_of(st.just(OMIT), value))
        )
    return st.fixed_dictionaries(strategies).map(
        lambda given: {k: v for k, v in given.items() if v is not OMIT}
    )


def seed(server: RedisServer) -> None:
    """A small keyspace with a key of every type the actions meet, and one binary name."""
    raw = server.client(decode_responses=False)
    try:
        raw.flushdb()
        raw.set("k", "v")
        raw.set("c", "5", ex=300)
        raw.rpush("l", "a", "b", b"\xff\xfe")
        raw.hset("h", mapping={"f": "1", "g": '{"a":1}'})
        raw.zadd("z", {"m": 1})
        raw.rpush("history:s", '{"role":"user","content":"hi"}')
        raw.set("lock", "tok", px=300_000)
        raw.set("1.5", "[1,2]")
        raw.set(b"bin:\xff", b"\x00\xff")
    finally:
        raw.close()


@pytest.mark.parametrize("action", NAMES)
def test_any_input_answers_a_documented_code_and_a_refusal_changes_nothing(
    action: str, server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(params=calls(action))
    def check(params: dict[str, Any]) -> None:
        seed(server)
        before = keyspace(server)
        response = getattr(real_addon, action)(**params)  # must not raise
        assert isinstance(response, ActionResponse)
        assert response.code in EXPECTED, (response.code, response.message)
        assert response.model_dump_json()  # the engine can serialise whatever came back
        if 400 <= response.code < 500:
            assert keyspace(server) == before, f"{action} answered {response.code} yet wrote"

    check()


# --- every hostile value in every parameter, one at a time ----------------------------------------

# One valid call per action (its example step); the sweep swaps one parameter at a time.
BASE = CALLS
SWEEP = [
    pytest.param(action, name, id=f"{action}-{name}")
    for action in NAMES
    for name in inspect.signature(getattr(RedisRoomsAddon, action)).parameters
    if name != "self"
]


def _blocks(name: str, value: Any) -> bool:
    """A wait the sweep must not try: a positive number of seconds would really wait."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return name == "wait_s" and number and 0.01 < value <= 60


def _not_unicode(value: Any) -> bool:
    """A string with a lone surrogate: it has no UTF-8 form."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@pytest.mark.parametrize(("action", "name"), SWEEP)
def test_each_hostile_value_in_each_parameter_answers_a_documented_code(
    action: str, name: str, server: RedisServer, real_addon: RedisRoomsAddon
) -> None:
    seed(server)
    base = getattr(real_addon, action)(**BASE[action])
    assert base.code == 200, (action, base.message)  # the base call itself is valid
    for value in HOSTILE_VALUES:
        if _blocks(name, value):
            continue
        seed(server)
        before = keyspace(server)
        response = getattr(real_addon, action)(**{**BASE[action], name: value})
        assert isinstance(response, ActionResponse)
        assert response.code in EXPECTED, (name, repr(value)[:40], response.message)
        if 400 <= response.code < 500:
            assert keyspace(server) == before, (name, repr(value)[:40], response.code)
        if response.code == 200 or not _not_unicode(value):
            # a refused name that is not valid Unicode is echoed into the failed output: see
            # test_a_refused_name_that_is_not_unicode_is_not_echoed
            assert response.model_dump_json(), (name, repr(value)[:40])


def test_a_refused_name_that_is_not_unicode_is_not_echoed(real_addon: RedisRoomsAddon) -> None:
    response = real_addon.release_lock(name="\ud800", token="tok")
    assert response.code == 400
    assert response.model_dump_json()
    assert response.output.name is None


def test_a_refused_huge_name_is_not_echoed(real_addon: RedisRoomsAddon) -> None:
    response = real_addon.get_key(key="k" * 2_000_000)
    assert response.code == 413
    assert response.output.key is None
