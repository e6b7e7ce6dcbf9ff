"""Sentinel mode on a real primary, replica and three sentinels, all with passwords: the README's
entry, sentinel auth and naming errors, and a failover followed by one addon instance."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conftest import PASSWORD, SENTINEL_PASSWORD
from deployments import SentinelDeployment, readme_entry, wait_for
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import Certificates, free_port

pytestmark = pytest.mark.integration  # some tests start their own redis-server

FAILOVER_BOUND = 30.0  # s, bound on waiting for actions to succeed again after a failover


def sentinel_addon(
    sentinels: list[str], sentinel_password: str | None = SENTINEL_PASSWORD, **options: Any
) -> RedisRoomsAddon:
    """An addon loaded from the README's sentinel entry, pointed at ``sentinels``."""
    entry = readme_entry("sentinel", sentinels=sentinels, **options)
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry)
    assert addon.loadCredentials(redis_password=PASSWORD, redis_sentinel_password=sentinel_password)
    return addon


@pytest.fixture
def make(sentinel_primary: SentinelDeployment) -> Iterator[Any]:
    made: list[RedisRoomsAddon] = []

    def build(**options: Any) -> RedisRoomsAddon:
        made.append(sentinel_addon(sentinel_primary.addresses, **options))
        return made[-1]

    yield build
    for addon in made:
        addon.close()


def test_readme_entry_reaches_the_primary(sentinel_primary: SentinelDeployment, make: Any) -> None:
    deployment = sentinel_primary
    addon = make()
    assert addon.test() is True
    assert addon.set_key("k", {"a": 1}).code == 200
    assert addon.set_many({"m1": 1, "m2": 2}).output.count == 2
    assert deployment.primary.client().get("k") == '{"a":1}'
    got = addon.get_many(["k", "m1", "absent"])
    assert got.output.values == {"k": '{"a":1}', "m1": "1", "absent": None}
    assert sorted(addon.list_keys().output.keys) == ["k", "m1", "m2"]
    assert addon.delete_matching("m*").output.deleted_count == 2


@pytest.mark.parametrize(
    "sentinel_password",
    [pytest.param("wrong-sentinel-pw", id="wrong"), pytest.param(None, id="missing")],
)
def test_sentinel_password_refused_is_401(make: Any, sentinel_password: str | None) -> None:
    addon = make(sentinel_password=sentinel_password, retry_attempts=0)
    response = addon.get_key("k")
    assert response.code == 401
    assert "redis_sentinel_password" in response.message
    assert "wrong-sentinel-pw" not in response.message
    assert addon.test() is False


def test_unknown_service_is_400(make: Any) -> None:
    response = make(sentinel_master="nope", retry_attempts=0).get_key("k")
    assert response.code == 400
    assert "no sentinel monitors a service named 'nope'" in response.message
    assert "check sentinel_master" in response.message


