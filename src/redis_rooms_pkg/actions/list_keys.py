"""list_keys: find the keys matching a glob pattern with SCAN (never KEYS)."""

from __future__ import annotations

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    ActionSpec,
    as_text,
)

SCAN_BATCH = 1000  # keys the server looks at per SCAN call: short server work per round trip


class ListKeysInput(ActionInput):
    pattern: str = Field(
        default="*", min_length=1, description='Glob pattern to match keys (default: "*")'
    )


class ListKeysOutput(ActionOutput):
    keys: list[str] = Field(default_factory=list, description="Keys matching the pattern")
    count: int = Field(default=0, description="Number of keys found")


def list_keys(ctx: ActionContext, params: ListKeysInput) -> ListKeysOutput:
    # SCAN may return a key more than once while the keyspace is rehashed: keep each once.
    # The pattern is anchored under the key prefix, so it can never match outside the namespace.
    match = ctx.keys.pattern(params.pattern)
    found = {as_text(key) for key in ctx.client.scan_iter(match=match, count=SCAN_BATCH)}
    keys = sorted(ctx.keys.name(key) for key in found if ctx.keys.contains(key))
    return ListKeysOutput(
        keys=keys, count=len(keys), message=f"{len(keys)} key(s) match {params.pattern!r}"
    )


SPEC = ActionSpec(
    name="list_keys",
    summary="List the keys matching a glob pattern (incremental SCAN, never KEYS).",
    input=ListKeysInput,
    output=ListKeysOutput,
    run=list_keys,
    read_only=True,
)
