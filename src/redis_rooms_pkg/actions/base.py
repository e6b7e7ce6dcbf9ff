"""What every action shares: its catalogue entry, the response envelope, parameter types."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import hashlib
import json
import math
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from json.scanner import make_scanner
from typing import Annotated, Any, Literal, TypeVar

import redis
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    StringConstraints,
)
from redis.client import NEVER_DECODE
from redis.cluster import REDIS_CLUSTER_HASH_SLOTS, ClusterNode, RedisCluster

from redis_rooms_pkg.services.errors import AddonError

MAX_BATCH = 10_000  # keys one batch action (get_many, set_many, exists_key, delete_key) takes
# Redis's own numeric limits, checked before anything is sent (docs/limits.md): Redis keeps an
# expiry as a Unix time in milliseconds in a signed 64-bit integer and refuses one that overflows
# it ("invalid expire time"), and reads counts and indexes as signed 64-bit integers.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_EXPIRE_S = 10**15  # s (~31.7 million years): 1000 * s + now stays well inside INT64_MAX
MAX_EXPIRE_MS = 10**18  # ms, the same span: now + ms stays inside INT64_MAX for ~290 million years
# Levels of JSON an action returns as data (encoding "json"; 422 beyond): pydantic refuses to
# serialise an output nested about 500 levels deep, and the response envelope adds a few.
MAX_JSON_DEPTH = 200
RAW = {NEVER_DECODE: []}  # execute_command option: the reply as bytes, whatever decode_responses

# Models here build their validators on first use (defer_build), not at import: an engine that
# imports the addon pays only for the actions a workflow runs (see docs/benchmarks.md).
_LAZY = ConfigDict(defer_build=True)


class TokensSchema(BaseModel):
    """LLM tokens spent by a step: always 0 for a storage addon."""

    model_config = _LAZY

    stepAmount: int = 0  # noqa: N815 - the engine's field name
    totalCurrentAmount: int = 0  # noqa: N815 - the engine's field name


class ActionResponse(BaseModel):
    """What every action returns to the engine."""

    model_config = _LAZY

    output: SerializeAsAny[BaseModel] | None = None
    tokens: TokensSchema = Field(default_factory=TokensSchema)
    message: str | None = None
    code: int | None = None


class ActionInput(BaseModel):
    """Base of action parameter models: unknown parameters are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# An action's input model as its run function receives it: derived from the action method's
# signature (see redis_rooms_pkg.actions.derive_input), so it has no class to name here.
Params = Any


class ActionOutput(BaseModel):
    """Base of action outputs. Every field but ``message`` (and set_key's ``success``) admits
    null: a failed step's output states no fact the addon does not know (see :meth:`failed`)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    message: str = Field(default="", description="Status message")

    @classmethod
    def failed(cls, message: str, given: Mapping[str, Any], max_name_bytes: int) -> ActionOutput:
        """The output of a failed step: its message, the names the step was given (key,
        channel...) echoed back, and null for every fact (found, written, count...): a later
        step's condition must not read a failure as "absent", "denied" or "0". A name that is
        not valid text or is over ``max_name_bytes`` is not echoed (null too)."""
        values: dict[str, Any] = dict.fromkeys(cls.model_fields)
        for name in ECHOED.intersection(given).intersection(values):
            if _echoable(given[name], max_name_bytes):
                values[name] = given[name]
        values["message"] = message
        if "success" in values:
            values["success"] = False  # whether the step succeeded: it did not
        return validate(cls, values)


# The names a step is given that its output repeats, also when it fails: the key, lock, session
# or channel it was about (other parameters, a cursor say, are not facts to repeat).
ECHOED = frozenset({"key", "name", "session_id", "channel"})


def _echoable(value: Any, max_bytes: int) -> bool:
    """Whether a step's name can go back into its output: text that is valid UTF-8, not huge."""
    if not isinstance(value, str) or len(value) > max_bytes:
        return False
    try:
        return len(value.encode("utf-8")) <= max_bytes
    except UnicodeEncodeError:  # a lone surrogate: no JSON output could carry it
        return False


_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})


