"""Cluster mode with the client key as a secret leaves no copy of the key behind when connecting
fails (issue 11, defect 9)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from conftest import entry
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import Certificates, free_port


def private_key_files() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("rooms-redis-*.pem"))


def test_failed_cluster_connects_leave_no_key_file(tmp_path: Path) -> None:
    certs = Certificates.generate(tmp_path / "certs")
    before = private_key_files()
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(
        entry(
            mode="cluster",
            host="127.0.0.1",
            port=free_port(),  # nobody listens: every connect fails
            ssl=True,
            ssl_ca_certs=str(certs.ca),
            ssl_certfile=str(certs.client_cert),
            retry_attempts=0,
            socket_connect_timeout=1,
        )
    )
    assert addon.loadCredentials(redis_client_key=certs.client_key.read_text())
    for _ in range(3):
        assert addon.get_key("k").code == 503
        assert private_key_files() == before
    addon.close()
    assert private_key_files() == before
