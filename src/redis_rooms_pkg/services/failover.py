"""What keeps writes honest while a deployment changes: pools that drop idle connections without
closing one a caller just took, and the watcher of the sentinels' failover announcements."""

from __future__ import annotations

from typing import Any


class DropsIdleSafely:
    """For a BlockingConnectionPool: idle connections are closed while no caller can take one.

    redis-py closes a pool's idle connections on a cluster slot-map refresh (after any node
    error) and when the sentinels name a new primary. It lists them, then closes them one by one;
    a connection another thread took from the queue in between was closed under its command,
    which redis-py then resent (a write applied twice) or failed on (TypeError in hiredis'
    can_read). Here the queue stays locked while they are closed: a caller waits those
    microseconds, then gets a closed connection that reconnects.
    """

    def disconnect_free_connections(self, moving_address_src: str | None = None) -> None:
        self._close_idle(moving_address_src)

    def disconnect(self, inuse_connections: bool = True) -> None:
        if inuse_connections:
            super().disconnect(inuse_connections=True)  # type: ignore[misc]
        else:
            self._close_idle(None)

    def _close_idle(self, address: str | None) -> None:
        pool: Any = self
        with pool._lock, pool.pool.mutex:  # the order redis-py's pool takes them in
            for connection in pool.pool.queue:
                if connection is not None and pool._should_update_connection(
                    connection, "connected_address", address
                ):
                    connection.disconnect()
