"""set_members: page through a set's members with SSCAN (never SMEMBERS on a whole big set)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    RAW,
    ActionContext,
    ActionOutput,
    Params,
    check_response,
    output,
    reply_size,
    text_names,
)
from redis_rooms_pkg.actions.list_keys import MIN_SCAN_HINT, SCAN_BATCH


class SetMembersOutput(ActionOutput):
    key: str | None = Field(default=None, description="Set key")
    members: list[str] | None = Field(default=None, description="Members of this page, sorted")
    count: int | None = Field(default=None, description="Number of members in this page")
    cursor: str | None = Field(
        default=None, description='Pass it back to get the next page; "0" when complete'
    )
    truncated: bool | None = Field(
        default=None, description="Whether more members may follow (call again with cursor)"
    )


def set_members(ctx: ActionContext, params: Params) -> SetMembersOutput:
    key = ctx.keys.key(params.key)
    cursor = int(params.cursor)
    found: set[str] = set()  # SSCAN may repeat a member while the set is rehashed
    skipped: set[bytes] = set()
    hint = min(SCAN_BATCH, max(params.limit, MIN_SCAN_HINT))
    while True:
        cursor, raw = ctx.client.execute_command("SSCAN", key, cursor, "COUNT", hint, **RAW)
        names, binary = text_names(raw)
        found.update(names)
        skipped.update(binary)
        cursor = int(cursor)
        if cursor == 0 or len(found) >= params.limit:
            break
    members = sorted(found)
    check_response(
        ctx, reply_size(members), "ask for fewer members per call (limit) and continue with cursor"
    )
    more = " (more: call again with cursor)" if cursor else ""
    if skipped:
        more += f"; {len(skipped)} member(s) that are not UTF-8 text were skipped"
    return output(
        SetMembersOutput,
        key=params.key,
        members=members,
        count=len(members),
        cursor=str(cursor),
        truncated=cursor != 0,
        message=f"{len(members)} member(s) of {params.key!r}{more}",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "list-seen",
        "name": "List the seen items",
        "action": "redis-cache::set_members",
        "parameters": {"key": "seen:feed", "limit": 100, "cursor": "{{payload.cursor}}"},
    }
]
