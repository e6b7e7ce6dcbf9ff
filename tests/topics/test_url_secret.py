"""A whole URL as the secret redis_url, and URLs that cannot be used refused at load without
echoing them (issue 11, defects 5, 9 and 12)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import PASSWORD, entry
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer, free_port

URL_PASSWORD_PARTS = ("UrlPw", "Zz9")  # no fragment of these may show anywhere


def url_of(server: RedisServer, scheme: str = "redis", db: int = 0) -> str:
    return f"{scheme}://:{PASSWORD}@127.0.0.1:{server.port}/{db}"


def shown(addon: RedisRoomsAddon, log_lines: list[str], *responses: object) -> str:
    """Everything the addon showed: its repr, every log line, every response."""
    return "\n".join([repr(addon), *log_lines, *(repr(r) for r in responses)])


def test_the_redis_url_secret_wins_over_the_config_url(
    server: RedisServer, log_lines: list[str]
) -> None:
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry(url=f"redis://127.0.0.1:{free_port()}/0"))
    assert addon.loadCredentials(redis_url=url_of(server, db=3))
    try:
        response = addon.set_key("k", "v")
        assert response.code == 200, response.message
        assert server.client(db=3).get("k") == "v"
        assert "127.0.0.1:" + str(server.port) in repr(addon)  # the secret's server, not the url
        assert PASSWORD not in shown(addon, log_lines, response)
    finally:
        addon.close()


def test_the_redis_url_secret_is_read_from_the_environment(
    server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROOMS_TEST_REDIS_URL", url_of(server))
    addon = RedisRoomsAddon()
    options = entry()
    options["secrets"] = {"redis_url": "ROOMS_TEST_REDIS_URL"}
    assert addon.loadAddonConfig(options)
    try:
        assert addon.set_key("k", "v").code == 200
        assert server.client().get("k") == "v"
    finally:
        addon.close()


def test_a_failing_redis_url_secret_is_never_echoed(log_lines: list[str]) -> None:
    secret = "redis://:UrlPw-Zz9@127.0.0.1:" + str(free_port()) + "/0"
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry())
    assert addon.loadCredentials(redis_url=secret)
    response = addon.get_key("k")
    assert response.code == 503
    text = shown(addon, log_lines, response)
    assert not any(part in text for part in URL_PASSWORD_PARTS), text
    addon.close()


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("redis://:UrlPw-Zz9@x@127.0.0.1:6379/0", id="at-in-password"),
        pytest.param("redis://:UrlPw/Zz9@127.0.0.1:6379/0", id="slash-in-password"),
        pytest.param("redis://user:UrlPw/Zz9@127.0.0.1:6379/0", id="slash-with-user"),
        pytest.param("redis://:UrlPw#Zz9@127.0.0.1:6379/0", id="hash-in-password"),
        pytest.param("redis://:UrlPw?Zz9@127.0.0.1:6379/0", id="question-in-password"),
    ],
)
@pytest.mark.parametrize("given_as", ["config", "secret"])
def test_unencoded_password_characters_are_refused_without_echo(
    url: str, given_as: str, log_lines: list[str]
) -> None:
    addon = RedisRoomsAddon()
    responses = []
    if given_as == "config":
        assert addon.loadAddonConfig(entry(url=url)) is False
    else:
        assert addon.loadAddonConfig(entry())
        assert addon.loadCredentials(redis_url=url) is False
        response = addon.get_key("k")
        assert response.code == 400
        responses.append(response)
    text = shown(addon, log_lines, *responses)
    assert "percent-encode" in text
    assert not any(part in text for part in URL_PASSWORD_PARTS), text
    addon.close()


def test_upper_case_scheme_is_accepted(
    server: RedisServer, make_addon: Callable[..., RedisRoomsAddon]
) -> None:
    addon = make_addon(url=url_of(server, scheme="REDIS"))
    response = addon.set_key("k", "v")
    assert response.code == 200, response.message
    assert server.client().get("k") == "v"


@pytest.mark.parametrize(
    ("suffix", "fix"),
    [
        pytest.param("/0?db=x", "?db=0", id="query-db-not-a-number"),
        pytest.param("/0?db=1&db=2", "?db=0", id="query-db-twice"),
        pytest.param("/x", "such as /0", id="path-not-a-number"),
    ],
)
def test_url_that_every_action_would_fail_on_is_refused_at_load(
    suffix: str, fix: str, log_lines: list[str]
) -> None:
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry(url=f"redis://127.0.0.1:6379{suffix}")) is False
    assert any(fix in line for line in log_lines), log_lines
