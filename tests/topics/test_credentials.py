"""Credentials: resolution order, per-instance storage, and never showing a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from conftest import PASSWORD, entry
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.services.credentials import ORIGINS, Credentials
from servers import RedisServer

SECRET = "hunter2-Very-Secret"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    return tmp_path


def password(credentials: Credentials) -> str | None:
    value = credentials.get("redis_password")
    return value.get_secret_value() if value else None


def test_given_value_wins(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", "from-env")
    (workdir / ".env").write_text("REDIS_PASSWORD=from-dotenv\n")
    credentials = Credentials({"redis_password": "REDIS_PASSWORD"})
    credentials.load({"redis_password": "given"})
    assert password(credentials) == "given"


def test_environment_wins_over_dotenv(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", "from-env")
    (workdir / ".env").write_text("REDIS_PASSWORD=from-dotenv\n")
    assert password(Credentials({"redis_password": "REDIS_PASSWORD"})) == "from-env"


def test_dotenv_is_the_last_resort(workdir: Path) -> None:
    (workdir / ".env").write_text("REDIS_PASSWORD=from-dotenv\n")
    assert password(Credentials({"redis_password": "REDIS_PASSWORD"})) == "from-dotenv"


def test_no_password_anywhere_is_none(workdir: Path) -> None:
    assert password(Credentials({"redis_password": "REDIS_PASSWORD"})) is None
    assert password(Credentials()) is None


def test_empty_given_value_counts_as_absent(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_PASSWORD", "from-env")
    credentials = Credentials({"redis_password": "REDIS_PASSWORD"})
    credentials.load({"redis_password": "given"})
    credentials.load({"redis_password": ""})
    assert password(credentials) == "from-env"


def test_secretstr_values_are_accepted(workdir: Path) -> None:
    credentials = Credentials({"redis_password": "REDIS_PASSWORD"})
    credentials.load({"redis_password": SecretStr(SECRET)})
    assert password(credentials) == SECRET


def test_repr_never_shows_a_secret(workdir: Path) -> None:
    credentials = Credentials({"redis_password": "REDIS_PASSWORD"})
    credentials.load({"redis_password": SECRET})
    assert SECRET not in repr(credentials)
    assert SECRET not in str(credentials.get("redis_password"))


def test_two_instances_keep_their_own_secrets(workdir: Path) -> None:
    first, second = RedisRoomsAddon(), RedisRoomsAddon()
    assert first.loadAddonConfig(entry(id="a"))
    assert second.loadAddonConfig(entry(id="b"))
    first.loadCredentials(redis_password="first-pw")
    second.loadCredentials(redis_password="second-pw")
    assert password(first.credentials) == "first-pw"
    assert password(second.credentials) == "second-pw"


def test_unknown_secret_keys_are_ignored_by_name(workdir: Path, log_lines: list[str]) -> None:
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry())
    assert addon.loadCredentials(redis_password="pw", api_token=SECRET) is True
    assert addon.credentials.get("api_token") is None
    assert any("api_token" in line for line in log_lines)
    assert not any(SECRET in line for line in log_lines)


# --- secrets as the engine may hand them: the value itself in the entry's "secrets" ------------


@pytest.mark.parametrize(
    "written",
    [
        pytest.param("hunter2-Very-Secret", id="mixed-case"),
        pytest.param("p@ss word/with:chars", id="symbols"),
        pytest.param("lowercase_only", id="lower-case-name-like"),
    ],
)
def test_a_value_written_in_the_entry_is_the_secret(workdir: Path, written: str) -> None:
    """The platform's addons read ``config.secrets[name]`` as the value: a text that cannot be an
    environment variable's name is taken as the secret itself."""
    credentials = Credentials({"redis_password": written})
    assert password(credentials) == written
    assert credentials.origin("redis_password") == ORIGINS["entry"]
    assert credentials.variable("redis_password") is None
    assert written not in repr(credentials)


def test_a_variable_of_that_name_still_wins(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("lowercase_only", "from-env")
    credentials = Credentials({"redis_password": "lowercase_only"})
    assert password(credentials) == "from-env"
    assert credentials.variable("redis_password") == "lowercase_only"


def test_an_unset_variable_name_is_no_secret(workdir: Path) -> None:
    """``REDIS_PASSWORD`` unset means no password (a laptop server without one keeps working),
    never the text "REDIS_PASSWORD" sent as a password."""
    credentials = Credentials({"redis_password": "REDIS_PASSWORD"})
    assert password(credentials) is None
    assert credentials.named_unset("redis_password")
    assert credentials.origin("redis_password") is None


def test_the_addon_connects_with_a_value_in_the_entry(
    workdir: Path, server: RedisServer, log_lines: list[str]
) -> None:
    """As the engine may call it: the password's value in "secrets", no loadCredentials."""
    addon = RedisRoomsAddon()
    options = {"host": "127.0.0.1", "port": server.port, "socket_timeout": 2}
    assert addon.loadAddonConfig({**entry(**options), "secrets": {"redis_password": PASSWORD}})
    try:
        assert addon.set_key("k", "v").code == 200
        assert server.client().get("k") == "v"
        assert addon.test()
    finally:
        addon.close()
    shown = [*log_lines, repr(addon), repr(addon.config), repr(addon.credentials)]
    assert not [text for text in shown if PASSWORD in text]


def test_a_wrong_value_in_the_entry_answers_401_saying_where_it_came_from(
    workdir: Path, server: RedisServer, log_lines: list[str]
) -> None:
    wrong = "not-the-Password-9x"
    addon = RedisRoomsAddon()
    options = {"host": "127.0.0.1", "port": server.port, "socket_timeout": 2, "retry_attempts": 0}
    assert addon.loadAddonConfig({**entry(**options), "secrets": {"redis_password": wrong}})
    try:
        response = addon.get_key("k")
    finally:
        addon.close()
    assert response.code == 401
    assert "the value written in the entry's secrets" in (response.message or "")
    shown = [*log_lines, response.model_dump_json(), repr(addon), repr(addon.config)]
    assert not [text for text in shown if wrong in text]


def test_an_unset_variable_says_no_password_was_sent(workdir: Path, server: RedisServer) -> None:
    addon = RedisRoomsAddon()
    options = {"host": "127.0.0.1", "port": server.port, "socket_timeout": 2, "retry_attempts": 0}
    assert addon.loadAddonConfig(entry(**options))  # secrets: REDIS_PASSWORD, unset here
    try:
        response = addon.get_key("k")
    finally:
        addon.close()
    assert response.code == 401
    assert "no password was sent" in (response.message or "")
    assert "REDIS_PASSWORD" not in (response.message or "")


def test_an_invalid_entry_never_repeats_a_secret_value(workdir: Path) -> None:
    from pydantic import ValidationError

    from redis_rooms_pkg.configuration import CustomAddonConfig

    value = "p@ss-Word-in-entry"
    bad = {**entry(hots="x"), "secrets": {"redis_password": value}}
    with pytest.raises(ValidationError) as caught:
        CustomAddonConfig(**bad)
    assert value not in str(caught.value)
    assert value not in repr(caught.value.errors())
