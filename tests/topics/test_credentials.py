"""Credentials: resolution order, per-instance storage, and never showing a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from conftest import entry
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.services.credentials import Credentials

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