@dataclass(frozen=True)
class Keyspace:
    """The addon's key namespace: every key an action touches lives under ``prefix``.

    ``max_name_bytes`` caps the UTF-8 length of every name a workflow gives (a key, lock, channel
    or session id, without the prefix; hash field names through :meth:`check_name`): 413 above it.
    """

    prefix: str = ""
    max_name_bytes: int | None = None  # None: no limit

    def key(self, name: str) -> str:
        """The stored name of a key the workflow calls ``name``; 413 when the name is too long."""
        # A UTF-8 character takes at most 4 bytes: short names (the usual case) skip encoding.
        if self.max_name_bytes is not None and len(name) * 4 > self.max_name_bytes:
            self.check_name(name, "key")
        return self.prefix + name

    def check_name(self, name: str, what: str) -> None:
        """413 when ``name`` is longer than max_name_bytes in UTF-8."""
        if self.max_name_bytes is None:
            return
        size = len(name.encode("utf-8", "surrogatepass"))
        if size > self.max_name_bytes:
            raise AddonError(
                413,
                f"a {what} name of {size} bytes is over the addon's max_name_bytes limit "
                f"({self.max_name_bytes}): use a shorter name (e.g. a hash of it); nothing was "
                "sent",
            )

    def name(self, stored: str) -> str:
        """The workflow's name for a stored key (the prefix removed)."""
        return stored[len(self.prefix) :]

    def contains(self, stored: str) -> bool:
        return stored.startswith(self.prefix)

    def pattern(self, pattern: str) -> str:
        """A SCAN pattern that can only match inside the namespace, whatever ``pattern`` says."""
        return self.prefix.translate(_GLOB_SPECIAL) + pattern


@dataclass(frozen=True)
class ActionContext:
    """What an action works with: the instance's client and its key namespace."""

    client: redis.Redis | RedisCluster
    keys: Keyspace = Keyspace()
    max_value_bytes: int | None = None  # largest value a write action stores; None: no limit
    socket_timeout: float | None = None  # s, how long one command may wait for its reply
    max_call_bytes: int | None = None  # names + values one batch write sends; None: no limit
    max_response_bytes: int | None = None  # names + values one read returns; None: no limit
    addon_id: str = ""  # the addon instance's id: queue_take's default consumer name


@dataclass(frozen=True)
class ActionSpec:
    """A catalogue entry: how to run an action and what it reads and writes."""

    name: str
    summary: str
    input: type[ActionInput]
    output: type[ActionOutput]
    run: Callable[[ActionContext, Any], ActionOutput]
    read_only: bool
    destructive: bool = False
    examples: tuple[dict[str, Any], ...] = ()  # workflow steps that call it (docs/actions.md)
    # the list and object parameters, read from JSON text when sent as text (parse_json_text)
    json_text: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)

    @property
    def writes(self) -> bool:
        """Whether the action changes data (refused when the addon is configured read_only)."""
        return not self.read_only


# The action that reads each Redis type, for the WRONGTYPE message.
READER = {
    "string": "get_key",
    "hash": "hash_get",
    "list": "list_range or history_get",
    "set": "set_members or set_contains",
    "zset": "zset_range",
    "stream": "queue_info (a queue made by queue_add)",
}


def wrong_type_message(ctx: ActionContext, params: Any, action: str) -> str:
    """What a WRONGTYPE error means for the key ``params`` names, with the type found there."""
    label = getattr(params, "key", None) or getattr(params, "name", None)
    stored = ctx.keys.key(label) if isinstance(label, str) else None
    session = getattr(params, "session_id", None)
    queue = getattr(params, "queue", None)
    if stored is None and isinstance(queue, str):
        label = "{" + queue + "}"  # the queue's stream (see queue_keys)
        stored = ctx.keys.key(label)
    if stored is None and isinstance(session, str):
        from redis_rooms_pkg.actions.history_key import KEY_PREFIX  # here: it imports this module

        label = KEY_PREFIX + session
        stored = ctx.keys.key(label)
    kind = None
    if stored is not None:
        try:
            kind = as_text(ctx.client.type(stored))
        except redis.RedisError:
            kind = None  # the message below still says what happened
    if kind in (None, "none"):
        return (
            f"the key holds a different Redis type than {action} works on (WRONGTYPE): use "
            "another key"
        )
    reader = READER.get(kind)
    fix = f"read it with {reader}" if reader else f"no action of this addon reads a {kind}"
    return (
        f"{label!r} holds a Redis {kind}, not what {action} works on (WRONGTYPE): {fix}, or use "
        "another key"
    )


def _scalar_to_str(value: Any) -> Any:
    """Template-rendered keys may arrive as numbers; booleans, NaN/infinity and objects are
    refused."""
    if type(value) is str:  # the usual case, checked first: this runs on every action
        return value
    if isinstance(value, bool):
        raise ValueError("must be a string, not a boolean")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a string or a finite number, not NaN or infinity")
    if isinstance(value, int | float):
        return str(value)
    return value


