"""What a test compares to prove a refused call changed nothing: every key, its value and expiry."""

from __future__ import annotations

from typing import Any

import redis

from servers import RedisServer

State = dict[bytes, tuple[str, Any, bool]]


def _contents(raw: redis.Redis, key: bytes, kind: str) -> Any:
    """A key's contents in a form that does not depend on the server's internal order (DUMP of
    a hash or set changes as its table is rehashed, even by reads)."""
    if kind == "string":
        return raw.get(key)
    if kind == "list":
        return raw.lrange(key, 0, -1)
    if kind == "hash":
        return sorted(raw.hgetall(key).items())
    if kind == "set":
        return sorted(raw.smembers(key))
    if kind == "zset":
        return raw.zrange(key, 0, -1, withscores=True)
    return raw.dump(key)  # streams and modules: order is stable


def keyspace(server: RedisServer) -> State:
    """Every key of the (small) test database: its type, contents and whether it expires. SCAN,
    never KEYS."""
    raw = server.client(decode_responses=False)
    try:
        state: State = {}
        for key in raw.scan_iter(count=1000):
            kind = raw.type(key).decode()
            if kind != "none":
                state[key] = (kind, _contents(raw, key, kind), raw.pttl(key) > 0)
        return state
    finally:
        raw.close()
