"""Secrets of one addon instance: given by the engine, else read from the environment or .env,
else written in the entry's ``secrets`` map itself."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

# What an environment variable's name looks like (POSIX's portable names): upper-case letters,
# digits and underscores, not starting with a digit. An entry's secrets text of another form
# cannot be a variable's name the engine would read, so it is the secret's value itself.
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")

# Where a secret came from (Credentials.origin), for messages: never the secret, never the text
# of the entry's secrets map (which may be the value).
ORIGINS = {
    "engine": "the value the engine passed (loadCredentials)",
    "environment": "the environment variable named in the entry's secrets",
    "dotenv": "the .env entry named in the entry's secrets",
    "entry": "the value written in the entry's secrets (it names no environment variable)",
}


class Credentials:
    """Holds the secrets of one addon instance; never shows their values.

    Resolution order for each secret key:

    1. the value handed to :meth:`load` (the engine's ``loadCredentials``);
    2. the environment variable the entry's ``secrets`` map names, then that variable in a
       ``.env`` file of the working directory;
    3. the text of the entry's ``secrets`` map itself, when it cannot be a variable's name
       (see ``ENV_NAME``): the engine may hand an addon ``{"redis_password": "<value>"}``, and
       the platform's own addons read ``config.secrets[name]`` as the value. A text that looks
       like a variable's name (``REDIS_PASSWORD``) and is not set means no secret, as before.
    """

    __slots__ = ("_entry", "_given")

    def __init__(self, entry: Mapping[str, str | SecretStr] | None = None) -> None:
        self._entry: dict[str, SecretStr] = {}
        self._given: dict[str, SecretStr] = {}
        self.set_env_names(entry or {})

    def __repr__(self) -> str:
        return f"Credentials(keys={sorted(self._entry)!r}, given={sorted(self._given)!r})"

    def set_env_names(self, entry: Mapping[str, str | SecretStr]) -> None:
        """The entry's ``secrets`` map: secret key -> a variable's name, or the value itself."""
        self._entry = {key: _secret(text) for key, text in entry.items()}

    def load(self, values: Mapping[str, object]) -> None:
        """Keep the values the engine passed, by secret key (empty values count as absent)."""
        for key, value in values.items():
            if value is None or value == "":
                self._given.pop(key, None)
            else:
                self._given[key] = _secret(value)

    def get(self, key: str) -> SecretStr | None:
        """The secret for ``key`` following the resolution order, or None."""
        return self._resolve(key)[0]

    def origin(self, key: str) -> str | None:
        """Where the secret for ``key`` comes from, in words (None: there is none)."""
        where = self._resolve(key)[1]
        return ORIGINS[where] if where else None

    def variable(self, key: str) -> str | None:
        """The name of the environment variable the secret for ``key`` was read from (None when
        it was not read from one: an unset name is never shown, it may be a value)."""
        if self._resolve(key)[1] in ("environment", "dotenv"):
            return self._entry[key].get_secret_value()
        return None

    def named_unset(self, key: str) -> bool:
        """Whether the entry names an environment variable for ``key`` that is not set."""
        return key in self._entry and self._resolve(key)[1] is None

    def _resolve(self, key: str) -> tuple[SecretStr | None, str | None]:
        if key in self._given:
            return self._given[key], "engine"
        written = self._entry.get(key)
        if written is None:
            return None, None
        text = written.get_secret_value()
        value = _environ(text)
        if value:
            return SecretStr(value), "environment"
        from dotenv import dotenv_values  # only when needed: it is not cheap to import

        value = dotenv_values(Path.cwd() / ".env").get(text)
        if value:
            return SecretStr(value), "dotenv"
        if text and not ENV_NAME.fullmatch(text):
            return written, "entry"
        return None, None


def _secret(value: object) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(str(value))


def _environ(name: str) -> str | None:
    try:
        return os.environ.get(name)
    except ValueError:  # an embedded NUL: no variable has that name
        return None