def _name_text(value: str) -> str:
    """A name must hold a visible character and be valid Unicode (no lone surrogate)."""
    if not value or value.isspace():
        raise ValueError("must not be empty or only whitespace")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"holds a lone surrogate at character {exc.start}, which is not valid Unicode"
            ) from None
    return value


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], data: dict[str, Any]) -> M:
    """``model.model_validate(data)`` without its Python wrapper, which costs ~1 us per call.

    Same validator, same result and errors: the wrapper only forwards its (here unused) options.
    Used on the per-action hot path (see docs/benchmarks.md).
    """
    return model.__pydantic_validator__.validate_python(data)


_RESPONSE_FIELDS_SET = frozenset({"output", "message", "code"})


def respond(output: ActionOutput, message: str, code: int) -> ActionResponse:
    """The ``ActionResponse`` that ``validate(ActionResponse, {"output": output, "message":
    message, "code": code})`` returns, built without running the validator again.

    Saves ~1.8 us per action (docs/benchmarks.md): validating the envelope re-checks an output
    that was validated when the action built it and builds the zero ``TokensSchema`` through
    its own validator. Every input here already has the envelope's type (a test compares both
    ways for every action's outputs): the same fields, the same fields set, a fresh
    ``TokensSchema`` with its defaults. Anything else goes through the validator.
    """
    if not (isinstance(output, ActionOutput) and type(message) is str and type(code) is int):
        return validate(ActionResponse, {"output": output, "message": message, "code": code})
    tokens = _bare(TokensSchema, {"stepAmount": 0, "totalCurrentAmount": 0}, frozenset())
    fields = {"output": output, "tokens": tokens, "message": message, "code": code}
    return _bare(ActionResponse, fields, _RESPONSE_FIELDS_SET)


Out = TypeVar("Out", bound="ActionOutput")


def output(model: type[Out], /, **values: Any) -> Out:
    """``model(**values)``: an action's output, built without running the model's validator
    when validating would change nothing (every value given already has its field's type:
    text, a boolean, a whole number or null, anything for an ``Any`` field; the model has no
    validators of its own). Anything else is validated, with its errors.

    Saves ~1.5 us per action between real round trips (the validator's code is cold by then;
    ~0.2 us in a tight loop), measured in the benchmark (docs/benchmarks.md). A test rebuilds
    every output the actions return through the validator and compares.
    """
    plan = _plain_fields(model)
    if plan is not None:
        kinds, defaults = plan
        for name, value in values.items():
            accepted = kinds.get(name)
            if accepted is None or (accepted is not _ANY and type(value) not in accepted):
                break
        else:
            return _bare(model, {**defaults, **values}, values.keys())
    return model(**values)


def output_as_checked(model: type[Out], /, **values: Any) -> Out:
    """``model(**values)`` without the validator, for values the action has itself checked
    to have exactly their fields' types: ``history_get``'s messages, each a ``dict`` that
    ``json.loads`` made (so its keys are text), are cheaper to trust than to check again or
    validate (~3.5 us for 20 messages: the validator copies every list and dict; checking
    them again in Python costs more, docs/benchmarks.md). A model with validators or
    constraints of its own, or a value of a field it does not have, is validated as
    ``model(**values)``."""
    plan = _checked_plan(model)
    if plan is not None and plan[0] >= values.keys():
        _, defaults, factories = plan
        fields = {**defaults, **values}  # the fields in the model's order
        for name, factory in factories.items():
            if name not in values:
                fields[name] = factory()
        return _bare(model, fields, values.keys())
    return model(**values)


@functools.cache  # per output class
def _checked_plan(
    model: type[BaseModel],
) -> tuple[frozenset[str], dict[str, Any], dict[str, Callable[[], Any]]] | None:
    """For ``output_as_checked``: the fields, their defaults and default factories; None for
    a model with validators or constraints (it is validated)."""
    fields = model.model_fields
    if (
        not _without_validators(model)
        or any(field.metadata or field.is_required() for field in fields.values())
        or any(  # a default shared by every output must be immutable
            field.default_factory is None and type(field.default) not in _SCALARS
            for field in fields.values()
        )
    ):
        return None
    factories = {
        name: field.default_factory
        for name, field in fields.items()
        if field.default_factory is not None
    }
    defaults = {name: None if name in factories else f.default for name, f in fields.items()}
    return frozenset(fields), defaults, factories  # type: ignore[return-value]


