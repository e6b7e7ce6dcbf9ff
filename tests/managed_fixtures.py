"""Fixtures for production-style connections: TLS, mutual TLS, unix sockets, README entries.

A plugin of tests/conftest.py (``pytest_plugins``) rather than a conftest.py of its own: a
second module named ``conftest`` would break the ``from conftest import ...`` of the tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import Certificates, TLSRedisServer, UnixRedisServer

ROOT = Path(__file__).parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]  # where examples are shown
TLS_PASSWORD = "tls-Pw7#managed-secret"  # the TLS servers' password


def readme_example(
    name: str, swap: dict[str, Any] | None = None, add: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The documented addon entry ``<!-- example: name -->`` (README.md or a page of docs/).

    ``swap`` replaces options the example has (host, port, file paths: the test servers' own);
    ``add`` sets test-only knobs (short timeouts) the example does not show.
    """
    text = "\n".join(page.read_text() for page in DOCS)
    match = re.search(rf"<!-- example: {re.escape(name)} -->\s*```json\n(.*?)```", text, re.S)
    assert match, f"no documented example {name!r}"
    example = json.loads(match.group(1))
    swap, add = swap or {}, add or {}
    missing = sorted(set(swap) - set(example["config"]))
    assert not missing, f"example {name!r} has no option(s) {missing} to swap"
    clash = sorted(set(add) & set(example["config"]))
    assert not clash, f"example {name!r} already sets {clash}: swap them instead"
    example["config"] = {**example["config"], **swap, **add}
    return example


@pytest.fixture
def load_addon() -> Iterator[Callable[..., RedisRoomsAddon]]:
    """Configure addons from whole entries, as the engine does; all are closed after the test."""
    made: list[RedisRoomsAddon] = []

    def build(entry: dict[str, Any], **credentials: Any) -> RedisRoomsAddon:
        addon = RedisRoomsAddon()
        assert addon.loadAddonConfig(entry)
        if credentials:
            assert addon.loadCredentials(**credentials)
        made.append(addon)
        return addon

    yield build
    for addon in made:
        addon.close()


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates.generate(tmp_path_factory.mktemp("certs"))


def _tls_server(
    tmp_path_factory: pytest.TempPathFactory, certs: Certificates, **options: Any
) -> Iterator[TLSRedisServer]:
    server = TLSRedisServer(
        tmp_path_factory.mktemp("tls"), password=TLS_PASSWORD, certs=certs, **options
    )
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory, certs: Certificates) -> Iterator:
    """A TLS-only redis-server (certificate for 127.0.0.1 and localhost), no client certs."""
    yield from _tls_server(tmp_path_factory, certs)


@pytest.fixture(scope="session")
def mtls_server(tmp_path_factory: pytest.TempPathFactory, certs: Certificates) -> Iterator:
    """A TLS-only redis-server that requires a client certificate signed by the test CA."""
    yield from _tls_server(tmp_path_factory, certs, auth_clients="yes")


@pytest.fixture(scope="session")
def wrong_host_server(tmp_path_factory: pytest.TempPathFactory, certs: Certificates) -> Iterator:
    """A TLS-only redis-server whose certificate names redis.example.com only."""
    yield from _tls_server(tmp_path_factory, certs, cert_name="wrong_host")


@pytest.fixture
def unix_server(tmp_path: Path) -> Iterator[UnixRedisServer]:
    """A redis-server with a password that also listens on a unix socket."""
    from conftest import PASSWORD

    server = UnixRedisServer(tmp_path, password=PASSWORD).start()
    yield server
    server.stop()
