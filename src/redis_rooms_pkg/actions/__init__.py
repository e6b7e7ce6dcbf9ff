"""The addon's actions, one module each, and the catalogue that lists them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from importlib import import_module

from redis_rooms_pkg.actions.base import ActionResponse, ActionSpec, TokensSchema

# Every action, in the order the docs list them; each is also the name of its module.
NAMES = (
    "set_key",
    "get_key",
    "delete_key",
    "list_keys",
    "exists_key",
    "expire_key",
    "get_ttl",
    "get_many",
    "set_many",
    "delete_matching",
    # workflow building blocks
    "increment",
    "rate_limit",
    "list_push",
    "list_pop",
    "list_range",
    "list_length",
    "hash_set",
    "hash_get",
    "hash_delete",
    "publish",
    "acquire_lock",
    "release_lock",
    "extend_lock",
    "history_append",
    "history_get",
    "history_clear",
    "server_info",
)


class Catalogue(MutableMapping[str, ActionSpec]):
    """The actions by name, in order. An action's module is imported the first time it is looked
    up, so an engine that imports the addon pays only for the actions its workflows run (see
    docs/benchmarks.md, import time); iterating, ``in`` and ``len`` import nothing. Like the
    dict it replaces, entries can be set and deleted (tests do)."""

    def __init__(self, names: Iterable[str]) -> None:
        self._names = list(names)
        self._specs: dict[str, ActionSpec] = {}

    def __getitem__(self, name: str) -> ActionSpec:
        spec = self._specs.get(name)
        if spec is None:
            if name not in self._names:
                raise KeyError(name)
            spec = self._specs[name] = import_module(f"{__name__}.{name}").SPEC
        return spec

    def __setitem__(self, name: str, spec: ActionSpec) -> None:
        if name not in self._names:
            self._names.append(name)
        self._specs[name] = spec

    def __delitem__(self, name: str) -> None:
        if name not in self._names:
            raise KeyError(name)
        self._names.remove(name)
        self._specs.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


CATALOGUE = Catalogue(NAMES)

__all__ = ["CATALOGUE", "NAMES", "ActionResponse", "ActionSpec", "Catalogue", "TokensSchema"]