_ANY: frozenset[type] = frozenset()  # an ``Any`` field: every value is kept as it is
_SCALARS = (str, bool, int, type(None))  # types a lax validator returns unchanged


@functools.cache  # per output class (a few dozen, defined at import)
def _plain_fields(
    model: type[BaseModel],
) -> tuple[dict[str, frozenset[type]], dict[str, Any]] | None:
    """For ``output``: each field's types kept unchanged by validation, and the defaults; None
    when the model cannot be built without its validator (validators, factories, constraints,
    container fields)."""
    if not _without_validators(model):
        return None
    kinds: dict[str, frozenset[type]] = {}
    defaults: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.metadata or field.default_factory is not None:
            return None
        if field.annotation is Any:
            kinds[name] = _ANY
        else:
            members = typing.get_args(field.annotation) or (field.annotation,)
            if not all(member in _SCALARS for member in members):
                return None
            kinds[name] = frozenset(members)
        if field.is_required() or type(field.default) not in _SCALARS:
            return None
        defaults[name] = field.default
    return kinds, defaults


def _without_validators(model: type[BaseModel]) -> bool:
    """Whether ``model`` has no validators of its own, so that building it without its
    validator skips nothing but type checks (``output``, ``output_as_checked``).

    The model is built now: it defers building to its first validation, which those may skip,
    and the response envelope serialises the output with the model's own serializer (pydantic
    2.11 fails on a model that was never built)."""
    model.model_rebuild(force=True)
    found = model.__pydantic_decorators__
    validators = (found.validators, found.field_validators, found.root_validators)
    return not (
        any(validators) or found.model_validators or model.__pydantic_post_init__ is not None
    )


def _bare(model: type[M], fields: dict[str, Any], fields_set: Any) -> M:
    """A ``model`` instance holding ``fields`` as they are: what pydantic's own
    ``model_construct`` does for a model without extras or private attributes, minus its
    per-field default lookup (it costs more than validating)."""
    instance = _new(model)
    _setattr(instance, "__dict__", fields)
    _setattr(instance, "__pydantic_fields_set__", set(fields_set))
    _setattr(instance, "__pydantic_extra__", None)
    _setattr(instance, "__pydantic_private__", None)
    return instance


_new, _setattr = object.__new__, object.__setattr__


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


NO_BOOL = BeforeValidator(_no_bool)  # a number parameter that refuses true/false