def test_no_sentinel_reachable_is_503() -> None:
    addon = sentinel_addon(
        [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"],
        retry_attempts=0,
        socket_connect_timeout=1,
    )
    response = addon.get_key("k")
    assert response.code == 503
    assert "cannot reach any sentinel: connection refused" in response.message
    addon.close()


def test_failover_is_followed_by_the_same_addon(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Its own deployment: the primary, then its successor, are killed here."""
    deployment = SentinelDeployment(
        tmp_path_factory.mktemp("sentinel-failover"), PASSWORD, SENTINEL_PASSWORD
    ).start()
    addon = sentinel_addon(deployment.addresses)
    try:
        before = {f"before:{i}": i for i in range(200)}
        assert addon.set_many(before).code == 200
        assert addon.set_key("session", {"user": "ada"}, ex=600).code == 200
        assert deployment.primary.client().wait(1, 5000) == 1  # the replica has it all
        old_port, new_port = deployment.primary.port, deployment.replica.port
        deployment.primary.kill()

        codes = until_written(addon, "after", "written after the failover")
        assert set(codes) <= {200, 503}, codes  # 503 with a message while it fails over
        # the addon follows the promotion as announced, maybe before every sentinel heard of it
        wait_for(lambda: deployment.known_primary_port() == new_port != old_port, "the switch")
        assert addon.get_many(list(before)).output.found_count == 200
        session = addon.get_key("session", with_ttl=True, encoding="json")
        assert (session.output.data, session.output.ttl > 500) == ({"user": "ada"}, True)
        assert addon.get_key("after").output.value == "written after the failover"

        # no replica is left to promote: the sentinels know no primary until one comes back
        deployment.replica.kill()
        response = until_said(addon, "failover is in progress")
        assert response.code == 503
        assert "the sentinels know no primary for 'rooms' right now" in response.message
        assert addon.test() is False
    finally:
        addon.close()
        deployment.stop()


def until_written(addon: RedisRoomsAddon, key: str, value: str) -> list[int]:
    """Write ``key`` until it succeeds (bounded); the codes of every attempt."""
    codes: list[int] = []
    deadline = time.monotonic() + FAILOVER_BOUND
    while time.monotonic() < deadline:
        codes.append(addon.set_key(key, value).code)
        if codes[-1] == 200:
            return codes
        time.sleep(0.1)
    raise AssertionError(f"writes did not resume within {FAILOVER_BOUND:g}s: {codes[-5:]}")


def until_said(addon: RedisRoomsAddon, says: str) -> Any:
    """Read until the answer's message says ``says`` (bounded); that answer."""
    found: list[Any] = []

    def said() -> bool:
        found.append(addon.get_key("after"))
        return says in found[-1].message

    wait_for(said, f"an answer saying {says!r}", FAILOVER_BOUND)
    return found[-1]


def test_neither_password_ever_shows(
    sentinel_primary: SentinelDeployment, log_lines: list[str]
) -> None:
    good = sentinel_addon(sentinel_primary.addresses)
    wrong_sentinel = sentinel_addon(
        sentinel_primary.addresses, sentinel_password=SENTINEL_PASSWORD + "-not", retry_attempts=0
    )
    wrong_data = sentinel_addon(sentinel_primary.addresses, retry_attempts=0)
    wrong_data.loadCredentials(redis_password=PASSWORD + "-not")
    addons = (good, wrong_sentinel, wrong_data)
    responses = []
    for addon in addons:
        responses += [addon.set_key("k", "v"), addon.get_many(["k"]), addon.list_keys()]
        addon.test()
    assert {r.code for r in responses} == {200, 401}
    texts = (
        log_lines
        + [r.model_dump_json() for r in responses]
        + [repr(addon) for addon in addons]
        + [repr(addon.credentials) for addon in addons]
        + [addon.config.model_dump_json() for addon in addons]
        + [repr(addon.client()) for addon in addons]
    )
    assert log_lines
    for text in texts:
        assert PASSWORD not in text
        assert SENTINEL_PASSWORD not in text
    for addon in addons:
        addon.close()


def test_tls_reaches_sentinels_and_primary(
    tmp_path_factory: pytest.TempPathFactory, certs: Certificates
) -> None:
    """Every process speaks only TLS: ssl on reaches the sentinels and then the primary."""
    deployment = SentinelDeployment(
        tmp_path_factory.mktemp("sentinel-tls"), PASSWORD, SENTINEL_PASSWORD, certs=certs
    ).start()
    secure = sentinel_addon(deployment.addresses, ssl=True, ssl_ca_certs=str(certs.ca))
    plain = sentinel_addon(deployment.addresses, retry_attempts=0, socket_timeout=1)
    try:
        assert secure.test() is True
        assert secure.set_key("k", "over TLS").code == 200
        assert deployment.primary.client().get("k") == "over TLS"
        assert secure.get_many(["k"]).output.values == {"k": "over TLS"}
        refused = plain.get_key("k")
        assert refused.code == 503
        assert "cannot reach any sentinel" in refused.message
    finally:
        secure.close()
        plain.close()
        deployment.stop()


def test_pool_is_bounded_under_load(sentinel_primary: SentinelDeployment, make: Any) -> None:
    """50 threads share at most max_connections connections to the primary; none fails."""
    # A name of its own: connections of other tests' addons are not counted.
    addon = make(max_connections=4, client_name="rooms:bounded-load")
    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(lambda i: addon.set_key(f"load:{i}", i).code, range(500)))
    assert codes == [200] * 500
    names = [c["name"] for c in sentinel_primary.primary.client().client_list()]
    assert 1 <= names.count("rooms:bounded-load") <= 4
    assert addon.list_keys("load:*", limit=1000).output.count == 500
