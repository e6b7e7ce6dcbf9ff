"""Multi-process Redis deployments on loopback: a Redis Cluster and a Sentinel-watched primary."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from servers import Certificates, RedisServer, TLSRedisServer, free_port, require_binary

CLUSTER_NODE_TIMEOUT = 1000  # ms, how long a primary may be silent before its replica takes over
DOWN_AFTER = 1000  # ms, how long a primary may be silent before sentinels call it down
FAILOVER_TIMEOUT = 3000  # ms, sentinel failover-timeout
FORM_TIMEOUT = 30.0  # s, longest wait for a deployment to form (or re-form after a failover)
POLL = 0.05  # s, pause between two checks of a bounded wait loop


def wait_for(check: Callable[[], bool], what: str, timeout: float = FORM_TIMEOUT) -> None:
    """Poll ``check`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(POLL)
    raise RuntimeError(f"timed out after {timeout:g}s waiting for {what}")


def free_port_pair() -> tuple[int, int]:
    """Two distinct free ports: a cluster node's client port and its cluster bus port."""
    first = free_port()
    second = free_port()
    while second == first:
        second = free_port()
    return first, second


@dataclass
class RedisCluster:
    """``primaries`` cluster-enabled redis-servers, each with ``replicas`` replicas, formed by
    ``redis-cli --cluster create``; every node asks for ``password`` (and uses it as masterauth).
    With ``certs`` every node speaks only TLS (cluster bus and replication included).
    """

    workdir: Path
    password: str
    primaries: int = 3
    replicas: int = 1
    nodes: list[RedisServer] = field(default_factory=list)
    certs: Certificates | None = None
    node_timeout: int = CLUSTER_NODE_TIMEOUT  # ms
    binary: str = "redis-server"  # str(REDIS_STACK_SERVER): a cluster of Redis Stack nodes

    def start(self) -> RedisCluster:
        try:
            self._form()
        except BaseException:
            self.stop()
            raise
        return self

    def _form(self) -> None:
        for _ in range(self.primaries * (1 + self.replicas)):
            port, bus = free_port_pair()
            options = [
                "--cluster-enabled", "yes",
                "--cluster-port", str(bus),
                "--cluster-config-file", f"nodes-{port}.conf",
                "--cluster-node-timeout", str(self.node_timeout),
                "--masterauth", self.password,
                "--repl-diskless-sync-delay", "0",
            ]  # fmt: skip
            if self.certs is None:
                node = RedisServer(
                    self.workdir,
                    password=self.password,
                    port=port,
                    options=options,
                    binary=self.binary,
                )
            else:
                tls = ["--tls-cluster", "yes", "--tls-replication", "yes"]
                node = TLSRedisServer(
                    self.workdir, password=self.password, port=port, options=[*options, *tls],
                    certs=self.certs,
                )  # fmt: skip
            self.nodes.append(node.start())
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        create = [
            require_binary("redis-cli"), "--no-auth-warning", "-a", self.password,
            "--cluster", "create", *addresses,
            "--cluster-replicas", str(self.replicas), "--cluster-yes",
        ]  # fmt: skip
        if self.certs is not None:
            create[1:1] = ["--tls", "--cacert", str(self.certs.ca)]
        subprocess.run(
            create,
            check=True,
            capture_output=True,
            timeout=FORM_TIMEOUT,
        )
        self.wait_healthy()

    def wait_healthy(self) -> None:
        """Until every running node says the cluster is ok and sees the expected primaries."""

        def healthy() -> bool:
            for node in self.running():
                info = node.client(socket_timeout=1).cluster("info")
                if info["cluster_state"] != "ok" or int(info["cluster_slots_ok"]) != 16384:
                    return False
                if int(info["cluster_size"]) != self.primaries:
                    return False
            for node in self.primary_nodes():  # and every primary's replicas are in sync
                if node.client(socket_timeout=1).info("replication")["connected_slaves"] < (
                    self.replicas
                ):
                    return False
            return True

        wait_for(healthy, "the cluster to cover every slot, with its replicas")

    def running(self) -> list[RedisServer]:
        return [node for node in self.nodes if node.proc is not None]

    @property
    def startup_nodes(self) -> list[str]:
        return [f"127.0.0.1:{node.port}" for node in self.nodes]

    def primary_nodes(self) -> list[RedisServer]:
        return [
            node for node in self.running() if node.client().info("replication")["role"] == "master"
        ]

    def node_of(self, key: str) -> RedisServer:
        """The primary that serves ``key``'s slot, as a running node's CLUSTER SLOTS says now
        (possibly a node that was killed and not yet replaced)."""
        anyone = self.running()[0].client(socket_timeout=1)
        slot = int(anyone.execute_command("CLUSTER", "KEYSLOT", key))
        by_port = {node.port: node for node in self.nodes}
        for start, end, primary, *_ in anyone.execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return by_port[int(primary[1])]
        raise RuntimeError(f"no node serves slot {slot}")

    def flush(self) -> None:
        for node in self.primary_nodes():
            node.client().flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


@dataclass
class SentinelDeployment:
    """A primary, its replica and ``sentinels`` redis-sentinel processes watching them.

    The data nodes ask for ``password``; the sentinels ask for their own ``sentinel_password``.
    With ``certs`` every process speaks only TLS (replication and sentinel links included).
    """

    workdir: Path
    password: str
    sentinel_password: str
    service: str = "rooms"
    sentinels: int = 3
    primary: RedisServer | None = None
    replica: RedisServer | None = None
    watchers: list[RedisServer] = field(default_factory=list)
    certs: Certificates | None = None
    down_after: int = DOWN_AFTER  # ms

    def _data_node(self, options: list[str]) -> RedisServer:
        if self.certs is None:
            return RedisServer(self.workdir, password=self.password, options=options)
        return TLSRedisServer(
            self.workdir,
            password=self.password,
            options=[*options, "--tls-replication", "yes"],
            certs=self.certs,
        )

    def start(self) -> SentinelDeployment:
        try:
            self._form()
        except BaseException:
            self.stop()
            raise
        return self

    def _form(self) -> None:
        auth = ["--masterauth", self.password, "--repl-diskless-sync-delay", "0"]
        self.primary = self._data_node(auth).start()
        self.replica = self._data_node(
            [*auth, "--replicaof", "127.0.0.1", str(self.primary.port)]
        ).start()
        wait_for(self._replica_in_sync, "the replica to sync with the primary")
        for _ in range(self.sentinels):
            port = free_port()
            conf = self.workdir / f"sentinel-{port}.conf"
            conf.write_text(
                "\n".join(
                    [
                        f"sentinel monitor {self.service} 127.0.0.1 {self.primary.port} 2",
                        f"sentinel auth-pass {self.service} {self.password}",
                        f"sentinel down-after-milliseconds {self.service} {self.down_after}",
                        f"sentinel failover-timeout {self.service} {FAILOVER_TIMEOUT}",
                        # known from the start: no wait for the first INFO round (every 10 s)
                        f"sentinel known-replica {self.service} 127.0.0.1 {self.replica.port}",
                        "",
                    ]
                )
            )
            watcher = SentinelProcess(
                self.workdir, password=self.sentinel_password, port=port, conf=conf
            )
            if self.certs is not None:
                watcher = TLSSentinelProcess(
                    self.workdir, password=self.sentinel_password, port=port, conf=conf,
                    certs=self.certs,
                )  # fmt: skip
            self.watchers.append(watcher.start())
        wait_for(self._sentinels_agree, "every sentinel to see the primary, replica and peers")

    @property
    def addresses(self) -> list[str]:
        return [f"127.0.0.1:{watcher.port}" for watcher in self.watchers]

    def _replica_in_sync(self) -> bool:
        assert self.replica is not None
        return (
            self.replica.client(socket_timeout=1).info("replication")["master_link_status"] == "up"
        )

    def _sentinels_agree(self) -> bool:
        for watcher in self.watchers:
            state = watcher.client(socket_timeout=1).sentinel_master(self.service)
            if state["num-slaves"] < 1 or state["num-other-sentinels"] < self.sentinels - 1:
                return False
        return True

    def known_primary_port(self) -> int:
        """The primary's port as the first sentinel reports it."""
        _host, port = (
            self.watchers[0].client(socket_timeout=1).sentinel_get_master_addr_by_name(self.service)
        )
        return int(port)

    def stop(self) -> None:
        for process in [*self.watchers, self.replica, self.primary]:
            if process is not None:
                process.stop()


@dataclass
class SentinelProcess(RedisServer):
    """One redis-sentinel process; ``password`` is the sentinel's own (requirepass)."""

    conf: Path | None = None

    def command(self) -> list[str]:
        return [
            require_binary("redis-sentinel"),
            str(self.conf),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.workdir),
            "--logfile", str(self.log_path),
            "--requirepass", str(self.password),
        ]  # fmt: skip


@dataclass
class TLSSentinelProcess(TLSRedisServer):
    """A redis-sentinel process that speaks only TLS, to clients and to the nodes it watches."""

    conf: Path | None = None

    def command(self) -> list[str]:
        assert self.certs is not None
        return [
            require_binary("redis-sentinel"),
            str(self.conf),
            "--port", "0",
            "--tls-port", str(self.port),
            "--tls-cert-file", str(self.certs.server_cert),
            "--tls-key-file", str(self.certs.server_key),
            "--tls-ca-cert-file", str(self.certs.ca),
            "--tls-auth-clients", self.auth_clients,
            "--tls-replication", "yes",
            "--bind", "127.0.0.1",
            "--dir", str(self.workdir),
            "--logfile", str(self.log_path),
            "--requirepass", str(self.password),
        ]  # fmt: skip


def readme_entry(name: str, **options: Any) -> dict[str, Any]:
    """The README's ``name`` example (Scaling out) with ``options``: swapped where the example
    has them (addresses), added where it does not (test-only knobs)."""
    from managed_fixtures import readme_example  # a pytest plugin: imported once pytest has it

    shown = readme_example(name)["config"]
    swap = {key: value for key, value in options.items() if key in shown}
    add = {key: value for key, value in options.items() if key not in shown}
    return readme_example(name, swap=swap, add=add)