def _one_or_many(value: Any) -> Any:
    """A single key where a list is expected (a template rendered one name) becomes a list."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [value]
    return value


NAME_HELP = "not empty, not only whitespace; at most max_name_bytes UTF-8 bytes, 1024 by default"
# What a list or object parameter given as text means (see parse_json_text): said in each such
# parameter's description, since an agent reads only the descriptions.
LIST_TEXT = "; a JSON array sent as text is read as that array"
NAMES_TEXT = LIST_TEXT + " (to give one name that is such text, put it in a list)"
OBJECT_TEXT = "; a JSON object sent as text is read as that object"
# A name the workflow gives (key, field, lock, channel, session id): numbers become text.
# Characters in a name, at most, as tool schemas show it ("maxLength"): the default
# max_name_bytes (configuration.addonconfig.DEFAULT_MAX_NAME_BYTES; a test keeps them equal),
# since a character is at least one UTF-8 byte. Shown only: the limit checked is the addon's
# max_name_bytes (Keyspace, 413), which a configuration may raise.
NAME_MAX_CHARS = 1024
# The same for a value: the default max_value_bytes (1 MiB).
VALUE_MAX_CHARS = 1024 * 1024
Name = Annotated[
    str,
    StringConstraints(min_length=1),
    BeforeValidator(_scalar_to_str),
    AfterValidator(_name_text),
    Field(json_schema_extra={"maxLength": NAME_MAX_CHARS}),
]
# A value's JSON schema (tool schemas): any JSON value; text at most VALUE_MAX_CHARS (shown only,
# as for names: max_value_bytes is what is checked, 413).
VALUE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "maxLength": VALUE_MAX_CHARS},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "object"},
        {"type": "array"},
    ]
}
Key = Annotated[Name, Field(description=f"Redis key ({NAME_HELP})")]
# Bounds come before the boolean check in these aliases: that way they reach the JSON schema as
# "minimum"/"maximum" (after a BeforeValidator pydantic would emit non-standard "gt"/"le" keys).
Seconds = Annotated[
    int,
    Field(
        gt=0,
        le=MAX_EXPIRE_S,
        description=f"A whole number of seconds from 1 to {MAX_EXPIRE_S} (10^15)",
    ),
    BeforeValidator(_no_bool),
]
Milliseconds = Annotated[
    int,
    Field(
        gt=0,
        le=MAX_EXPIRE_MS,
        description=f"A whole number of milliseconds from 1 to {MAX_EXPIRE_MS} (10^18)",
    ),
    BeforeValidator(_no_bool),
]
# A count (how many values to keep or read): Redis reads it as a signed 64-bit integer.
Count = Annotated[int, Field(ge=1, le=INT64_MAX), BeforeValidator(_no_bool)]
# A list index (negative counts from the end): a signed 64-bit integer for Redis.
Index = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX), BeforeValidator(_no_bool)]
Keys = Annotated[
    list[Key],
    BeforeValidator(_one_or_many),
    Field(min_length=1, max_length=MAX_BATCH, description="Redis keys (1 to 10000)" + NAMES_TEXT),
]
Encoding = Literal["text", "json", "base64"]
ENCODING_HELP = (
    '"text" (UTF-8 string), "json" (JSON text, parsed into data) or "base64" '
    "(raw bytes as base64 text: binary-safe)"
)


_SCAN_JSON = make_scanner(json.JSONDecoder())  # what json.loads runs (json's C scanner)


def parse_json(text: str) -> Any:
    """``json.loads(text)``, calling its scanner directly when it reads the whole text.

    Saves ~0.7 us per value (``json.loads`` checks its argument's type, then ``decode`` matches
    whitespace with a regular expression before and after ``raw_decode``): ``history_get``
    parses every message it returns (docs/benchmarks.md). Same values and errors: text the
    scanner does not read whole (spaces around it, a byte-order mark, extra data, not JSON)
    goes through ``json.loads``, and a property test compares both on any text.
    """
    try:
        value, end = _SCAN_JSON(text, 0)
    except StopIteration:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def json_text_kinds(model: type[BaseModel]) -> dict[str, frozenset[str]]:
    """The parameters of an input model that take a list or an object, with which of the two
    (JSON schema types "array", "object"): those that parse_json_text reads from JSON text.
    A parameter that also takes text as such (a value: ``set_key.value``) is not one of them:
    its text is never read as something else."""
    kinds: dict[str, frozenset[str]] = {}
    for name, schema in model.model_json_schema()["properties"].items():
        types = {schema.get("type"), *(part.get("type") for part in schema.get("anyOf", []))}
        found = frozenset(types & {"array", "object"})
        if found and "string" not in types:
            kinds[name] = found
    return kinds


def parse_json_text(kinds: Mapping[str, frozenset[str]], params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with each list or object parameter that arrived as JSON text parsed.

    Agents' tool loops send a list as text (``keys='["a","b"]'``) where the schema's top-level
    type is not "array" (an optional list is ``anyOf``), and a template inside text renders one;
    read as a single name, it would silently name nothing. Text that begins with ``[`` or ``{``
    and parses as a JSON array or object is taken as it, as the tool loops do for array and
    object parameters; any other text is left as it is (one name: each such parameter says so).
    """
    for name in kinds.keys() & params.keys():
        value = params[name]
        if type(value) is not str or value.lstrip()[:1] not in ("[", "{"):
            continue
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            continue  # not JSON: the text itself (the action's own checks apply)
        if isinstance(parsed, list | dict):
            params = {**params, name: parsed}
    return params


def as_text(value: bytes | str) -> str:
    """A Redis reply as text, whatever decode_responses is; UnicodeDecodeError for binary data."""
    return value if isinstance(value, str) else value.decode("utf-8")


