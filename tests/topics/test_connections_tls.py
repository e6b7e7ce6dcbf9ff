"""TLS against real TLS-only redis-servers: private CA, mutual TLS, and the handshake errors."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import PASSWORD
from managed_fixtures import TLS_PASSWORD, readme_example
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import Certificates, RedisServer, TLSRedisServer

LoadAddon = Callable[..., RedisRoomsAddon]


def round_trip(addon: RedisRoomsAddon) -> None:
    assert addon.set_key("tls:k", "v").code == 200, addon.get_key("tls:k").message
    got = addon.get_key("tls:k")
    assert (got.code, got.output.value) == (200, "v")


def test_ca_file_from_readme(tls_server: TLSRedisServer, load_addon: LoadAddon) -> None:
    ca = str(tls_server.certs.ca)
    entry = readme_example(
        "tls-ca-file", swap={"host": "127.0.0.1", "port": tls_server.port, "ssl_ca_certs": ca}
    )
    round_trip(load_addon(entry, redis_password=TLS_PASSWORD))
    assert tls_server.client().get("tls:k") == "v"


def test_ca_from_environment_secret_from_readme(
    tls_server: TLSRedisServer, load_addon: LoadAddon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CA arrives as PEM text in an environment variable (the engine need not pass it)."""
    monkeypatch.setenv("REDIS_CA_CERT", tls_server.certs.ca.read_text())
    monkeypatch.setenv("REDIS_PASSWORD", TLS_PASSWORD)
    entry = readme_example("tls-ca-secret", swap={"host": "127.0.0.1", "port": tls_server.port})
    round_trip(load_addon(entry))


def test_ca_data_inline(tls_server: TLSRedisServer, load_addon: LoadAddon) -> None:
    entry = readme_example(
        "tls-ca-secret",
        swap={"host": "127.0.0.1", "port": tls_server.port},
        add={"ssl_ca_data": tls_server.certs.ca.read_text()},
    )
    entry["secrets"] = {}
    round_trip(load_addon(entry, redis_password=TLS_PASSWORD))


def test_rediss_url_from_readme(tls_server: TLSRedisServer, load_addon: LoadAddon) -> None:
    entry = readme_example(
        "url",
        swap={
            "url": f"rediss://127.0.0.1:{tls_server.port}/0",
            "ssl_ca_certs": str(tls_server.certs.ca),
        },
    )
    round_trip(load_addon(entry, redis_password=TLS_PASSWORD))


def test_wrong_ca_is_not_trusted(
    tls_server: TLSRedisServer, load_addon: LoadAddon, certs: Certificates
) -> None:
    entry = readme_example(
        "tls-ca-file",
        swap={"host": "127.0.0.1", "port": tls_server.port, "ssl_ca_certs": str(certs.other_ca)},
    )
    addon = load_addon(entry, redis_password=TLS_PASSWORD)
    response = addon.get_key("k")
    assert response.code == 503
    assert "certificate not trusted: set ssl_ca_certs" in response.message
    assert addon.test() is False


def test_plain_tcp_against_tls_port_says_server_expects_tls(
    tls_server: TLSRedisServer, load_addon: LoadAddon
) -> None:
    entry = readme_example("namespace", swap={"host": "127.0.0.1", "port": tls_server.port})
    response = load_addon(entry, redis_password=TLS_PASSWORD).set_key("k", "v")
    assert response.code == 503
    assert "it most likely expects TLS: set ssl to true" in response.message


def test_tls_against_plain_port_says_server_does_not_speak_tls(
    server: RedisServer, load_addon: LoadAddon, certs: Certificates
) -> None:
    entry = readme_example(
        "tls-ca-file",
        swap={"host": "127.0.0.1", "port": server.port, "ssl_ca_certs": str(certs.ca)},
        add={"socket_connect_timeout": 0.5, "retry_attempts": 0},
    )
    response = load_addon(entry, redis_password=PASSWORD).get_key("k")
    assert response.code == 503
    assert "does not speak TLS on this port" in response.message


def test_hostname_is_checked_by_default(
    wrong_host_server: TLSRedisServer, load_addon: LoadAddon, certs: Certificates
) -> None:
    swap = {"host": "127.0.0.1", "port": wrong_host_server.port, "ssl_ca_certs": str(certs.ca)}
    checked = load_addon(readme_example("tls-ca-file", swap=swap), redis_password=TLS_PASSWORD)
    response = checked.get_key("k")
    assert response.code == 503
    assert "certificate is for another host name" in response.message
    unchecked = readme_example("tls-ca-file", swap=swap, add={"ssl_check_hostname": False})
    round_trip(load_addon(unchecked, redis_password=TLS_PASSWORD))


