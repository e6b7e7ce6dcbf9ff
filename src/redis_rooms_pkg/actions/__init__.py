"""The addon's actions, one module each, and the catalogue built from their declarations.

An action is declared once, as a method of ``RedisRoomsAddon`` marked ``@reads``, ``@writes``
or ``@destroys``: its typed signature is what agents see and what the action's input model is
derived from, its docstring's first line is its summary. The module of the same name here holds
the rest: ``<Name>Output``, the function ``<name>(ctx, params)`` that runs it, ``EXAMPLES`` (the
workflow steps docs/actions.md shows, each run by a test), and optionally ``<Name>Rules``, a base
of the input model with the rules that tie parameters together.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from pydantic import create_model

from redis_rooms_pkg.actions.base import (
    ActionInput,
    ActionResponse,
    ActionSpec,
    TokensSchema,
    json_text_kinds,
)


@dataclass(frozen=True)
class Declaration:
    """What an action method declares: its name, summary, signature and what it may change."""

    name: str
    method: Callable[..., Any]
    read_only: bool
    destructive: bool

    @property
    def summary(self) -> str:
        return (inspect.getdoc(self.method) or "").partition("\n")[0]


def camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def derive_input(declaration: Declaration, base: type[ActionInput]) -> type[ActionInput]:
    """The action's input model: a field per parameter of the method, typed and defaulted as
    the signature says (the same ``create_model`` an agent addon runs on it), on ``base``."""
    fields: dict[str, Any] = {}
    for parameter in list(inspect.signature(declaration.method).parameters.values())[1:]:
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (parameter.annotation, default)
    module = f"{__name__}.{declaration.name}"
    return create_model(  # type: ignore[call-overload,no-any-return]
        f"{camel(declaration.name)}Input", __base__=base, __module__=module, **fields
    )


def build_spec(declaration: Declaration) -> ActionSpec:
    """The catalogue entry of a declared action, from its module (imported here, on first use)."""
    module = import_module(f"{__name__}.{declaration.name}")
    title = camel(declaration.name)
    model = derive_input(declaration, getattr(module, f"{title}Rules", ActionInput))
    return ActionSpec(
        name=declaration.name,
        summary=declaration.summary,
        input=model,
        json_text=json_text_kinds(model),
        output=getattr(module, f"{title}Output"),
        run=getattr(module, declaration.name),
        read_only=declaration.read_only,
        destructive=declaration.destructive,
        examples=tuple(getattr(module, "EXAMPLES", ())),
    )


class Catalogue(MutableMapping[str, ActionSpec]):
    """The declared actions by name, in declaration order (the order the docs list them).

    The action methods declare themselves when ``redis_rooms_pkg.addon`` is imported (looking
    anything up imports it). An action's module is imported, and its input model derived, the
    first time it is looked up, so an engine that imports the addon pays only for the actions
    its workflows run (see docs/benchmarks.md, import time); iterating, ``in`` and ``len``
    import no action module. Like a dict, entries can be set and deleted (tests do)."""

    def __init__(self) -> None:
        self._declared: dict[str, Declaration] = {}
        self._names: list[str] = []
        self._specs: dict[str, ActionSpec] = {}

    def declare(self, declaration: Declaration) -> None:
        if declaration.name not in self._names:
            self._names.append(declaration.name)
        self._declared[declaration.name] = declaration
        self._specs.pop(declaration.name, None)

    def declaration(self, name: str) -> Declaration:
        self._load()
        return self._declared[name]

    def _load(self) -> None:
        if not self._declared:
            import_module("redis_rooms_pkg.addon")  # its methods declare the actions

    def __getitem__(self, name: str) -> ActionSpec:
        spec = self._specs.get(name)
        if spec is None:
            self._load()
            if name not in self._names:
                raise KeyError(name)
            spec = self._specs[name] = build_spec(self._declared[name])
        return spec

    def __setitem__(self, name: str, spec: ActionSpec) -> None:
        self._load()
        if name not in self._names:
            self._names.append(name)
        self._specs[name] = spec

    def __delitem__(self, name: str) -> None:
        self._load()
        if name not in self._names:
            raise KeyError(name)
        self._names.remove(name)
        self._specs.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(list(self._names))

    def __len__(self) -> int:
        self._load()
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._names


CATALOGUE = Catalogue()

__all__ = [
    "CATALOGUE",
    "ActionResponse",
    "ActionSpec",
    "Catalogue",
    "Declaration",
    "TokensSchema",
]