def encode_value(ctx: ActionContext, value: Any, encoding: Encoding, key: str) -> bytes:
    """The bytes a write action stores for ``value``; 400 when malformed, 413 when too large.

    "text": strings as they are, other values as their JSON text; "json": the value's JSON text
    (a string becomes a JSON string); "base64": the bytes the base64 text decodes to.
    This is the one place the max_value_bytes limit is checked.
    """
    if value is None:
        raise AddonError(400, f"invalid input: value of {key!r} is null; pass a value to store")
    if encoding == "base64":
        if not isinstance(value, str):
            raise AddonError(400, f'invalid input: value of {key!r}: encoding "base64" needs text')
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:  # ValueError: non-ASCII text
            raise AddonError(
                400, f"invalid input: value of {key!r} is not valid base64 text ({exc})"
            ) from None
    elif isinstance(value, bytes) and encoding == "text":
        data = value
    elif isinstance(value, str) and encoding == "text":
        data = _utf8(value, key)
    else:
        data = _utf8(_json_text(value, key), key)
    if ctx.max_value_bytes is not None and len(data) > ctx.max_value_bytes:
        raise AddonError(
            413,
            f"value of {key!r} is {len(data)} bytes, over the addon's max_value_bytes limit "
            f"({ctx.max_value_bytes}); nothing was written",
        )
    return data


# json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False), with the
# encoder made once: json.dumps builds a new JSONEncoder on every call given options (~0.6 us).
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _json_text(value: Any, key: str) -> str:
    try:
        return _JSON_TEXT(value)
    except RecursionError:
        raise AddonError(
            400,
            f"invalid input: value of {key!r} is nested too deeply to store as JSON text "
            f"(more than about {sys.getrecursionlimit()} levels)",
        ) from None
    except (TypeError, ValueError) as exc:
        raise AddonError(
            400,
            f"invalid input: value of {key!r} cannot be stored as JSON text "
            f"({type(value).__name__})",
        ) from exc


