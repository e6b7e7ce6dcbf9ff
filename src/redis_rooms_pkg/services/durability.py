"""Durable writes: a write action is acknowledged once enough replicas have it (WAIT)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import redis

from redis_rooms_pkg.actions.base import ActionContext


class _Pinned:
    """A stand-in pool that hands out one connection: every command of an action, pipelines
    included, goes over it, so that WAIT afterwards covers all of them (WAIT counts the
    replicas that have the writes of the connection it is sent on)."""

    def __init__(self, pool: Any, connection: Any) -> None:
        self._pool = pool
        self._connection = connection

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        return self._connection

    def release(self, connection: Any) -> None:
        """Kept until the action and its WAIT are done (see :func:`run_replicated`)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


def run_replicated(
    run: Callable[[ActionContext, Any], Any],
    context: ActionContext,
    params: Any,
    replicas: int,
    timeout_ms: int,
) -> tuple[Any, int]:
    """Run a write action on one connection, then WAIT for ``replicas`` replicas (at most
    ``timeout_ms``); its output and how many replicas acknowledged its writes."""
    pool = context.client.connection_pool
    connection = pool.get_connection()
    try:
        client = redis.Redis(connection_pool=_Pinned(pool, connection))
        output = run(dataclasses.replace(context, client=client), params)
        acknowledged = int(client.execute_command("WAIT", replicas, timeout_ms))
    finally:
        pool.release(connection)
    return output, acknowledged
