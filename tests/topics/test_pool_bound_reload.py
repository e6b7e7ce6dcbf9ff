"""The pool bound holds across credential reloads and close() under load (issue 11, defect 10)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

CLIENT_NAME = "rooms:bound-test"
MAX_CONNECTIONS = 4
THREADS = 8
SECOND_PASSWORD = "second-Vb7!pw"  # the default user accepts both while the test runs


@pytest.fixture
def two_passwords(server: RedisServer) -> Iterator[None]:
    raw = server.client()
    raw.execute_command("ACL", "SETUSER", "default", f">{SECOND_PASSWORD}")
    yield
    raw.execute_command("ACL", "SETUSER", "default", f"<{SECOND_PASSWORD}")


def named_clients(server: RedisServer) -> list[dict]:
    return [c for c in server.client().client_list() if c["name"] == CLIENT_NAME]


def test_reloads_and_closes_under_load_never_exceed_max_connections(
    server: RedisServer, two_passwords: None, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(
        password=PASSWORD,
        host="127.0.0.1",
        port=server.port,
        client_name=CLIENT_NAME,
        max_connections=MAX_CONNECTIONS,
    )
    stop = threading.Event()
    samples: list[int] = []

    def steps(thread: int) -> list[str]:
        failures = []
        for i in range(5_000):  # bounded; normally ends by `stop`
            if stop.is_set():
                break
            response = addon.increment(f"c{thread}") if i % 2 else addon.get_key(f"c{thread}")
            if response.code != 200:
                failures.append(f"{response.code} {response.message}")
        return failures

    with ThreadPoolExecutor(THREADS) as threads:
        running = [threads.submit(steps, t) for t in range(THREADS)]
        for round_ in range(60):
            if round_ % 3 == 0:
                addon.loadCredentials(redis_password=PASSWORD)  # unchanged
            elif round_ % 3 == 1:
                password = SECOND_PASSWORD if round_ % 2 else PASSWORD
                addon.loadCredentials(redis_password=password)  # changed
            else:
                addon.close()
            samples.append(len(named_clients(server)))
        stop.set()
        failures = [f for future in running for f in future.result()]
    assert max(samples) <= MAX_CONNECTIONS, samples
    assert max(samples) >= 1
    assert not failures, failures[:5]
    addon.close()
    deadline = time.monotonic() + 5  # the server drops a closed client when it reads the close
    while named_clients(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert named_clients(server) == []  # close() leaves no idle connection behind


def test_unchanged_credentials_keep_the_connections(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(
        password=PASSWORD, host="127.0.0.1", port=server.port, client_name=CLIENT_NAME
    )
    assert addon.set_key("k", "v").code == 200
    before = [c["id"] for c in named_clients(server)]
    assert addon.loadCredentials(redis_password=PASSWORD)
    assert addon.get_key("k").code == 200
    assert [c["id"] for c in named_clients(server)] == before


def test_new_credentials_are_used_by_the_next_connection(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(
        password=PASSWORD, host="127.0.0.1", port=server.port, client_name=CLIENT_NAME
    )
    assert addon.set_key("k", "v").code == 200
    assert addon.loadCredentials(redis_password="wrong-password")
    assert addon.get_key("k").code == 401
    assert addon.loadCredentials(redis_password=PASSWORD)
    assert addon.get_key("k").output.value == "v"
