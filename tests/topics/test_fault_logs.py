"""Failure logs under a fault storm: one line per kind of failure and interval, with a count."""

from __future__ import annotations

import pytest
import redis
from redis.cluster import ClusterNode

from redis_rooms_pkg.services.errors import RepeatLimiter, describe


def test_repeats_are_counted_then_reported_once_per_interval() -> None:
    now = [100.0]
    limiter = RepeatLimiter(interval=10, clock=lambda: now[0])
    assert limiter.admit((503, "down")) == 0  # the first is logged
    assert [limiter.admit((503, "down")) for _ in range(5)] == [None] * 5
    assert limiter.admit((504, "slow")) == 0  # another kind is logged at once
    now[0] += 10
    assert limiter.admit((503, "down")) == 5  # the next line says how many were left out
    assert limiter.admit((503, "down")) is None


def refused() -> redis.ConnectionError:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as cause:
            raise redis.ConnectionError("Error 111 connecting") from cause
    except redis.ConnectionError as exc:
        return exc


@pytest.mark.parametrize(
    ("deployment", "says"),
    [
        ("standalone", "are host and port right?"),
        ("sentinel", "refused by the primary the sentinels named: it is down or being replaced"),
        ("cluster", "refused by the node: it is down (its replica takes over"),
    ],
)
def test_refused_connection_is_worded_per_deployment(deployment: str, says: str) -> None:
    code, message = describe(refused(), "target", 1, deployment=deployment)
    assert code == 503
    assert says in message
    assert deployment == "standalone" or "host and port" not in message


def test_the_failed_cluster_node_is_named() -> None:
    exc = refused()
    exc.connection = ClusterNode("127.0.0.1", 7002)  # as redis-py's cluster client attaches it
    _, message = describe(exc, "Redis Cluster at 127.0.0.1:7000", 1, deployment="cluster")
    assert message.startswith("cannot reach node 127.0.0.1:7002 of Redis Cluster at 127.0.0.1:7000")


def test_a_connection_closed_under_redis_py_is_503_with_the_cause_logged(
    log_lines: list[str],
) -> None:
    """A pooled connection closed by another thread made hiredis' can_read fail with a
    TypeError/AttributeError inside redis-py: 503 (nothing was sent), not 500."""
    connection = redis.Connection()  # never connected: its parser has no reader
    try:
        connection._parser.can_read(0)
    except (TypeError, AttributeError) as exc:
        code, message = describe(exc, "Redis at 127.0.0.1:6379", 1)
    assert code == 503
    assert "the connection was closed while the command was being sent" in message
    assert any("redis-py failed on a closed connection" in line for line in log_lines)
    code, _ = describe(TypeError("in the addon itself"), "Redis", 1)
    assert code == 500
