"""Parameter types of the actions: each carries its description, bounds and enum values.

The action methods of ``RedisRoomsAddon`` are typed with these, so one declaration is what AI
agents see (their tool schema comes from the signature), what each action's input model is
derived from, and what docs/actions.md lists. The shared building blocks (``Key``, ``Seconds``,
``Milliseconds``...) live in ``actions.base``; what only one action takes lives here.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from redis_rooms_pkg.actions.base import (
    CURSOR_PATTERN,
    ENCODING_HELP,
    INT64_MAX,
    INT64_MIN,
    LIST_TEXT,
    NAME_HELP,
    NAMES_TEXT,
    NO_BOOL,
    OBJECT_TEXT,
    VALUE_SCHEMA,
    Encoding,
    Name,
)


def about(text: str) -> Any:
    """A parameter's description, for ``Annotated[type, about("...")]`` in a signature."""
    return Field(description=text)


# --- limits ------------------------------------------------------------------------------------
MAX_WAIT = (
    60.0  # s, longest wait_s of list_pop and acquire_lock: a step never holds a worker longer
)
MAX_POP = 10_000  # values one list_pop takes
MAX_PUSH = 10_000  # values one list_push adds
MAX_FIELDS = 10_000  # hash fields one call sets, reads or removes
MAX_MESSAGES = 1000  # messages one history_append adds
LIST_DEFAULT_LIMIT = 1000  # keys one list_keys call returns unless told otherwise
LIST_MAX_LIMIT = 100_000
DELETE_DEFAULT_LIMIT = 10_000  # keys one delete_matching call deletes unless told otherwise
DELETE_MAX_LIMIT = 1_000_000
RATE_MAX_LIMIT = 100_000  # calls per window: each allowed call is a sorted-set entry while counted
RATE_MAX_WINDOW = 31 * 24 * 3600  # s, longest rate-limit window
MAX_CURSOR = 2**64 - 1  # SCAN cursors are unsigned 64-bit integers


def _one_name_or_many(value: Any) -> Any:
    """A single name where a list is expected (a template rendered one) becomes a list of one."""
    return [value] if isinstance(value, str) else value


def _one_value_or_many(value: Any) -> Any:
    """A single value where a list is expected (a template rendered one item) becomes a list."""
    return value if isinstance(value, list) else [value]


def _one_message_or_many(value: Any) -> Any:
    """A single message object (a template rendered one) becomes a list of one."""
    return [value] if isinstance(value, dict) else value


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("is required (got null); pass a string or a JSON-serialisable value")
    return value


