"""queue_info: a queue's jobs, pending jobs, consumers, oldest pending age and dead jobs."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from redis_rooms_pkg.actions.base import ActionContext, ActionOutput, Params, as_text, output
from redis_rooms_pkg.actions.queue_keys import check_names, queue_keys


class QueueInfoOutput(ActionOutput):
    queue: str | None = Field(default=None, description="Queue name")
    length: int | None = Field(
        default=None, description="Jobs not finished yet (new and pending; 0 if no queue)"
    )
    pending: int | None = Field(
        default=None, description="Jobs handed out to the group and not acknowledged yet"
    )
    new: int | None = Field(
        default=None,
        description="Jobs the group has not handed out yet (null when Redis cannot tell)",
    )
    consumers: int | None = Field(default=None, description="Consumers the group has seen")
    oldest_pending_s: float | None = Field(
        default=None,
        description="Age in seconds of the oldest pending job, since it was added (null: none)",
    )
    dead: int | None = Field(default=None, description="Jobs in the dead-letter queue")
    group_exists: bool | None = Field(
        default=None, description="Whether the group exists (it is made by the first take)"
    )


def _group(groups: Any, name: str) -> dict[str, Any] | None:
    """The XINFO GROUPS entry of ``name`` (None when the key or the group is missing)."""
    if isinstance(groups, Exception) or not groups:
        return None
    for group in groups:
        if as_text(group.get("name", b"")) == name:
            return group
    return None


def queue_info(ctx: ActionContext, params: Params) -> QueueInfoOutput:
    stream, dead_key, _ = queue_keys(ctx, params.queue)
    check_names(ctx, params)
    pipe = ctx.client.pipeline(transaction=False)
    pipe.xlen(stream)
    pipe.xlen(dead_key)
    pipe.xinfo_groups(stream)
    pipe.xpending_range(stream, params.group, "-", "+", 1)
    length, dead, groups, oldest = pipe.execute(raise_on_error=False)
    for reply in (length, dead):
        if isinstance(reply, Exception):
            raise reply  # WRONGTYPE: the dispatcher names the type the key holds
    group = _group(groups, params.group)
    oldest_s = None
    if group is not None and not isinstance(oldest, Exception) and oldest:
        added_ms = int(as_text(oldest[0]["message_id"]).partition("-")[0])
        now = ctx.client.time()  # the server's clock, as the ids' (not in the pipeline: on a
        now_ms = int(now[0]) * 1000 + int(now[1]) // 1000  # cluster TIME names no slot)
        oldest_s = round(max(0, now_ms - added_ms) / 1000, 3)
    lag = group.get("lag") if group else None
    label = params.queue
    if group is None:
        return output(
            QueueInfoOutput,
            queue=label,
            length=int(length),
            pending=0,
            new=int(length),
            consumers=0,
            dead=int(dead),
            group_exists=False,
            message=f"{label!r}: {length} job(s), no group {params.group!r} yet; {dead} dead",
        )
    pending = int(group["pending"])
    return output(
        QueueInfoOutput,
        queue=label,
        length=int(length),
        pending=pending,
        new=None if lag is None else int(lag),
        consumers=int(group["consumers"]),
        oldest_pending_s=oldest_s,
        dead=int(dead),
        group_exists=True,
        message=f"{label!r}: {length} job(s), {pending} pending, {dead} dead",
    )


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "queue-health",
        "name": "How is the thumbnail queue doing?",
        "action": "redis-cache::queue_info",
        "parameters": {"queue": "thumbnails"},
    }
]