def test_mutual_tls_with_key_file(mtls_server: TLSRedisServer, load_addon: LoadAddon) -> None:
    certs = mtls_server.certs
    entry = readme_example(
        "mtls",
        swap={
            "host": "127.0.0.1",
            "port": mtls_server.port,
            "ssl_ca_certs": str(certs.ca),
            "ssl_certfile": str(certs.client_cert),
        },
        add={"ssl_keyfile": str(certs.client_key)},
    )
    round_trip(load_addon(entry, redis_password=TLS_PASSWORD))


def private_key_files() -> set[Path]:
    import tempfile

    return set(Path(tempfile.gettempdir()).glob("rooms-redis-*.pem"))


def test_mutual_tls_with_key_secret_uses_a_private_temp_file_removed_on_close(
    mtls_server: TLSRedisServer, load_addon: LoadAddon, log_lines: list[str]
) -> None:
    certs = mtls_server.certs
    key_pem = certs.client_key.read_text()
    entry = readme_example(
        "mtls",
        swap={
            "host": "127.0.0.1",
            "port": mtls_server.port,
            "ssl_ca_certs": str(certs.ca),
            "ssl_certfile": str(certs.client_cert),
        },
    )
    entry["secrets"]["redis_password"] = "REDIS_PASSWORD"
    before = private_key_files()
    addon = load_addon(entry, redis_client_key=key_pem, redis_password=TLS_PASSWORD)
    round_trip(addon)
    (key_file,) = private_key_files() - before
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_text() == key_pem
    addon.close()
    assert not key_file.exists()
    round_trip(addon)  # a new pool writes a new private file
    addon.close()
    assert private_key_files() == before
    body = key_pem.split("-----")[2].strip().splitlines()[1]  # a line of the key itself
    for text in [*log_lines, repr(addon), repr(addon.credentials)]:
        assert body not in text
        assert TLS_PASSWORD not in text


def test_mutual_tls_without_client_certificate_is_rejected(
    mtls_server: TLSRedisServer, load_addon: LoadAddon
) -> None:
    entry = readme_example(
        "tls-ca-file",
        swap={
            "host": "127.0.0.1",
            "port": mtls_server.port,
            "ssl_ca_certs": str(mtls_server.certs.ca),
        },
    )
    response = load_addon(entry, redis_password=TLS_PASSWORD).get_key("k")
    assert response.code == 503
    assert "client certificate" in response.message
    assert "ssl_certfile" in response.message


def test_verification_can_be_turned_off(
    tls_server: TLSRedisServer, load_addon: LoadAddon, certs: Certificates
) -> None:
    """ssl_cert_reqs "none" (and so no host-name check) accepts a certificate no CA vouches for."""
    entry = readme_example(
        "tls-ca-file",
        swap={"host": "127.0.0.1", "port": tls_server.port, "ssl_ca_certs": str(certs.other_ca)},
        add={"ssl_cert_reqs": "none"},
    )
    round_trip(load_addon(entry, redis_password=TLS_PASSWORD))


def test_tls_secrets_absent_from_logs_and_responses(
    mtls_server: TLSRedisServer, load_addon: LoadAddon, log_lines: list[str]
) -> None:
    certs = mtls_server.certs
    key_pem = certs.client_key.read_text()
    swap = {
        "host": "127.0.0.1",
        "port": mtls_server.port,
        "ssl_ca_certs": str(certs.ca),
        "ssl_certfile": str(certs.client_cert),
    }
    good = load_addon(
        readme_example("mtls", swap=swap), redis_client_key=key_pem, redis_password=TLS_PASSWORD
    )
    wrong = load_addon(
        readme_example("mtls", swap=swap),
        redis_client_key=key_pem,
        redis_password="not-" + TLS_PASSWORD,
    )
    responses = []
    for addon in (good, wrong):
        responses += [addon.set_key("k", "v"), addon.get_key("k"), addon.list_keys("*")]
        addon.test()
    assert {r.code for r in responses} == {200, 401}
    key_lines = [line for line in key_pem.splitlines() if "-----" not in line]
    texts = [*log_lines, *(r.model_dump_json() for r in responses), repr(good), repr(wrong)]
    for text in texts:
        assert TLS_PASSWORD not in text
        assert not any(line in text for line in key_lines)