def _roles(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for index, message in enumerate(messages):
        role = message.get("role")
        if not isinstance(role, str) or not role.strip():
            raise ValueError(f'message {index} needs a "role" (a non-empty string)')
        if "content" not in message:
            raise ValueError(f'message {index} needs a "content"')
    return messages


def _int64(value: Any) -> Any:
    """A whole amount must fit Redis's signed 64-bit counter (it is not turned into a float)."""
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        value = int(value)  # a template-rendered whole number
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(f"a whole number must be from {INT64_MIN} to {INT64_MAX}")
    return value


def _cursor_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _cursor_fits(text: str) -> str:
    """The SCAN cursor in a cursor ("cursor", or "slot:cursor:map" on a cluster) must fit."""
    parts = text.split(":")
    if int(parts[1] if len(parts) > 1 else parts[0]) > MAX_CURSOR:
        raise ValueError('is not a cursor this addon handed out (too large): start with "0"')
    return text


# --- shared ------------------------------------------------------------------------------------
Value = Annotated[
    Any,
    BeforeValidator(_not_null),
    Field(json_schema_extra=VALUE_SCHEMA),
    about("Value to store; numbers, booleans, objects and arrays are stored as JSON text"),
]
# The largest finite float: a float amount or score may be any finite number (the bounds say so
# in the tool schema; NaN and infinity are refused by allow_inf_nan).
MAX_FLOAT = sys.float_info.max
EncodingOption = Annotated[Encoding, about(ENCODING_HELP)]
Side = Literal["left", "right"]
Token = Annotated[str, StringConstraints(min_length=1), about("The token acquire_lock returned")]
Wait = Annotated[
    float, Field(ge=0, le=MAX_WAIT, allow_inf_nan=False), NO_BOOL
]  # s, a bounded wait (0: do not wait)
SessionId = Annotated[
    Name,
    about(f'Conversation id ({NAME_HELP}); the history is the list at "history:<session_id>"'),
]
FieldNames = Annotated[
    list[Name],
    BeforeValidator(_one_name_or_many),
    Field(min_length=1, max_length=MAX_FIELDS),
]
Cursor = Annotated[
    str,
    BeforeValidator(_cursor_text),
    Field(pattern=CURSOR_PATTERN),
    AfterValidator(_cursor_fits),
    about('Where to continue: the cursor of the previous call ("0": start); opaque'),
]
Amount = Annotated[
    Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
    | Annotated[float, Field(ge=-MAX_FLOAT, le=MAX_FLOAT, allow_inf_nan=False)],
    NO_BOOL,
    BeforeValidator(_int64),
    about(
        "Amount to add (negative to subtract; a whole number fits a signed 64-bit integer); "
        "a float makes a float counter"
    ),
]
PushValues = Annotated[
    list[Any],
    BeforeValidator(_one_value_or_many),
    Field(min_length=1, max_length=MAX_PUSH),
    about(
        "Values to push, in order; non-strings are stored as JSON text"
        + LIST_TEXT
        + " (to push one value that is such text, put it in a list)"
    ),
]
# One chat message: its role and content are required (extra fields are kept as they are).
Message = Annotated[
    dict[str, Any],
    Field(
        json_schema_extra={
            "properties": {
                "role": {"type": "string", "description": "Who speaks: user, assistant, system..."},
                "content": {"description": "What was said: text, or any JSON value"},
            },
            "required": ["role", "content"],
        }
    ),
]
Messages = Annotated[
    list[Message],
    BeforeValidator(_one_message_or_many),
    Field(min_length=1, max_length=MAX_MESSAGES),
    AfterValidator(_roles),
    about(
        'Messages {"role": ..., "content": ..., ...} to add, oldest first'
        + LIST_TEXT
        + " (one message object sent as text is read as that message)"
    ),
]
Section = Literal[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "modules",
    "keyspace",
    "default",
    "all",
    "everything",
]
WindowSeconds = Annotated[float, Field(gt=0, le=RATE_MAX_WINDOW, allow_inf_nan=False), NO_BOOL]


# --- queues (Redis Streams), sets and sorted sets ------------------------------------------------
MAX_TAKE = 1000  # jobs one queue_take hands out
MAX_IDS = 10_000  # job ids one queue_ack finishes
MAX_DELIVERIES = 1000  # highest max_deliveries of queue_fail and queue_take
MAX_RECLAIM_S = 7 * 24 * 3600  # s, longest reclaim_after_s of queue_take (a week)
MAX_MEMBERS = 10_000  # members one set or sorted-set call adds, checks or removes
RANGE_DEFAULT_LIMIT = 1000  # members one zset_range or set_members call returns by default
RANGE_MAX_LIMIT = 100_000
QUEUE_HELP = (
    f'Queue name ({NAME_HELP}); the queue is the stream "{{<queue>}}" under key_prefix, its '
    'dead-letter queue "{<queue>}:dead", its dedupe ids the hash "{<queue>}:dedupe"'
)
STREAM_ID_PATTERN = r"^[0-9]{1,20}(-[0-9]{1,20})?$"


def _finite_score(value: Any) -> Any:
    """A score given as text by a template ("12.5") becomes a number; NaN and infinity stay
    refused by the float type."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


Queue = Annotated[Name, about(QUEUE_HELP)]
Group = Annotated[
    Name,
    about(f'Consumer group ({NAME_HELP}): each group gets every job once; "workers" by default'),
]
Consumer = Annotated[
    Name | None,
    about(f"Consumer name ({NAME_HELP}); by default the addon's id"),
]
Job = Annotated[
    dict[str, Any],
    about("The job: a JSON object (stored as JSON text; at most max_value_bytes)" + OBJECT_TEXT),
]


def _stream_id_fits(text: str) -> str:
    if any(int(part) > MAX_CURSOR for part in text.split("-")):
        raise ValueError("is not a job id (a part is over 2^64 - 1)")
    return text


StreamId = Annotated[
    str,
    BeforeValidator(_cursor_text),
    Field(pattern=STREAM_ID_PATTERN),
    AfterValidator(_stream_id_fits),
    about('A job id queue_take returned (e.g. "1718000000000-0")'),
]
StreamIds = Annotated[
    list[StreamId],
    BeforeValidator(_one_name_or_many),
    Field(min_length=1, max_length=MAX_IDS),
    about("Job ids queue_take returned" + LIST_TEXT),
]
DEFAULT_MAX_DELIVERIES = 5  # times a job is handed out before queue_fail / queue_take bury it
MaxDeliveries = Annotated[int, Field(ge=1, le=MAX_DELIVERIES), NO_BOOL]
DedupeId = Annotated[
    Name | None,
    about(
        f"Add the job only if no job added with this id is in the queue (new or taken, not yet "
        f"acknowledged or dead) ({NAME_HELP})"
    ),
]
Member = Annotated[Name, about(f"A member ({NAME_HELP}; at most max_value_bytes)")]
Members = Annotated[
    list[Member],
    BeforeValidator(_one_value_or_many),
    Field(min_length=1, max_length=MAX_MEMBERS),
    about("Members (1 to 10000); numbers are stored as text" + NAMES_TEXT),
]
Score = Annotated[
    float,
    Field(ge=-MAX_FLOAT, le=MAX_FLOAT, allow_inf_nan=False),
    NO_BOOL,
    BeforeValidator(_finite_score),
    about("A score: a finite number (not NaN or infinity)"),
]
Scores = Annotated[
    dict[Member, Score],
    Field(min_length=1, max_length=MAX_MEMBERS),
    about("member -> score (finite numbers; 1 to 10000 members)" + OBJECT_TEXT),
]
ScoreBound = Annotated[
    int | float | str,
    NO_BOOL,
    about(
        'by "rank": a whole index (0 first, -1 last); by "score": a finite number, "-inf", '
        '"+inf", or "(" before a number for an exclusive bound'
    ),
]
RangeBy = Literal["rank", "score"]
SetCursor = Annotated[
    str,
    BeforeValidator(_cursor_text),
    Field(pattern=r"^[0-9]{1,20}$"),
    AfterValidator(_cursor_fits),
    about('Where to continue: the cursor of the previous call ("0": start); opaque'),
]
Limit = Annotated[
    int,
    Field(ge=1, le=RANGE_MAX_LIMIT),
    NO_BOOL,
    about(f"Most members to return (1 to {RANGE_MAX_LIMIT})"),
]
