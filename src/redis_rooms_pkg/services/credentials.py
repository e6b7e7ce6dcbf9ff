"""Secrets of one addon instance: given by the engine, else read from the environment or .env."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr


class Credentials:
    """Holds the secrets of one addon instance; never shows their values.

    Resolution order for each secret key: the value handed to :meth:`load` (the engine's
    ``loadCredentials``), else the environment variable named in the entry's ``secrets`` map,
    else that variable in a ``.env`` file of the working directory.
    """

    __slots__ = ("_env_names", "_given")

    def __init__(self, env_names: Mapping[str, str] | None = None) -> None:
        self._env_names: dict[str, str] = dict(env_names or {})
        self._given: dict[str, SecretStr] = {}

    def __repr__(self) -> str:
        return f"Credentials(keys={sorted(self._env_names)!r}, given={sorted(self._given)!r})"

    def set_env_names(self, env_names: Mapping[str, str]) -> None:
        self._env_names = dict(env_names)

    def load(self, values: Mapping[str, object]) -> None:
        """Keep the values the engine passed, by secret key (empty values count as absent)."""
        for key, value in values.items():
            if value is None or value == "":
                self._given.pop(key, None)
            else:
                raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
                self._given[key] = SecretStr(raw)

    def get(self, key: str) -> SecretStr | None:
        """The secret for ``key`` following the resolution order, or None."""
        if key in self._given:
            return self._given[key]
        env_name = self._env_names.get(key)
        if not env_name:
            return None
        value = os.environ.get(env_name)
        if not value:
            from dotenv import dotenv_values  # only when needed: it is not cheap to import

            value = dotenv_values(Path.cwd() / ".env").get(env_name)
        return SecretStr(value) if value else None
