"""list_keys: page through the keys matching a glob pattern with SCAN (never KEYS)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    RAW,
    ActionContext,
    ActionOutput,
    Params,
    Scanner,
    check_response,
    decode_value,
    output,
    reply_size,
    text_names,
)

SCAN_BATCH = 1000  # most keys the server looks at per SCAN call: short server work per round trip
MIN_SCAN_HINT = 10  # fewest keys asked of one SCAN call, so a tiny limit still moves along


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


def scan_page(ctx: ActionContext, match: str, cursor: str, limit: int) -> tuple[str, set[str], int]:
    """SCAN from ``cursor`` until ``limit`` stored keys are found or the scan is complete; also
    how many names were skipped for not being UTF-8 text.

    Whole SCAN batches are kept (a cursor cannot resume inside one), so a page may hold a few
    more keys than ``limit``. Each SCAN is asked to look at about as many keys as should yield
    the ones still missing, judged by how many the previous call matched: that keeps the excess
    small for a dense pattern and the round trips few for a sparse one. On a cluster the scan
    walks the primaries one after the other (see :class:`Scanner` for the cursor's form).
    """
    scanner = Scanner(ctx)
    position = scanner.decode(cursor)
    found: set[str] = set()  # SCAN may repeat a key while the keyspace is rehashed: keep it once
    binary: set[bytes] = set()
    hint = min(SCAN_BATCH, max(limit, MIN_SCAN_HINT))
    while position is not None:
        position, raw = scanner.step(position, match, hint)
        batch, skipped = text_names(raw)
        binary.update(skipped)
        found.update(batch)
        missing = limit - len(found)
        if missing <= 0:
            break
        hint = min(SCAN_BATCH, max(MIN_SCAN_HINT, missing * hint // max(len(raw), 1)))
    scanner.check_unchanged()  # a page the slot map changed under may miss or repeat keys
    return scanner.encode(position), found, len(binary)


def fetch_values(ctx: ActionContext, stored: list[str]) -> list[bytes | None]:
    """GET each stored key in one pipelined round trip; None for a gone or non-string key."""
    pipe = ctx.client.pipeline(transaction=False)
    for key in stored:
        pipe.execute_command("GET", key, **RAW)
    return [None if isinstance(r, Exception) else r for r in pipe.execute(raise_on_error=False)]


def list_keys(ctx: ActionContext, params: Params) -> ListKeysOutput:
    # The pattern is anchored under the key prefix, so it can never match outside the namespace.
    match = ctx.keys.pattern(params.pattern)
    cursor, found, binary = scan_page(ctx, match, params.cursor, params.limit)
    stored = sorted(key for key in found if ctx.keys.contains(key))
    keys = [ctx.keys.name(key) for key in stored]
    values = None
    page = "ask for fewer keys per call (limit) and continue with cursor"
    if params.with_values:
        raws = fetch_values(ctx, stored)
        check_response(ctx, reply_size(keys, raws), page + ", or leave with_values off")
        values = {
            name: None if raw is None else decode_value(raw, params.encoding, name)[0]
            for name, raw in zip(keys, raws, strict=True)
        }
    else:
        check_response(ctx, reply_size(keys), page)
    more = " (more: call again with cursor)" if cursor != "0" else ""
    if binary:
        more += (
            f"; {binary} key(s) whose names are not UTF-8 text were skipped (a workflow cannot "
            "name them)"
        )
    return output(
        ListKeysOutput,
        keys=keys,
        count=len(keys),
        cursor=cursor,
        truncated=cursor != "0",
        values=values,
        message=f"{len(keys)} key(s) match {params.pattern!r}{more}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "list-sessions",
        "name": "List All Sessions",
        "action": "redis-cache::list_keys",
        "parameters": {"pattern": "session:*", "limit": 100, "cursor": "{{payload.cursor}}"},
    }
]
