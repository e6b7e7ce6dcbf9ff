"""The measurements: each compares the addon with raw redis-py in this process, on one server."""

from __future__ import annotations

import dataclasses
import gc
import inspect
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from benchmarks.probe import Probe
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.services import client as client_service

ROOT = Path(__file__).resolve().parent.parent
VALUE = '{"user":"ada","plan":"pro","items":[1,2,3],"note":"a value of about a hundred bytes"}'
LISTING_DB = 1  # the large keyspace lives apart from the small keys of the other measurements
BOUNDED_POOL = 4  # max_connections given to the concurrency run (fewer than its threads)


@dataclass(frozen=True)
class Profile:
    """Sizes of one run: "full" is what the targets are judged on."""

    name: str
    overhead_rounds: int  # interleaved rounds of per-action calls
    overhead_calls: int  # calls per round, per side (addon / raw)
    listing_keys: int
    limit_calls: int  # list_keys(limit=100) calls timed
    batch_size: int
    batch_rounds: int
    threads: int
    thread_iterations: int  # set_key + get_key pairs per thread
    concurrency_rounds: int
    memory_warmup: int
    memory_actions: int
    import_runs: int  # fresh interpreters per side
    hiredis_pairs: int  # child runs with and without hiredis
    hiredis_rounds: int
    hiredis_calls: int
    action_rounds: int  # interleaved rounds per action in the per-action table
    action_calls: int  # calls per round, per side


PROFILES = {
    "full": Profile(
        "full", 50, 500, 1_000_000, 50, 1000, 15, 8, 5000, 7, 10_000, 100_000, 21, 2, 20, 250,
        30, 200,
    ),
    "quick": Profile(
        "quick", 20, 250, 100_000, 20, 1000, 5, 8, 500, 2, 2_000, 20_000, 7, 1, 10, 200, 6, 100
    ),
    "smoke": Profile("smoke", 2, 50, 2_000, 3, 100, 2, 2, 50, 1, 100, 500, 1, 1, 2, 20, 1, 5),
}  # fmt: skip


@dataclass
class Result:
    """One figure of the table: measured value, target and verdict."""

    id: str
    figure: str
    value: float | None
    unit: str
    op: str | None = None  # "<=" or ">=" (None: reported, not judged)
    limit: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def target(self) -> str:
        return "" if self.op is None else f"{self.op} {self.limit:g} {self.unit}".rstrip()

    @property
    def status(self) -> str:
        if self.op is None or self.limit is None:
            return "INFO"
        if self.value is None:
            return "N/A"
        ok = self.value <= self.limit if self.op == "<=" else self.value >= self.limit
        return "PASS" if ok else "MISS"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "figure": self.figure,
            "value": self.value,
            "unit": self.unit,
            "target": self.target,
            "op": self.op,
            "limit": self.limit,
            "status": self.status,
            "note": self.note,
            "details": self.details,
        }


# --- helpers -----------------------------------------------------------------------------------


def make_addon(port: int, **options: Any) -> RedisRoomsAddon:
    """An addon configured the way the engine does it, against the benchmark server."""
    addon = RedisRoomsAddon()
    entry = {
        "id": "bench",
        "type": "redis",
        "name": "Benchmark",
        "enabled": True,
        "config": {"host": "127.0.0.1", "port": port, **options},
    }
    if not addon.loadAddonConfig(entry):
        raise RuntimeError(f"the benchmark's addon config was refused: {options}")
    return addon


def raw_twin(addon: RedisRoomsAddon) -> redis.Redis:
    """A plain ``redis.Redis`` from the addon's configuration: the client a user would write by
    hand. Same server, credentials, timeouts, client name, retry policy and pool bound, but
    redis-py's own pool and connection classes (not the addon's), so a faster pool or a leaner
    command path counts for the addon only."""
    assert addon.config is not None
    config = client_service.effective_config(addon.config, addon.credentials)
    options = client_service.connection_options(config, addon.credentials)
    options.pop("connection_class")
    return redis.Redis(max_connections=config.max_connections, **options)


