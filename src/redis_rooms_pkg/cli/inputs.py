"""What the command line reads: JSON files and values, NAME=VALUE pairs, addon entries, .env."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from pydantic import ValidationError

from redis_rooms_pkg.addon import RedisRoomsAddon
from redis_rooms_pkg.configuration import CustomAddonConfig
from redis_rooms_pkg.services import errors
from redis_rooms_pkg.services.client import EMBEDDED_MISSING
from redis_rooms_pkg.workflow import (
    REDIS_ADDON_TYPES,
    addon_entries,
    redis_addon_entries,
    undeclared_redis_ids,
)

# The addon `call` and `check` use without --addon-config: the config defaults (localhost:6379),
# with the password read from REDIS_PASSWORD (environment or .env) as in the README's examples.
DEFAULT_ENTRY: dict[str, Any] = {
    "id": "redis",
    "type": "redis",
    "name": "Redis",
    "secrets": {"redis_password": "REDIS_PASSWORD"},
}


class InputError(ValueError):
    """A file, option or value the command cannot use; the message says what to fix."""


def read_json(path: Path, what: str) -> Any:
    """The JSON document in ``path``; a missing file or bad JSON says where."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} {str(path)!r} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} {str(path)!r}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{what} {str(path)!r} is not valid JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}"
        ) from None


def json_object(text: str, what: str) -> dict[str, Any]:
    """A JSON object given inline, or as ``@file`` to read it from a file."""
    if text.startswith("@"):
        value = read_json(Path(text[1:]), what)
    else:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{what} is not valid JSON: {exc.msg} at column {exc.colno} "
                "(give a JSON object, or @file to read one from a file)"
            ) from None
    if not isinstance(value, dict):
        raise InputError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def call_values(items: Iterable[str]) -> dict[str, Any]:
    """Parameters as httpie reads them: ``name=text`` is the text, ``name:=json`` is JSON.

    ``value=1.50`` stays the string "1.50"; ``ex:=60`` is the number 60, ``items:='{"a":1}'``
    an object. A number-typed parameter given as text is still converted by the action's model.
    """
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        is_json = name.endswith(":")
        name = name.removesuffix(":").strip()
        if not sep or not name:
            raise InputError(f"parameter {item!r} must look like NAME=TEXT or NAME:=JSON")
        if name in values:
            raise InputError(f"parameter {name!r} is given twice")
        if is_json:
            try:
                values[name] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"parameter {name}:= is not valid JSON: {exc.msg} at column {exc.colno} "
                    f"(NAME:=JSON takes JSON, e.g. {name}:=60 or {name}:='{{\"a\": 1}}'; "
                    f"NAME=TEXT takes text as it is)"
                ) from None
        else:
            values[name] = text
    return values


def assignments(items: Iterable[str], what: str) -> dict[str, str]:
    """``name=text`` pairs by name; a pair without ``=`` or with an empty name is refused."""
    pairs: dict[str, str] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"{what} {item!r} must look like NAME=VALUE")
        if name.strip() in pairs:
            raise InputError(f"{what} {name.strip()!r} is given twice")
        pairs[name.strip()] = text
    return pairs


