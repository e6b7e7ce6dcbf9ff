"""CustomAddonConfig: the spec's entry, both option shapes, typos and ranges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from conftest import entry
from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.configuration import BaseAddonConfig, CustomAddonConfig

EXAMPLES = Path(__file__).parents[2] / "examples"


def spec_entry() -> dict:
    """The addon entry exactly as the published docs print it (it has no description)."""
    return json.loads((EXAMPLES / "session_management.json").read_text())["addons"][0]


def test_spec_entry_loads_unchanged() -> None:
    config = CustomAddonConfig(**spec_entry())
    assert (config.host, config.port, config.db, config.ssl) == ("localhost", 6379, 0, False)
    assert config.decode_responses is True
    assert (config.socket_timeout, config.socket_connect_timeout) == (5, 5)
    secrets = {key: text.get_secret_value() for key, text in config.secrets.items()}
    assert secrets == {"redis_password": "REDIS_PASSWORD"}
    assert config.description == ""
    assert isinstance(config, BaseAddonConfig)


def test_defaults_match_the_spec() -> None:
    config = CustomAddonConfig(id="r", type="redis", name="R")
    assert config.model_dump(include={"host", "port", "db", "username", "ssl"}) == {
        "host": "localhost",
        "port": 6379,
        "db": 0,
        "username": None,
        "ssl": False,
    }
    assert config.mode == "standalone"
    assert config.enabled is True


def test_top_level_options_work() -> None:
    config = CustomAddonConfig(id="r", type="redis", name="R", host="cache.internal", port="6380")
    assert (config.host, config.port) == ("cache.internal", 6380)


def test_same_option_both_ways_with_same_value_is_fine() -> None:
    config = CustomAddonConfig(**{**entry(port=7000), "port": 7000})
    assert config.port == 7000


def test_same_option_both_ways_with_different_values_is_refused() -> None:
    with pytest.raises(ValidationError, match="'port' is given both in config and as a top-level"):
        CustomAddonConfig(**{**entry(port=7000), "port": 7001})


@pytest.mark.parametrize(
    ("options", "named"),
    [
        pytest.param(
            {"config": {"hots": "x"}}, "'hots' \\(did you mean 'host'\\?\\)", id="typo-in-config"
        ),
        pytest.param(
            {"config": {"sokcet_timeout": 1}}, "did you mean 'socket_timeout'", id="typo-timeout"
        ),
        pytest.param({"config": {"ttl": 1}}, "'ttl'; known options", id="unknown-no-hint"),
    ],
)
def test_unknown_option_is_named(options: dict, named: str) -> None:
    base = {"id": "r", "type": "redis", "name": "R"}
    with pytest.raises(ValidationError, match=named):
        CustomAddonConfig(**base, **options)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        pytest.param("port", 0, id="port-zero"),
        pytest.param("port", 65536, id="port-too-high"),
        pytest.param("db", -1, id="db-negative"),
        pytest.param("socket_timeout", 0, id="timeout-zero"),
        pytest.param("socket_connect_timeout", -1, id="connect-timeout-negative"),
        pytest.param("mode", "clustered", id="mode-unknown"),
        pytest.param("ssl", "perhaps", id="ssl-not-bool"),
        pytest.param("retry_attempts", -1, id="retries-negative"),
    ],
)
def test_out_of_range_options_are_refused(option: str, value: object) -> None:
    with pytest.raises(ValidationError, match=option):
        CustomAddonConfig(**entry(**{option: value}))


def test_config_must_be_an_object() -> None:
    with pytest.raises(ValidationError, match='"config" must be an object'):
        CustomAddonConfig(id="r", type="redis", name="R", config=["host"])


def test_unknown_secret_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown secret key"):
        CustomAddonConfig(id="r", type="redis", name="R", secrets={"redis_pasword": "X"})


def test_secret_must_name_a_variable() -> None:
    with pytest.raises(ValidationError, match="must name an environment variable"):
        CustomAddonConfig(id="r", type="redis", name="R", secrets={"redis_password": " "})


def test_load_addon_config_returns_false_and_logs_why(log_lines: list[str]) -> None:
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(entry(hots="localhost")) is False
    assert addon.config is None
    assert any("hots" in line and "ERROR" in line for line in log_lines)


def test_load_addon_config_accepts_the_spec_entry() -> None:
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(spec_entry()) is True
    assert addon.config is not None
    assert addon.config.id == "redis-cache"
    assert addon.type == "storage"


def test_describe_target_names_host_port_db_only() -> None:
    config = CustomAddonConfig(**entry(host="h", port=1234, db=2))
    assert config.describe_target() == "Redis at h:1234 (db 2)"
    assert "embedded" in CustomAddonConfig(**entry(mode="embedded")).describe_target()


# --- fields the engine owns ----------------------------------------------------------------------


def engine_entry(**fields: object) -> dict:
    """An entry as the engine may hand it: its own fields beside the addon's."""
    return {
        **entry(host="127.0.0.1"),
        "version": "1.2.0",
        "tools": [{"action": "get_key", "description": "Read the cache"}],
        "metadata": {"owner": "team-a", "tags": ["cache"]},
        **fields,
    }


def test_engine_owned_fields_load_and_are_kept(log_lines: list[str]) -> None:
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(engine_entry(createdAt="2026-12-04", schemaVersion=3))
    assert addon.config is not None
    assert addon.config.host == "127.0.0.1"
    assert addon.config.model_extra == {
        "version": "1.2.0",
        "tools": [{"action": "get_key", "description": "Read the cache"}],
        "metadata": {"owner": "team-a", "tags": ["cache"]},
        "createdAt": "2026-12-04",
        "schemaVersion": 3,
    }
    assert not [line for line in log_lines if line.startswith("WARNING")]


def test_a_top_level_field_like_an_option_loads_with_a_warning(log_lines: list[str]) -> None:
    """Top-level fields belong to the engine, so a misspelt top-level option cannot be refused
    (it may be the engine's); it is named with a "did you mean" in a warning."""
    addon = RedisRoomsAddon()
    assert addon.loadAddonConfig(engine_entry(socket_timout=1))
    assert addon.config is not None
    assert addon.config.socket_timeout == 5
    warnings = [line for line in log_lines if line.startswith("WARNING")]
    assert len(warnings) == 1
    assert "'socket_timout' (did you mean 'socket_timeout'?)" in warnings[0]


def test_options_inside_config_are_still_checked_with_engine_fields() -> None:
    addon = RedisRoomsAddon()
    bad = engine_entry()
    bad["config"] = {"host": "127.0.0.1", "prot": 7000}
    assert not addon.loadAddonConfig(bad)
    with pytest.raises(ValidationError, match="did you mean 'port'"):
        CustomAddonConfig(**bad)