def close_raw(client: redis.Redis) -> None:
    client.close()
    client.connection_pool.disconnect()


def has_param(method: Callable[..., Any], name: str) -> bool:
    return name in inspect.signature(method).parameters


def ok(response: Any) -> Any:
    """The response's output, after checking the action succeeded (outside timed sections)."""
    if response.code != 200:
        raise RuntimeError(f"benchmark action failed: {response.code} {response.message}")
    return response.output


def per_call(call: Callable[[str], Any], keys: list[str]) -> tuple[list[int], int]:
    """Each call's wall time (ns), and the CPU time (ns) this thread spent on all of them."""
    clock = time.perf_counter_ns
    times: list[int] = []
    append = times.append
    cpu = time.thread_time_ns()
    for key in keys:
        start = clock()
        call(key)
        append(clock() - start)
    return times, time.thread_time_ns() - cpu


def interleaved(
    addon_call: Callable[[str], Any], raw_call: Callable[[str], Any], keys: list[str], rounds: int
) -> dict[str, Any]:
    """Rounds alternating which side goes first; the ratio is the median of per-round ratios."""
    ratios: list[float] = []
    addon_all: list[int] = []
    raw_all: list[int] = []
    addon_cpu: list[float] = []
    raw_cpu: list[float] = []
    for number in range(rounds):
        if number % 2:
            raw_times, raw_ns = per_call(raw_call, keys)
            addon_times, addon_ns = per_call(addon_call, keys)
        else:
            addon_times, addon_ns = per_call(addon_call, keys)
            raw_times, raw_ns = per_call(raw_call, keys)
        ratios.append(statistics.median(addon_times) / statistics.median(raw_times))
        addon_all += addon_times
        raw_all += raw_times
        addon_cpu.append(addon_ns / len(keys) / 1000)
        raw_cpu.append(raw_ns / len(keys) / 1000)
    return {
        # CPU this process spends per call (Python work + socket system calls): what bounds
        # throughput when many threads share one interpreter (see the concurrency figure).
        "addon_cpu_us": statistics.median(addon_cpu),
        "raw_cpu_us": statistics.median(raw_cpu),
        "ratio": statistics.median(ratios),
        "addon_median_us": statistics.median(addon_all) / 1000,
        "raw_median_us": statistics.median(raw_all) / 1000,
        "addon_mean_us": statistics.fmean(addon_all) / 1000,
        "raw_mean_us": statistics.fmean(raw_all) / 1000,
        "calls_per_side": len(addon_all),
        "rounds": rounds,
    }


def latency_stats(latencies_ns: list[int]) -> dict[str, Any]:
    if not latencies_ns:
        return {"pings": 0, "max_ms": None, "p99_ms": None, "median_ms": None}
    ordered = sorted(latencies_ns)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "pings": len(ordered),
        "max_ms": ordered[-1] / 1e6,
        "p99_ms": p99 / 1e6,
        "median_ms": statistics.median(ordered) / 1e6,
    }


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def list_everything(addon: RedisRoomsAddon) -> tuple[int, int]:
    """List every key with list_keys (page by page where it pages); (keys, calls)."""
    if not has_param(addon.list_keys, "limit"):
        return ok(addon.list_keys("*")).count, 1
    limit = _max_limit(addon)
    total, calls, cursor = 0, 0, "0"
    while True:
        output = ok(addon.list_keys("*", limit=limit, cursor=cursor))
        total += output.count
        calls += 1
        cursor = output.cursor
        if str(cursor) == "0":
            return total, calls


def _max_limit(addon: RedisRoomsAddon) -> int:
    from redis_rooms_pkg.actions import CATALOGUE

    limit = CATALOGUE["list_keys"].input.model_fields["limit"]
    for rule in limit.metadata:
        if hasattr(rule, "le"):
            return int(rule.le)
    return 100_000


# --- 1. per-action overhead --------------------------------------------------------------------


