"""A failed pipeline's error never carries the values it was storing (issue 11, defect 9)."""

from __future__ import annotations

import pytest
import redis

from redis_rooms_pkg.services.errors import describe
from servers import RedisServer

STORED = "stored-Value-Qx7"  # must never reach a message


def pipeline_error(server: RedisServer, build: str) -> redis.ResponseError:
    raw = server.client()
    raw.set("text", "v")
    pipe = raw.pipeline(transaction=False)
    if build == "bad-expiry":
        pipe.set("k", STORED, ex=10**16)
    else:
        pipe.rpush("text", STORED)
    with pytest.raises(redis.ResponseError) as caught:
        pipe.execute()
    assert STORED in str(caught.value)  # redis-py put the arguments in: the boundary strips them
    return caught.value


def test_a_refused_pipeline_command_is_reported_without_its_arguments(server: RedisServer) -> None:
    code, message = describe(pipeline_error(server, "bad-expiry"), "Redis", 5, "set_many")
    assert code == 502
    assert "invalid expire time" in message
    assert STORED not in message
    assert "Command #" not in message


def test_wrong_type_in_a_pipeline_is_still_409(server: RedisServer) -> None:
    code, message = describe(pipeline_error(server, "wrong-type"), "Redis", 5, "list_push")
    assert code == 409
    assert STORED not in message
