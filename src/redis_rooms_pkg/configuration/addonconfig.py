"""Redis options of the addon, validated when the workflow's addon entry loads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveFloat, field_validator, model_validator

from redis_rooms_pkg.configuration.baseconfig import BaseAddonConfig

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 6379
DEFAULT_SOCKET_TIMEOUT = 5  # s
DEFAULT_SOCKET_CONNECT_TIMEOUT = 5  # s
DEFAULT_RETRY_ATTEMPTS = 3  # retries after the first try, on connection errors only
DEFAULT_MAX_VALUE_BYTES = 1024 * 1024  # bytes (1 MiB), largest value a write action stores

# Secret keys this addon understands (the keys of the entry's "secrets" map).
KNOWN_SECRETS = ("redis_password",)

Mode = Literal["standalone", "embedded"]


class CustomAddonConfig(BaseAddonConfig):
    """Addon entry with the Redis connection options.

    The options may sit inside ``"config"`` (as the published docs show) or be top-level fields
    (as the platform's template does); both are merged here, so ``CustomAddonConfig(**entry)``
    alone yields the complete configuration.
    """

    mode: Mode = Field(
        default="standalone",
        description='"standalone" (a Redis server) or "embedded" (in-process fakeredis)',
    )
    host: str = Field(default=DEFAULT_HOST, min_length=1, description="Redis server host")
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535, description="Redis server port")
    db: int = Field(default=0, ge=0, description="Redis database number")
    username: str | None = Field(default=None, description="Redis ACL username (optional)")
    ssl: bool = Field(default=False, description="Use a TLS connection")
    decode_responses: bool = Field(default=True, description="Decode responses to strings")
    socket_timeout: PositiveFloat = Field(
        default=DEFAULT_SOCKET_TIMEOUT, description="Socket timeout in seconds"
    )
    socket_connect_timeout: PositiveFloat = Field(
        default=DEFAULT_SOCKET_CONNECT_TIMEOUT, description="Socket connect timeout in seconds"
    )
    key_prefix: str = Field(
        default="",
        description='Namespace put before every key the actions touch (e.g. "wf42:")',
    )
    retry_attempts: int = Field(
        default=DEFAULT_RETRY_ATTEMPTS,
        ge=0,
        le=10,
        description="Retries after a connection error, with exponential backoff and jitter",
    )
    read_only: bool = Field(
        default=False,
        description="Refuse every action that writes or deletes (403); for agents that only read",
    )
    max_value_bytes: int = Field(
        default=DEFAULT_MAX_VALUE_BYTES,
        ge=1,
        description="Largest value in bytes a write action stores; larger values are refused (413)",
    )

    @model_validator(mode="before")
    @classmethod
    def _merge_config_block(cls, data: Any) -> Any:
        """Lift the options of ``"config"`` to fields; refuse unknown or contradicting ones."""
        if not isinstance(data, dict):
            return data
        block = data.get("config")
        if block is None:
            return data
        if not isinstance(block, dict):
            raise ValueError('"config" must be an object of Redis options')
        options = set(cls.model_fields) - set(BaseAddonConfig.model_fields)
        unknown = sorted(set(block) - options)
        if unknown:
            raise ValueError(
                f"unknown Redis option(s) in config: {', '.join(map(repr, unknown))}; "
                f"known options are: {', '.join(sorted(options))}"
            )
        merged = dict(data)
        for name, value in block.items():
            if name in data and data[name] != value:
                raise ValueError(
                    f"option {name!r} is given both in config and as a top-level field with "
                    "different values; keep one of them"
                )
            merged[name] = value
        return merged

    @field_validator("secrets")
    @classmethod
    def _known_secrets(cls, secrets: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(secrets) - set(KNOWN_SECRETS))
        if unknown:
            raise ValueError(
                f"unknown secret key(s): {', '.join(map(repr, unknown))}; "
                f"known secret keys are: {', '.join(KNOWN_SECRETS)}"
            )
        empty = sorted(key for key, env in secrets.items() if not env.strip())
        if empty:
            raise ValueError(f"secret(s) {', '.join(empty)} must name an environment variable")
        return secrets

    def describe_target(self) -> str:
        """Where this addon connects, for messages: never a credential."""
        if self.mode == "embedded":
            return "the embedded in-process Redis"
        return f"Redis at {self.host}:{self.port} (db {self.db})"
