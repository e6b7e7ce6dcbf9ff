"""list_keys: page through the keys matching a glob pattern with SCAN (never KEYS)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from redis_rooms_pkg.actions.base import (
    CURSOR_PATTERN,
    ENCODING_HELP,
    RAW,
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    Encoding,
    Scanner,
    decode_value,
)

SCAN_BATCH = 1000  # most keys the server looks at per SCAN call: short server work per round trip
MIN_SCAN_HINT = 10  # fewest keys asked of one SCAN call, so a tiny limit still moves along
DEFAULT_LIMIT = 1000  # keys per call unless the workflow asks for another page size
MAX_LIMIT = 100_000

Cursor = Annotated[
    str,
    BeforeValidator(lambda v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v),
    Field(pattern=CURSOR_PATTERN),
]


class ListKeysInput(ActionInput):
    pattern: str = Field(
        default="*", min_length=1, description='Glob pattern to match keys (default: "*")'
    )
    limit: int = Field(
        default=DEFAULT_LIMIT,
        ge=1,
        le=MAX_LIMIT,
        description="Stop once this many keys are found (the last SCAN batch may add a few more)",
    )
    cursor: Cursor = Field(
        default="0",
        description='Where to continue: the cursor of the previous call ("0": start); opaque',
    )
    with_values: bool = Field(default=False, description="Also return each key's value (values)")
    encoding: Encoding = Field(default="text", description="With with_values: " + ENCODING_HELP)


class ListKeysOutput(ActionOutput):
    keys: list[str] | None = Field(default_factory=list, description="Keys matching the pattern")
    count: int | None = Field(default=0, description="Number of keys found")
    cursor: str | None = Field(
        default="0", description='Pass it back to get the next page; "0" when the scan is complete'
    )
    truncated: bool | None = Field(
        default=False, description="Whether more keys may match (call again with cursor)"
    )
    values: dict[str, str | None] | None = Field(
        default=None,
        description="With with_values: key -> value (null when gone or not a string key)",
    )


def scan_page(ctx: ActionContext, match: str, cursor: str, limit: int) -> tuple[str, set[str]]:
    """SCAN from ``cursor`` until ``limit`` stored keys are found or the scan is complete.

    Whole SCAN batches are kept (a cursor cannot resume inside one), so a page may hold a few
    more keys than ``limit``. Each SCAN is asked to look at about as many keys as should yield
    the ones still missing, judged by how many the previous call matched: that keeps the excess
    small for a dense pattern and the round trips few for a sparse one. On a cluster the scan
    walks the primaries one after the other (see :class:`Scanner` for the cursor's form).
    """
    scanner = Scanner(ctx)
    position = scanner.decode(cursor)
    found: set[str] = set()  # SCAN may repeat a key while the keyspace is rehashed: keep it once
    hint = min(SCAN_BATCH, max(limit, MIN_SCAN_HINT))
    while position is not None:
        position, batch = scanner.step(position, match, hint)
        found.update(batch)
        missing = limit - len(found)
        if missing <= 0:
            break
        hint = min(SCAN_BATCH, max(MIN_SCAN_HINT, missing * hint // max(len(batch), 1)))
    scanner.check_unchanged()  # a page the slot map changed under may miss or repeat keys
    return scanner.encode(position), found


def fetch_values(ctx: ActionContext, stored: list[str]) -> list[bytes | None]:
    """GET each stored key in one pipelined round trip; None for a gone or non-string key."""
    pipe = ctx.client.pipeline(transaction=False)
    for key in stored:
        pipe.execute_command("GET", key, **RAW)
    return [None if isinstance(r, Exception) else r for r in pipe.execute(raise_on_error=False)]


def list_keys(ctx: ActionContext, params: ListKeysInput) -> ListKeysOutput:
    # The pattern is anchored under the key prefix, so it can never match outside the namespace.
    match = ctx.keys.pattern(params.pattern)
    cursor, found = scan_page(ctx, match, params.cursor, params.limit)
    stored = sorted(key for key in found if ctx.keys.contains(key))
    keys = [ctx.keys.name(key) for key in stored]
    values = None
    if params.with_values:
        raws = fetch_values(ctx, stored)
        values = {
            name: None if raw is None else decode_value(raw, params.encoding, name)[0]
            for name, raw in zip(keys, raws, strict=True)
        }
    more = " (more: call again with cursor)" if cursor != "0" else ""
    return ListKeysOutput(
        keys=keys,
        count=len(keys),
        cursor=cursor,
        truncated=cursor != "0",
        values=values,
        message=f"{len(keys)} key(s) match {params.pattern!r}{more}",
    )


SPEC = ActionSpec(
    name="list_keys",
    summary="List the keys matching a glob pattern, a page at a time (SCAN, never KEYS).",
    input=ListKeysInput,
    output=ListKeysOutput,
    run=list_keys,
    read_only=True,
)
