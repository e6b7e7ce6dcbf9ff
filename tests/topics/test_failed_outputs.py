"""Every action's output can say "unknown" for each of its facts (a failed step's output)."""

from __future__ import annotations

import inspect

import pytest

from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_failed_output_is_null_but_for_message_and_echoed_names(name: str) -> None:
    output_model = CATALOGUE[name].output
    output = output_model.failed("it failed", {"key": "k", "message": "not echoed", "limit": 5}, 10)
    dumped = output.model_dump()
    assert dumped.pop("message") == "it failed"
    if "success" in dumped:
        assert dumped.pop("success") is False
    if "key" in dumped:
        assert dumped.pop("key") == "k"
    assert set(dumped.values()) <= {None}


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_signature_is_the_declared_one_not_the_wrapper(name: str) -> None:
    """Agents build tool schemas from the signature: the wrapper must not hide it."""
    parameters = inspect.signature(getattr(RedisRoomsAddon(), name)).parameters
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters.values())
    assert set(parameters) == set(CATALOGUE[name].input.model_fields)


def test_unconfigured_addon_answers_instead_of_raising() -> None:
    response = RedisRoomsAddon().set_key(key="k", value="v", ttl=60)
    assert response.code == 400
    assert "unknown parameter 'ttl'" in response.message
    assert response.output.written is None