def stubs(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``STEP_ID=JSON`` pairs: the output each stubbed step reports."""
    return {
        step: json_object(text, f"--stub {step}")
        for step, text in assignments(items, "--stub").items()
    }


def mock_config(path: Path) -> dict[str, dict[str, Any]]:
    """An engine CLI mocks file: ``{"<addon id>::<action>": {"mock_response": {...}}}``.

    The outputs by action: each step with that action gets ``mock_response`` as its output.
    """
    document = read_json(path, "mock config")
    shape = '{"<addon id>::<action>": {"mock_response": {...}}}'
    if not isinstance(document, dict):
        raise InputError(f"mock config {str(path)!r} must hold an object {shape}")
    mocks = {}
    for action, mock in document.items():
        where = f"mock config {str(path)!r}, {action!r}"
        if "::" not in action:
            raise InputError(f"{where}: a key names a step's action, {shape}")
        if not isinstance(mock, dict) or not isinstance(mock.get("mock_response"), dict):
            raise InputError(f'{where}: give the output as {{"mock_response": {{...}}}}')
        mocks[action] = mock["mock_response"]
    return mocks


def load_env_file(path: Path | None) -> None:
    """Read a .env file into the environment; variables already set keep their values."""
    if path is None:
        return
    if not path.is_file():
        raise InputError(f"env file {str(path)!r} not found")
    load_dotenv(path, override=False)


def entries_in(path: Path) -> list[dict[str, Any]]:
    """The addon entries of an --addon-config file: one entry, a list, or a workflow's addons."""
    document = read_json(path, "addon config")
    if isinstance(document, dict) and "addons" in document:
        entries = [e for e in addon_entries(document) if e.get("type") in REDIS_ADDON_TYPES]
    elif isinstance(document, dict):
        entries = [document]
    elif isinstance(document, list) and all(isinstance(entry, dict) for entry in document):
        entries = document
    else:
        raise InputError(f"addon config {str(path)!r} must hold an addon object or a list of them")
    for entry in entries:
        if not isinstance(entry.get("id"), str) or not entry["id"]:
            raise InputError(f'every addon entry in {str(path)!r} needs a non-empty "id"')
    if not entries:
        raise InputError(f"addon config {str(path)!r} declares no Redis addon")
    return entries


def embedded_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The same entry switched to the in-process embedded Redis."""
    entry = copy.deepcopy(dict(entry))
    config = entry.get("config")
    in_config = isinstance(config, dict) and "mode" in config
    if in_config:
        config["mode"] = "embedded"
    if "mode" in entry or not in_config:
        entry["mode"] = "embedded"
    return entry


def build_addon(entry: Mapping[str, Any], embedded: bool = False) -> RedisRoomsAddon:
    """A configured addon, created and configured the way the engine does it."""
    entry = embedded_entry(entry) if embedded else dict(entry)
    label = entry.get("id", "?")
    try:
        CustomAddonConfig.model_validate(entry)
    except ValidationError as exc:
        raise InputError(f"addon {label!r}: {errors.describe(exc, '', 0)[1]}") from None
    addon = RedisRoomsAddon()
    if not addon.loadAddonConfig(entry):
        # Valid fields, but the addon refused them: embedded mode without fakeredis installed.
        raise InputError(f"addon {label!r}: {EMBEDDED_MISSING}")
    return addon


def addons_for_workflows(
    workflows: list[Mapping[str, Any]],
    overrides: list[dict[str, Any]],
    embedded: bool,
) -> dict[str, RedisRoomsAddon]:
    """One addon per Redis addon id, shared by every run of the session.

    The files' Redis entries, replaced by id (or added to) by the --addon-config entries. When
    none declares a Redis addon, steps with Redis actions get an embedded addon of their id.
    """
    replaced = {entry["id"] for entry in overrides}
    entries: dict[str, Any] = {}
    for workflow in workflows:
        for addon_id, entry in redis_addon_entries(workflow).items():
            if addon_id not in replaced and entries.get(addon_id, entry) != entry:
                raise InputError(
                    f"addon {addon_id!r} is declared differently in two workflow files; the runs "
                    "share one addon per id: give its entry with --addon-config"
                )
            entries[addon_id] = entry
    entries.update({entry["id"]: entry for entry in overrides})
    if not entries:
        undeclared = dict.fromkeys(i for w in workflows for i in undeclared_redis_ids(w))
        entries = {addon_id: {**DEFAULT_ENTRY, "id": addon_id} for addon_id in undeclared}
        embedded = True
    return {addon_id: build_addon(entry, embedded) for addon_id, entry in entries.items()}


@dataclass(frozen=True)
class Run:
    """One run of a workflow: the file's name and content, its payload and other addons' outputs."""

    name: str
    workflow: Any
    payload: dict[str, Any]
    stubs: dict[str, dict[str, Any]]
    mocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    entrypoint: str | None = None


RUN_FIELDS = ("workflow", "entrypoint", "payload", "mock_config", "stubs")


def runs_file(path: Path) -> list[Run]:
    """The runs a --runs file lists, in order; file paths are relative to the runs file."""
    document = read_json(path, "runs file")
    if not isinstance(document, list) or not document:
        raise InputError(
            f"runs file {str(path)!r} must hold a non-empty list of runs, each "
            '{"workflow": "FILE.json", "payload": {...}, "mock_config": "MOCKS.json", '
            '"stubs": {"STEP_ID": {...}}}'
        )
    runs = []
    for number, item in enumerate(document, 1):
        where = f"runs file {str(path)!r}, run {number}"
        if not isinstance(item, dict):
            raise InputError(f"{where}: a run is an object with {', '.join(RUN_FIELDS)}")
        unknown = sorted(set(item) - set(RUN_FIELDS))
        if unknown:
            raise InputError(
                f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; "
                f"a run has {', '.join(RUN_FIELDS)}"
            )
        name, payload, stubs = item.get("workflow"), item.get("payload", {}), item.get("stubs", {})
        mocks, entrypoint = item.get("mock_config"), item.get("entrypoint")
        if not isinstance(name, str) or not name:
            raise InputError(f'{where}: "workflow" must name a workflow file')
        if not isinstance(payload, dict):
            raise InputError(f'{where}: "payload" must be an object')
        if not isinstance(stubs, dict) or not all(isinstance(v, dict) for v in stubs.values()):
            raise InputError(f'{where}: "stubs" must map step ids to output objects')
        if mocks is not None and (not isinstance(mocks, str) or not mocks):
            raise InputError(f'{where}: "mock_config" must name a mocks file')
        if entrypoint is not None and not isinstance(entrypoint, str):
            raise InputError(f'{where}: "entrypoint" must be an entrypoint id')
        workflow = read_json(path.parent / name, "workflow file")
        outputs = mock_config(path.parent / mocks) if mocks else {}
        runs.append(Run(name, workflow, payload, stubs, outputs, entrypoint))
    return runs


def single_addon(path: Path | None, addon_id: str | None, embedded: bool) -> RedisRoomsAddon:
    """The one addon `call` and `check` use: from --addon-config (by --addon-id), else defaults."""
    if path is None:
        return build_addon(DEFAULT_ENTRY, embedded)
    entries = entries_in(path)
    if addon_id is not None:
        chosen = [entry for entry in entries if entry["id"] == addon_id]
        if not chosen:
            ids = ", ".join(entry["id"] for entry in entries)
            raise InputError(f"no addon {addon_id!r} in {str(path)!r}; it has: {ids}")
        return build_addon(chosen[0], embedded)
    if len(entries) > 1:
        ids = ", ".join(entry["id"] for entry in entries)
        raise InputError(
            f"{str(path)!r} declares several Redis addons ({ids}): pick one with --addon-id"
        )
    return build_addon(entries[0], embedded)
