"""One addon under concurrent load: nothing lost, the pool bound holds, a restart is survived."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from conftest import PASSWORD
from managed_fixtures import readme_example
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer

LoadAddon = Callable[..., RedisRoomsAddon]
THREADS = 8
ACTIONS_PER_THREAD = 2_000
MAX_CONNECTIONS = 4  # fewer than the threads, so they must queue for connections
CLIENT_NAME = "rooms:load-test"


def pool_entry(server: RedisServer, **swap: object) -> dict:
    return readme_example(
        "pool",
        swap={
            "host": "127.0.0.1",
            "port": server.port,
            "client_name": CLIENT_NAME,
            "max_connections": MAX_CONNECTIONS,
            **swap,
        },
    )


class ClientSampler:
    """Counts the server's clients named CLIENT_NAME from its own connection, until stopped."""

    def __init__(self, server: RedisServer) -> None:
        self.raw = server.client(client_name="sampler")
        self.samples: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(0.01) and len(self.samples) < 100_000:
            try:
                clients = self.raw.client_list()
            except Exception:  # the server may be down in the fault test
                continue
            self.samples.append(sum(c["name"] == CLIENT_NAME for c in clients))

    def __enter__(self) -> ClientSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


def worker(addon: RedisRoomsAddon, t: int) -> tuple[dict[str, str], list[str]]:
    """Mixed actions on the thread's own keys; returns the final expected state and failures."""
    expected: dict[str, str] = {}
    failures: list[str] = []
    for i in range(ACTIONS_PER_THREAD):
        key = f"t{t}:k{i % 300}"
        op = i % 10
        if op < 5:
            value = f"v{t}-{i}"
            response = addon.set_key(key, value, ex=600 if i % 2 else None)
            expected[key] = value
        elif op < 8:
            response = addon.get_key(key)
            if response.code == 200 and response.output.value != expected.get(key):
                failures.append(f"{key}: read {response.output.value!r}")
        elif op < 9:
            response = addon.delete_key(key)
            if response.code == 200 and response.output.deleted != (key in expected):
                failures.append(f"{key}: deleted={response.output.deleted}")
            expected.pop(key, None)
        else:
            response = addon.list_keys(f"t{t}:k1*") if i % 200 == 9 else addon.get_key(key)
        if response.code != 200:
            failures.append(f"{key}: {response.code} {response.message}")
    return expected, failures


def test_eight_threads_of_mixed_actions_stay_within_the_pool(
    server: RedisServer, load_addon: LoadAddon
) -> None:
    addon = load_addon(pool_entry(server), redis_password=PASSWORD)
    with ClientSampler(server) as sampler, ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda t: worker(addon, t), range(THREADS)))
    failures = [f for _, thread_failures in results for f in thread_failures]
    assert not failures, failures[:10]
    raw = server.client()
    for expected, _ in results:
        assert expected, "each thread leaves keys behind"
        stored = raw.mget(list(expected))
        assert stored == list(expected.values())  # every write readable: nothing lost
    assert raw.dbsize() == sum(len(expected) for expected, _ in results)
    assert sampler.samples
    assert max(sampler.samples) >= 1
    assert max(sampler.samples) <= MAX_CONNECTIONS
    named = [c for c in raw.client_list() if c["name"] == CLIENT_NAME]
    assert 1 <= len(named) <= MAX_CONNECTIONS


def test_server_killed_and_restarted_during_load(
    server: RedisServer, load_addon: LoadAddon
) -> None:
    addon = load_addon(pool_entry(server, socket_timeout=1), redis_password=PASSWORD)
    phase = {"value": "before"}  # before -> down -> after
    seen: dict[str, set[int]] = {"before": set(), "down": set(), "after": set()}
    after_ok: list[int] = []
    done = threading.Event()
    lock = threading.Lock()

    def hammer(t: int) -> None:
        for i in range(100_000):  # bounded; normally ends by `done`
            if done.is_set():
                return
            started = phase["value"]
            response = addon.set_key(f"r{t}:{i % 50}", i)
            if response.code == 200:
                response = addon.get_key(f"r{t}:{i % 50}")
            with lock:
                if phase["value"] == started:  # the whole step ran within one phase
                    seen[started].add(response.code)
                if started == "after" and response.code == 200:
                    after_ok.append(t)
            if response.code != 200:
                time.sleep(0.01)

    threads = [threading.Thread(target=hammer, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        server.kill()
        phase["value"] = "down"
        time.sleep(1.0)
        phase["value"] = "restarting"
        seen["restarting"] = set()
        server.start()  # same port and password
        phase["value"] = "after"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(set(after_ok)) < THREADS:
            time.sleep(0.05)
    finally:
        done.set()
        for thread in threads:
            thread.join(30)
    assert seen["before"] == {200}
    assert seen["down"] == {503}, seen
    assert set(after_ok) == set(range(THREADS)), "every thread succeeds again, same addon"
    assert seen["after"] == {200}, seen