def _utf8(text: str, key: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AddonError(
            400,
            f"invalid input: value of {key!r} holds a lone surrogate "
            f"({text[exc.start]!r} at character {exc.start}), which is not valid Unicode text: "
            'send the text properly encoded, or bytes as base64 with encoding "base64"',
        ) from None


def decode_value(raw: bytes, encoding: Encoding, key: str) -> tuple[str, Any]:
    """A stored value as ``(value, data)``: text or base64 text, and the parsed JSON for "json"."""
    if encoding == "base64":
        return base64.b64encode(raw).decode("ascii"), None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AddonError(
            422, f'the value of {key!r} is not UTF-8 text: read it with encoding "base64"'
        ) from None
    if encoding == "text":
        return text, None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AddonError(
            422, f'the value of {key!r} is not valid JSON ({exc.msg}): read it as "text"'
        ) from None
    except RecursionError:
        data = _TOO_DEEP
    if data is not _TOO_DEEP and _depth_ok(data):
        return text, data
    raise AddonError(
        422,
        f"the value of {key!r} is JSON nested deeper than {MAX_JSON_DEPTH} levels, too deep to "
        'return as data: read it with encoding "text"',
    )


_TOO_DEEP = object()  # json.loads gave up (RecursionError)


def _depth_ok(data: Any) -> bool:
    """Whether ``data`` nests at most MAX_JSON_DEPTH levels (checked without recursion)."""
    if not isinstance(data, dict | list):
        return True
    level: list[Any] = [data]
    for _ in range(MAX_JSON_DEPTH):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return True
    return False


def check_call_size(ctx: ActionContext, size: int, what: str) -> None:
    """413 when one batch write would send more than max_call_bytes of names and values."""
    if ctx.max_call_bytes is not None and size > ctx.max_call_bytes:
        raise AddonError(
            413,
            f"this call would send {size} bytes of names and values, over the addon's "
            f"max_call_bytes limit ({ctx.max_call_bytes}): split the {what} over several calls; "
            "nothing was written",
        )


def check_response(ctx: ActionContext, size: int, page: str) -> None:
    """413 when one read would return more than max_response_bytes of names and values.

    The reply has been read from Redis by then (Redis cannot tell its size beforehand) and is
    discarded; ``page`` says how to ask for less.
    """
    if ctx.max_response_bytes is not None and size > ctx.max_response_bytes:
        raise AddonError(
            413,
            f"the reply holds {size} bytes of names and values, over the addon's "
            f"max_response_bytes limit ({ctx.max_response_bytes}): {page}",
        )


def reply_size(*parts: Any) -> int:
    """Bytes in the names and values of a reply: bytes, and str as UTF-8; None counts 0."""
    total = 0
    for part in parts:
        if isinstance(part, bytes) or (isinstance(part, str) and part.isascii()):
            total += len(part)
        elif isinstance(part, str):
            total += len(part.encode("utf-8", "surrogatepass"))
        elif isinstance(part, dict):
            total += reply_size(*part.keys(), *part.values())
        elif isinstance(part, list | tuple):
            total += reply_size(*part)
    return total


def ttl_seconds(reply: int) -> int | None:
    """A TTL reply in seconds: None for a missing key (-2), -1 for a key without expiry."""
    return None if reply == -2 else int(reply)


# --- deployments of several nodes ---------------------------------------------------------------
# Actions stay mode-agnostic: what differs in Redis Cluster (keys of one multi-key command must
# share a hash slot; SCAN covers one node) is handled by the helpers below.


def is_cluster(client: object) -> bool:
    """Whether ``client`` talks to a Redis Cluster (keys spread over nodes by hash slot)."""
    return _cluster_class(type(client))


@functools.cache  # per client class: a handful
def _cluster_class(kind: type) -> bool:
    """``issubclass(kind, RedisCluster)``, remembered: saves ~0.5 us per check (RedisCluster's
    metaclass is typing's Protocol one, whose isinstance check runs in Python each time)."""
    return issubclass(kind, RedisCluster)


def slot_groups(ctx: ActionContext, stored: list[str]) -> list[list[str]]:
    """Stored keys split so each part fits one multi-key command: one part unless on a cluster,
    where keys are grouped by hash slot (the order inside a group is kept)."""
    if not is_cluster(ctx.client):
        return [stored]
    groups: dict[int, list[str]] = {}
    for key in stored:
        groups.setdefault(ctx.client.keyslot(key), []).append(key)
    return list(groups.values())


def per_group(ctx: ActionContext, command: str, groups: list[list[Any]]) -> list[Any]:
    """One ``command`` per group, all in one pipelined round trip (or one plain call); replies
    are raw bytes."""
    if len(groups) == 1:
        return [ctx.client.execute_command(command, *groups[0], **RAW)]
    pipe = ctx.client.pipeline(transaction=False)
    for group in groups:
        pipe.execute_command(command, *group, **RAW)
    return list(pipe.execute())


def per_primary(ctx: ActionContext, command: Callable[..., Any]) -> dict[str, Any]:
    """``command(client, **target)`` on every primary of a cluster, by node name ("host:port");
    on a single server, its one reply under the name ""."""
    if not is_cluster(ctx.client):
        return {"": command(ctx.client)}
    replies = command(ctx.client, target_nodes=RedisCluster.PRIMARIES)
    primaries = ctx.client.get_primaries()
    if len(primaries) == 1:  # redis-py unwraps the reply of a single target
        return {primaries[0].name: replies}
    return dict(replies)


CURSOR_PATTERN = r"^([0-9]{1,5}:)?[0-9]{1,20}(:[0-9a-f]{8})?$"
CLUSTER_CURSOR_HELP = (
    'a cursor of the form "slot:cursor:map" comes from a Redis Cluster scan and a plain number '
    'from a single server: start again with cursor "0"'
)
CLUSTER_CHANGED = (
    "the cluster changed since this listing began (a resharding or a failover moved hash slots): "
    'keys could be missed or listed twice, so the cursor is refused: restart from cursor "0"'
)


class Scanner:
    """SCAN over every primary of the deployment, one node after the other.

    A position is ``(shard, cursor)``: the index of a primary in :attr:`shards` and that node's
    SCAN cursor; ``None`` once every primary has been scanned. Primaries are ordered by the
    lowest hash slot each serves, which also names them in the text form of a position (the
    ``cursor`` actions hand back): ``"<slot>:<cursor>:<map>"`` on a cluster, the plain SCAN
    cursor on a single server, and ``"0"`` for both the start and the end. ``<map>`` is a short
    digest of the slot map (which primary serves which slots) when the listing began: SCAN's
    no-loss guarantee holds only while the map stays, so a cursor whose map is no longer the
    cluster's is refused (410, restart from "0"), as is a page during which the map changed
    (see :meth:`check_unchanged`).
    """

    def __init__(self, ctx: ActionContext) -> None:
        self.client = ctx.client
        self.cluster = is_cluster(ctx.client)
        self.shards: list[tuple[int, ClusterNode | None]] = [(0, None)]
        self.topology = ""
        if self.cluster:
            self.topology = _live_topology(ctx.client)
            if self.topology != _cached_topology(ctx.client):  # the client has not heard yet
                ctx.client.nodes_manager.initialize()
            self.shards = _primaries_by_lowest_slot(ctx.client)

    def check_unchanged(self, began: str | None = None) -> None:
        """410 unless the cluster's slot map is the one the listing began with (``began``: the
        cursor's; else the one this scanner started with)."""
        if self.cluster and (began or self.topology) != _live_topology(self.client):
            raise AddonError(410, CLUSTER_CHANGED)

    def start(self) -> tuple[int, int]:
        return 0, 0

    def decode(self, text: str) -> tuple[int, int] | None:
        """The position a cursor string names (``"0"``: the start); 400 for a foreign one."""
        parts = text.split(":")
        if (len(parts) > 1) != self.cluster and text != "0":
            raise AddonError(
                400,
                f"invalid input: cursor {text!r} is not from this deployment: "
                + CLUSTER_CURSOR_HELP,
            )
        if len(parts) == 1:
            return 0, int(text)
        slot, cursor_text = int(parts[0]), parts[1]
        if slot >= REDIS_CLUSTER_HASH_SLOTS:
            raise AddonError(400, f"invalid input: cursor {text!r} names no hash slot")
        if len(parts) != 3:
            raise AddonError(
                400, f"invalid input: cursor {text!r} lacks its slot map: " + CLUSTER_CURSOR_HELP
            )
        self.check_unchanged(parts[2])
        # the primary now serving the slot range that began at ``slot``
        index = max((i for i, (lowest, _) in enumerate(self.shards) if lowest <= slot), default=0)
        return index, int(cursor_text)

    def encode(self, position: tuple[int, int] | None) -> str:
        if position is None:
            return "0"
        index, cursor = position
        return f"{self.shards[index][0]}:{cursor}:{self.topology}" if self.cluster else str(cursor)

    def step(
        self, position: tuple[int, int], match: str, count: int
    ) -> tuple[tuple[int, int] | None, list[bytes]]:
        """One SCAN call at ``position``: the next position and the stored keys it returned, as
        bytes (a key's name may be any bytes, not only UTF-8 text)."""
        index, cursor = position
        node = self.shards[index][1]
        if node is None:
            cursor, batch = self.client.scan(cursor=cursor, match=match, count=count, **RAW)
        else:
            cursors, batch = self.client.scan(
                cursor=cursor, match=match, count=count, target_nodes=node, **RAW
            )
            cursor = next(iter(cursors.values())) if isinstance(cursors, dict) else cursors
        if int(cursor) != 0:
            return (index, int(cursor)), batch
        return ((index + 1, 0) if index + 1 < len(self.shards) else None), batch


def text_names(raw: list[bytes]) -> tuple[list[str], list[bytes]]:
    """Stored key names as text, and those skipped because they are not UTF-8 text (a workflow
    cannot name such a key)."""
    names: list[str] = []
    skipped: list[bytes] = []
    for name in raw:
        try:
            names.append(name.decode("utf-8"))
        except UnicodeDecodeError:
            skipped.append(name)
    return names, skipped


def _digest(owners: list[str]) -> str:
    """A short digest of who serves each hash slot (8 hex digits)."""
    runs: list[str] = []
    for slot, owner in enumerate(owners):
        if slot == 0 or owner != owners[slot - 1]:
            runs.append(f"{slot}={owner}")
    return hashlib.blake2b(";".join(runs).encode(), digest_size=4).hexdigest()


def _live_topology(client: RedisCluster) -> str:
    """The digest of the slot map as a node of the cluster reports it now (CLUSTER SLOTS)."""
    owners = [""] * REDIS_CLUSTER_HASH_SLOTS
    reply = client.cluster_slots(target_nodes=client.get_default_node())
    for (start, end), served in reply.items():
        host, port = served["primary"]
        owners[int(start) : int(end) + 1] = [f"{host}:{port}"] * (int(end) - int(start) + 1)
    return _digest(owners)


def _cached_topology(client: RedisCluster) -> str:
    """The digest of the slot map the client routes commands by."""
    owners = [""] * REDIS_CLUSTER_HASH_SLOTS
    for slot, nodes in client.nodes_manager.slots_cache.items():
        owners[slot] = nodes[0].name
    return _digest(owners)


def _primaries_by_lowest_slot(client: RedisCluster) -> list[tuple[int, ClusterNode | None]]:
    """Each primary of the client's slot map once, with the lowest slot it serves, in order."""
    lowest: dict[str, tuple[int, ClusterNode]] = {}
    for slot, nodes in client.nodes_manager.slots_cache.items():
        primary = nodes[0]
        if primary.name not in lowest or slot < lowest[primary.name][0]:
            lowest[primary.name] = (slot, primary)
    return sorted(lowest.values(), key=lambda entry: entry[0])