def overhead(port: int, rounds: int, calls: int) -> dict[str, Any]:
    """set_key / get_key through the addon vs SET / GET on its raw twin, interleaved."""
    addon = make_addon(port)
    raw = raw_twin(addon)
    keys = [f"bench:{n}" for n in range(calls)]
    ok(addon.set_key(keys[0], VALUE))
    ok(addon.get_key(keys[0]))
    raw.set(keys[0], VALUE)  # both sides connected before timing
    set_figures = interleaved(
        lambda key: addon.set_key(key, VALUE), lambda key: raw.set(key, VALUE), keys, rounds
    )
    get_figures = interleaved(addon.get_key, raw.get, keys, rounds)
    addon.close()
    close_raw(raw)
    return {"set_key": set_figures, "get_key": get_figures}


class _NoNetwork:
    """A client whose commands answer at once: isolates the addon's own Python work."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return VALUE.encode() if args[0] == "GET" else True

    def set(self, *args: Any, **options: Any) -> bool:
        return True

    def get(self, *args: Any, **options: Any) -> str:
        return VALUE


def own_work(port: int, calls: int) -> Result:
    """The addon's own work per action, with a client that does no I/O: in a tight loop (hot
    CPU caches) and with a real round trip between calls (as in a workflow, caches cooled)."""
    addon = make_addon(port)
    real = addon.context()
    quick = dataclasses.replace(real, client=_NoNetwork())
    addon.context = lambda: quick  # this instance only: its actions skip the network
    clock = time.perf_counter_ns
    figures: dict[str, float] = {}
    for name, action in (
        ("set_key", lambda: addon.set_key("k", VALUE)),
        ("get_key", lambda: addon.get_key("k")),
    ):
        for mode in ("hot", "cold"):
            times = []
            for _ in range(calls):
                if mode == "cold":
                    real.client.get("k")
                start = clock()
                action()
                times.append(clock() - start)
            figures[f"{name}_{mode}_us"] = statistics.median(times) / 1000
    addon.close()
    real.client.close()
    return Result(
        id="overhead.own_work",
        figure=f"addon's own work per set_key / get_key (no I/O): {figures['set_key_hot_us']:.1f}"
        f" / {figures['get_key_hot_us']:.1f} us hot, {figures['set_key_cold_us']:.1f} / "
        f"{figures['get_key_cold_us']:.1f} us between real round trips",
        value=round(figures["set_key_cold_us"], 1),
        unit="us",
        details={**figures, "calls": calls},
        note="the addon's Python work alone: what it adds above the redis-py call",
    )


def overhead_results(figures: dict[str, Any]) -> list[Result]:
    cpu = [
        Result(
            id=f"overhead.{name}_cpu",
            figure=f"{name}: client CPU per call, addon / raw "
            f"({data['addon_cpu_us']:.1f} / {data['raw_cpu_us']:.1f} us)",
            value=round(data["addon_cpu_us"] / data["raw_cpu_us"], 3),
            unit="x",
            note="CPU, not wall time: what bounds throughput when threads share the GIL",
        )
        for name, data in figures.items()
    ]
    return cpu + [
        Result(
            id=f"overhead.{name}",
            figure=f"{name}: addon / raw redis-py (median per call "
            f"{data['addon_median_us']:.0f} / {data['raw_median_us']:.0f} us)",
            value=round(data["ratio"], 3),
            unit="x",
            op="<=",
            limit=1.10,
            details=data,
        )
        for name, data in figures.items()
    ]


# --- 2. listing a large keyspace ---------------------------------------------------------------


def populate(admin: redis.Redis, count: int) -> None:
    admin.flushdb()
    admin.execute_command("DEBUG", "POPULATE", count, "key", 16)
    if admin.dbsize() != count:
        raise RuntimeError(f"DEBUG POPULATE made {admin.dbsize()} keys, not {count}")


def listing(port: int, count: int, limit_calls: int) -> list[Result]:
    admin = redis.Redis(host="127.0.0.1", port=port, db=LISTING_DB, socket_timeout=120)
    populate(admin, count)
    addon = make_addon(port, db=LISTING_DB, socket_timeout=60)
    ok(addon.get_key("warm-up"))

    with Probe(port) as idle:
        time.sleep(0.5)
    with Probe(port) as during_list:
        start = time.perf_counter()
        listed, calls = list_everything(addon)
        list_seconds = time.perf_counter() - start
    with Probe(port) as during_keys:
        start = time.perf_counter()
        keys_count = len(admin.keys("*"))
        keys_seconds = time.perf_counter() - start
    if listed != count or keys_count != count:
        raise RuntimeError(f"listed {listed} keys and KEYS {keys_count}, expected {count}")

    on_list = latency_stats(during_list.latencies)
    on_keys = latency_stats(during_keys.latencies)
    common = {"keys": count, "idle_probe": latency_stats(idle.latencies)}
    results = [
        Result(
            id="listing.list_keys_probe_max",
            figure=f"PING max latency while list_keys lists {count:,} keys "
            f"(p99 {on_list['p99_ms']:.2f} ms; {calls} call(s), {list_seconds:.2f} s)",
            value=_round(on_list["max_ms"]),
            unit="ms",
            op="<=",
            limit=20,
            details={
                **common,
                "probe": on_list,
                "list_seconds": list_seconds,
                "calls": calls,
                "latencies_ms": [ns / 1e6 for ns in during_list.latencies],
            },
        ),
        Result(
            id="listing.keys_probe_max",
            figure=f"PING max latency while KEYS * lists them (p99 {on_keys['p99_ms']:.2f} ms; "
            f"{keys_seconds:.2f} s)",
            value=_round(on_keys["max_ms"]),
            unit="ms",
            details={
                **common,
                "probe": on_keys,
                "keys_seconds": keys_seconds,
                "latencies_ms": [ns / 1e6 for ns in during_keys.latencies],
            },
            note="reference: how a KEYS-based integration blocks the server",
        ),
    ]
    results.append(limited_listing(addon, count, limit_calls))
    addon.close()
    admin.close()
    return results


def limited_listing(addon: RedisRoomsAddon, count: int, calls: int) -> Result:
    figure = f"list_keys(limit=100) on {count:,} keys (median of {calls})"
    if not has_param(addon.list_keys, "limit"):
        return Result(
            "listing.limit_100",
            figure,
            None,
            "ms",
            "<=",
            20,
            note="list_keys has no limit parameter on this build",
        )
    times = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        output = ok(addon.list_keys("*", limit=100))
        times.append(time.perf_counter_ns() - start)
        if not 100 <= output.count < 2000:
            raise RuntimeError(f"list_keys(limit=100) returned {output.count} keys")
    median_ms = statistics.median(times) / 1e6
    return Result(
        "listing.limit_100",
        figure,
        _round(median_ms),
        "ms",
        "<=",
        20,
        details={"calls": calls, "max_ms": max(times) / 1e6},
    )


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# --- 3. batches --------------------------------------------------------------------------------


def batches(port: int, size: int, rounds: int) -> list[Result]:
    addon = make_addon(port)
    if not hasattr(addon, "set_many") or not hasattr(addon, "get_many"):
        return [
            Result(
                f"batch.{name}",
                f"{name} of {size} keys vs {size} single actions",
                None,
                "x",
                ">=",
                50,
                note="the addon has no get_many/set_many on this build",
            )
            for name in ("set_many", "get_many")
        ]
    keys = [f"batch:{n}" for n in range(size)]
    items = dict.fromkeys(keys, VALUE)
    ok(addon.set_many(items))
    assert ok(addon.get_many(keys)).found_count == size

    def singles_set() -> None:
        for key in keys:
            addon.set_key(key, VALUE)

    def singles_get() -> None:
        for key in keys:
            addon.get_key(key)

    results = []
    for name, batch, singles in (
        ("set_many", lambda: addon.set_many(items), singles_set),
        ("get_many", lambda: addon.get_many(keys), singles_get),
    ):
        batch_times, single_times, ratios = [], [], []
        for number in range(rounds):
            pair = [("batch", batch), ("single", singles)]
            timed = {}
            for label, run in pair if number % 2 == 0 else reversed(pair):
                start = time.perf_counter_ns()
                run()
                timed[label] = time.perf_counter_ns() - start
            batch_times.append(timed["batch"])
            single_times.append(timed["single"])
            ratios.append(timed["single"] / timed["batch"])
        ratio = statistics.median(ratios)
        batch_ms = statistics.median(batch_times) / 1e6
        single_ms = statistics.median(single_times) / 1e6
        results.append(
            Result(
                id=f"batch.{name}",
                figure=f"{name} of {size} keys vs {size} single actions "
                f"({batch_ms:.1f} ms vs {single_ms:.0f} ms)",
                value=round(ratio, 1),
                unit="x",
                op=">=",
                limit=50,
                details={
                    "size": size,
                    "rounds": rounds,
                    "batch_ms": batch_ms,
                    "singles_ms": single_ms,
                },
            )
        )
    addon.close()
    return results


# --- 4. concurrency ----------------------------------------------------------------------------


def _threads_run(threads: int, iterations: int, work: Callable[[str], bool]) -> tuple[float, int]:
    """Seconds for ``threads`` threads each doing ``iterations`` units of ``work``, and how many
    units failed (``work`` returned False or raised): counted, so one slow wait does not end
    the run."""
    barrier = threading.Barrier(threads + 1)
    failed = [0] * threads

    def worker(number: int) -> None:
        keys = [f"conc:{number}:{n}" for n in range(iterations)]
        barrier.wait()
        for key in keys:
            try:
                if not work(key):
                    failed[number] += 1
            except Exception:  # raw redis-py raises where the addon answers a code
                failed[number] += 1

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in pool:
        thread.join()
    return time.perf_counter() - start, sum(failed)


def _connections(admin: redis.Redis) -> int:
    return len(admin.client_list(_type="normal"))


def concurrency(port: int, threads: int, iterations: int, rounds: int) -> list[Result]:
    """Throughput with a pool of one connection per thread (nobody waits for a connection),
    then one run per side with a pool smaller than the threads: its bound, and failed waits."""
    admin = redis.Redis(host="127.0.0.1", port=port)
    probe_addon = make_addon(port)
    bounded = probe_addon.config is not None and hasattr(probe_addon.config, "max_connections")
    probe_addon.close()
    baseline = _connections(admin)

    def addon_work(addon: RedisRoomsAddon) -> Callable[[str], bool]:
        def work(key: str) -> bool:
            return addon.set_key(key, VALUE).code == 200 and addon.get_key(key).code == 200

        return work

    def raw_work(client: redis.Redis) -> Callable[[str], bool]:
        def work(key: str) -> bool:
            client.set(key, VALUE)
            return client.get(key) is not None

        return work

    def run(side: str, pool_size: int) -> tuple[float, int, int]:
        """(ops/s, failed pairs, connections opened) of one run."""
        addon = make_addon(port, **({"max_connections": pool_size} if bounded else {}))
        if side == "addon":
            seconds, failed = _threads_run(threads, iterations, addon_work(addon))
            opened = _connections(admin) - baseline
        else:
            raw = raw_twin(addon)
            seconds, failed = _threads_run(threads, iterations, raw_work(raw))
            opened = _connections(admin) - baseline
            close_raw(raw)
        addon.close()
        return threads * iterations * 2 / seconds, failed, opened

    rates: dict[str, list[float]] = {"addon": [], "raw": []}
    ratios: list[float] = []
    failures = {"addon": 0, "raw": 0}
    for number in range(rounds):
        sides = ["addon", "raw"] if number % 2 == 0 else ["raw", "addon"]
        for side in sides:
            rate, failed, _ = run(side, threads)
            rates[side].append(rate)
            failures[side] += failed
        ratios.append(rates["addon"][-1] / rates["raw"][-1])
    details: dict[str, Any] = {
        "threads": threads,
        "iterations_per_thread": iterations,
        "rounds": rounds,
        "max_connections": threads if bounded else None,
        "addon_ops_per_s": statistics.median(rates["addon"]),
        "raw_ops_per_s": statistics.median(rates["raw"]),
        "failed_pairs": failures,
    }
    results = [
        Result(
            id="concurrency.throughput_ratio",
            figure=f"{threads} threads x {iterations:,} set_key+get_key: addon / raw throughput "
            f"({details['addon_ops_per_s']:,.0f} / {details['raw_ops_per_s']:,.0f} ops/s; "
            f"failed pairs {failures['addon']} / {failures['raw']})",
            value=round(statistics.median(ratios), 3),
            unit="x",
            op=">=",
            limit=0.95,
            details=details,
        )
    ]
    if not bounded:
        results.append(
            Result("concurrency.connections", "connections under a bounded pool", None, "",
                   "<=", BOUNDED_POOL, note="the pool bound arrives with max_connections")
        )  # fmt: skip
        admin.close()
        return results
    bound = {side: run(side, BOUNDED_POOL) for side in ("addon", "raw")}
    bound_details = {
        "threads": threads,
        "iterations_per_thread": iterations,
        "max_connections": BOUNDED_POOL,
        **{f"{side}_{what}": value[i] for side, value in bound.items()
           for i, what in enumerate(("ops_per_s", "failed_pairs", "connections"))},
    }  # fmt: skip
    results += [
        Result(
            id="concurrency.connections",
            figure=f"connections opened by the addon, {threads} threads, "
            f"max_connections={BOUNDED_POOL}",
            value=bound["addon"][2],
            unit="",
            op="<=",
            limit=BOUNDED_POOL,
            details=bound_details,
        ),
        Result(
            id="concurrency.failures",
            figure=f"set_key+get_key pairs failed, {threads} threads, max_connections="
            f"{BOUNDED_POOL} (raw redis-py: {bound['raw'][1]})",
            value=bound["addon"][1],
            unit="",
            op="<=",
            limit=0,
            details=bound_details,
            note="a failure is a wait for a pooled connection longer than the pool's timeout",
        ),
    ]
    admin.close()
    return results


# --- 5. memory and import time -----------------------------------------------------------------


def memory(port: int, warmup: int, actions: int) -> Result:
    addon = make_addon(port)
    keys = [f"mem:{n % 1000}" for n in range(max(warmup, actions))]

    def run(count: int) -> None:
        for n in range(count):
            key = keys[n]
            if n % 2:
                addon.get_key(key)
            else:
                addon.set_key(key, VALUE)

    run(warmup)
    gc.collect()
    before = rss_bytes()
    run(actions)
    gc.collect()
    growth_mb = (rss_bytes() - before) / 2**20
    addon.close()
    return Result(
        id="memory.rss_growth",
        figure=f"RSS growth over {actions:,} actions after {warmup:,} warm-up actions",
        value=round(growth_mb, 2),
        unit="MB",
        op="<=",
        limit=5,
        details={"rss_before_mb": before / 2**20, "actions": actions, "warmup": warmup},
    )


DEPS_IMPORT = "import redis, pydantic, loguru"
DEPS_WITH_MODELS_IMPORT = "import redis, loguru; from pydantic import BaseModel"
# `import pydantic` is lazy: it loads none of pydantic's modules. The judged baseline loads the
# parts of pydantic the addon uses (models, fields, SecretStr: pydantic.main, pydantic.fields,
# pydantic.types, annotated_types), so what remains is the addon's own import (docs/benchmarks.md).
DEPS_WITH_FIELDS_IMPORT = "import redis, loguru; from pydantic import BaseModel, Field, SecretStr"
ADDON_IMPORT = "import redis_rooms_pkg.addon"
NOT_IMPORTED = ("fakeredis", "typer", "rich", "click")


def _import_env() -> dict[str, str]:
    """A child environment that writes bytecode, as an installed wheel has it compiled."""
    drop = {"PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE"}
    return {name: value for name, value in os.environ.items() if name not in drop}


def _python(code: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *options, "-c", code],
        capture_output=True, text=True, check=True, env=_import_env(), cwd=ROOT,
    )  # fmt: skip


def _import_seconds(statement: str) -> tuple[float, float]:
    """(CPU, wall) seconds of ``statement`` in a fresh interpreter. CPU time is what is judged:
    on a shared machine, wall time also counts the waits for a free core."""
    code = (
        "import time; c, t = time.process_time(), time.perf_counter(); " + statement + "; "
        "print(time.process_time() - c, time.perf_counter() - t)"
    )
    cpu, wall = _python(code).stdout.split()
    return float(cpu), float(wall)


def import_time(runs: int) -> list[Result]:
    """Fresh interpreters, in rotating order: the addon's import vs its dependencies' alone."""
    statements = {
        "deps": DEPS_IMPORT,
        "deps_models": DEPS_WITH_MODELS_IMPORT,
        "deps_fields": DEPS_WITH_FIELDS_IMPORT,
        "addon": ADDON_IMPORT,
    }
    for statement in statements.values():  # warm-up: writes bytecode, fills the OS file cache
        _import_seconds(statement)
    times: dict[str, list[float]] = {name: [] for name in statements}
    walls: dict[str, list[float]] = {name: [] for name in statements}
    order = list(statements)
    for number in range(runs):
        shift = number % len(order)
        for name in order[shift:] + order[:shift]:
            cpu, wall = _import_seconds(statements[name])
            times[name].append(cpu * 1000)
            walls[name].append(wall * 1000)
    median = {name: statistics.median(values) for name, values in times.items()}
    over = [a - b for a, b in zip(times["addon"], times["deps_models"], strict=True)]
    over_strict = [a - b for a, b in zip(times["addon"], times["deps"], strict=True)]
    over_fields = [a - b for a, b in zip(times["addon"], times["deps_fields"], strict=True)]
    probe = (
        f"import sys, json; {ADDON_IMPORT}; "
        "top = {name.split('.')[0] for name in sys.modules}; "
        f"print(json.dumps(sorted(top & set({NOT_IMPORTED!r}))))"
    )
    stray = json.loads(_python(probe).stdout)
    return [
        Result(
            id="import.addon_over_deps",
            figure="import redis_rooms_pkg.addon, CPU ms above its dependencies' modules "
            f"({median['addon']:.0f} vs {median['deps_fields']:.0f} ms; above BaseModel only "
            f"{statistics.median(over):.0f}, above `{DEPS_IMPORT}` "
            f"{statistics.median(over_strict):.0f})",
            value=round(statistics.median(over_fields), 1),
            unit="ms",
            op="<=",
            limit=30,
            details={
                "runs": runs,
                "median_ms": median,
                "over_deps_strict_ms": statistics.median(over_strict),
                "over_deps_with_models_ms": statistics.median(over),
                "baselines": {
                    "deps": DEPS_IMPORT,
                    "deps_models": DEPS_WITH_MODELS_IMPORT,
                    "deps_fields": DEPS_WITH_FIELDS_IMPORT,
                },
                "cpu_ms": times,
                "wall_ms": walls,
                "wall_median_ms": {name: statistics.median(v) for name, v in walls.items()},
            },
        ),
        Result(
            id="import.stray_modules",
            figure="of fakeredis/typer/rich/click, imported by `import redis_rooms_pkg.addon`",
            value=len(stray),
            unit="",
            op="<=",
            limit=0,
            details={"imported": stray},
        ),
    ]


def import_profile(top: int = 12) -> list[tuple[str, float]]:
    """What the addon's import adds once its dependencies are loaded: slowest modules (self ms)."""
    code = (
        f"import sys; {DEPS_WITH_FIELDS_IMPORT}; sys.stderr.write('--addon--\\n'); {ADDON_IMPORT}"
    )
    out = _python(code, "-X", "importtime").stderr
    rows = []
    for line in out.split("--addon--", 1)[-1].splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].split(":")[-1].strip().isdigit():
            rows.append((parts[2].strip(), int(parts[0].split(":")[-1]) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


# --- 6. hiredis on / off -----------------------------------------------------------------------

CHILD = (
    "import sys\n"
    "if sys.argv[1] == 'off': sys.modules['hiredis'] = None\n"
    "from benchmarks.measures import child_main\n"
    "child_main(sys.argv[2:])\n"
)


def child_main(argv: list[str]) -> None:
    """Run in a child interpreter (hiredis on or blocked): per-action figures and a full listing."""
    from redis.utils import HIREDIS_AVAILABLE

    from benchmarks.report import quiet_logging

    quiet_logging()
    port, rounds, calls, listing_keys = (int(arg) for arg in argv)
    figures = overhead(port, rounds, calls)
    listed = {}
    if listing_keys:
        addon = make_addon(port, db=LISTING_DB, socket_timeout=60)
        start = time.perf_counter()
        count, _ = list_everything(addon)
        listed = {"keys": count, "seconds": time.perf_counter() - start}
        addon.close()
    print(json.dumps({"hiredis": HIREDIS_AVAILABLE, "overhead": figures, "listing": listed}))


def hiredis(port: int, pairs: int, rounds: int, calls: int, listing_keys: int) -> list[Result]:
    try:
        import hiredis  # noqa: F401 - only whether it is installed
    except ImportError:
        return [
            Result(
                "hiredis.get_key",
                "get_key with hiredis vs without",
                None,
                "x",
                note="hiredis is not installed (poetry install --all-extras)",
            )
        ]
    runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    for _ in range(pairs):
        for mode in ("off", "on"):
            args = [str(port), str(rounds), str(calls), str(listing_keys)]
            out = subprocess.run(
                [sys.executable, "-c", CHILD, mode, *args],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            data = json.loads(out.stdout.strip().splitlines()[-1])
            if data["hiredis"] != (mode == "on"):
                raise RuntimeError(f"child run with hiredis {mode} saw hiredis={data['hiredis']}")
            runs[mode].append(data)

    def med(mode: str, pick: Callable[[dict[str, Any]], float]) -> float:
        return statistics.median(pick(run) for run in runs[mode])

    results = []
    for action in ("set_key", "get_key"):
        on = med("on", lambda run, a=action: run["overhead"][a]["addon_median_us"])
        off = med("off", lambda run, a=action: run["overhead"][a]["addon_median_us"])
        raw_on = med("on", lambda run, a=action: run["overhead"][a]["raw_median_us"])
        raw_off = med("off", lambda run, a=action: run["overhead"][a]["raw_median_us"])
        results.append(
            Result(
                id=f"hiredis.{action}",
                figure=f"{action} median per call, hiredis on / off "
                f"({on:.0f} / {off:.0f} us; raw redis-py {raw_on:.0f} / {raw_off:.0f} us)",
                value=round(on / off, 3),
                unit="x",
                details={
                    "addon_on_us": on,
                    "addon_off_us": off,
                    "raw_on_us": raw_on,
                    "raw_off_us": raw_off,
                    "runs": runs,
                },
            )
        )
    if listing_keys:
        on = med("on", lambda run: run["listing"]["seconds"])
        off = med("off", lambda run: run["listing"]["seconds"])
        results.append(
            Result(
                id="hiredis.list_keys",
                figure=f"list_keys over {listing_keys:,} keys, hiredis on / off "
                f"({on:.2f} / {off:.2f} s)",
                value=round(on / off, 3),
                unit="x",
                details={"on_s": on, "off_s": off},
            )
        )
    return results
