"""Trust: a failed step states no fact it does not know, and no call raises into the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from catalogue_calls import CALLS
from conftest import PASSWORD
from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer, free_port

# Names of the step echoed into its output even when it fails (they are the step's own input).
ECHOED = {"key", "name", "session_id", "channel"}


def test_calls_cover_the_catalogue() -> None:
    assert set(CALLS) == set(CATALOGUE)


def facts(output: Any) -> dict[str, Any]:
    """An output's fields other than its status text, the echoed names and set_key's success."""
    return {
        name: value
        for name, value in output.model_dump().items()
        if name not in ECHOED | {"message", "success"}
    }


@pytest.mark.parametrize("name", sorted(CALLS))
def test_wrong_password_states_no_fact(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon], name: str
) -> None:
    server.client().set("keep", "v")
    addon = make_addon(password="wrong", host="127.0.0.1", port=server.port)
    response = getattr(addon, name)(**CALLS[name])
    assert response.code == 401, response.message
    assert facts(response.output)
    assert set(facts(response.output).values()) == {None}
    assert getattr(response.output, "success", False) is False
    for echoed in ECHOED & set(CALLS[name]):
        assert getattr(response.output, echoed) == CALLS[name][echoed]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_unreachable_server_states_no_fact(
    make_addon: Callable[..., RedisRoomsAddon], name: str
) -> None:
    addon = make_addon(password=PASSWORD, host="127.0.0.1", port=free_port(), retry_attempts=0)
    response = getattr(addon, name)(**CALLS[name])
    assert response.code == 503, response.message
    assert set(facts(response.output).values()) == {None}


def test_cache_aside_guard_does_not_read_a_wrong_password_as_a_miss(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    """The README's guard `{{check-cache.output.found}} == false` must not run the paid step
    when the cache could not be asked: found is null, not false."""
    server.client().set("api:response:1", "cached")
    addon = make_addon(password="wrong", host="127.0.0.1", port=server.port)
    check = addon.get_key(key="api:response:1")
    assert check.code == 401
    assert check.output.found is None
    assert check.model_dump()["output"]["found"] is None


@pytest.mark.parametrize(
    ("name", "params", "named"),
    [
        pytest.param("set_key", {"key": "k", "value": "v", "ttl": 60}, "'ttl'", id="set_key-ttl"),
        pytest.param(
            "set_key", {"key": "k", "vaule": "v"}, "did you mean 'value'", id="set_key-typo"
        ),
        pytest.param("rate_limit", {"key": "k", "limit": 5}, "window_s", id="rate_limit-missing"),
        pytest.param("list_push", {"key": "q"}, "values", id="list_push-missing"),
        pytest.param(
            "acquire_lock", {"name": "l", "ttl": 1000}, "did you mean 'ttl_ms'", id="lock-typo"
        ),
        pytest.param("get_key", {}, "key", id="get_key-nothing"),
    ],
)
def test_unknown_or_missing_parameters_answer_400_and_write_nothing(
    real_addon: RedisRoomsAddon,
    server: RedisServer,
    name: str,
    params: dict[str, Any],
    named: str,
) -> None:
    response = getattr(real_addon, name)(**params)
    assert response.code == 400
    assert named in response.message
    assert server.client().dbsize() == 0


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_action_answers_an_unknown_parameter_with_400(
    real_addon: RedisRoomsAddon, server: RedisServer, name: str
) -> None:
    response = getattr(real_addon, name)(**CALLS[name], not_a_parameter=1)
    assert response.code == 400
    assert "unknown parameter 'not_a_parameter'" in response.message
    assert server.client().dbsize() == 0


def test_positional_arguments_map_like_keywords_and_extra_ones_answer_400(
    real_addon: RedisRoomsAddon, server: RedisServer
) -> None:
    assert real_addon.set_key("k", "v", 60).code == 200
    assert server.client().ttl("k") > 0
    too_many = real_addon.get_key("k", False, "text", "extra")
    assert too_many.code == 400
    twice = real_addon.get_key("k", key="k")
    assert twice.code == 400
    assert "given twice" in twice.message
