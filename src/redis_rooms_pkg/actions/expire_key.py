"""expire_key: set, change or remove a key's expiry."""

from __future__ import annotations

from pydantic import Field, model_validator

from redis_rooms_pkg.actions.base import (
    ActionContext,
    ActionInput,
    ActionOutput,
    output,
    ttl_seconds,
)


class ExpireKeyRules(ActionInput):
    """What expire_key's parameters must satisfy together (its input model's base)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> ExpireKeyRules:
        given = [name for name in ("ex", "px") if getattr(self, name) is not None]
        given += ["persist"] if self.persist else []
        if len(given) != 1:
            raise ValueError(
                "give exactly one of ex, px or persist=true"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class ExpireKeyOutput(ActionOutput):
    key: str | None = Field(default="", description="Redis key whose expiry was changed")
    updated: bool | None = Field(
        default=False,
        description="Whether the expiry changed (false: key absent, or persist on a key "
        "without expiry)",
    )
    ttl: int | None = Field(
        default=None,
        description="Seconds left afterwards, -1 when it never expires (null if absent)",
    )


def expire_key(ctx: ActionContext, params: ExpireKeyRules) -> ExpireKeyOutput:
    stored = ctx.keys.key(params.key)
    pipe = ctx.client.pipeline(transaction=True)  # the change and the TTL it left, atomically
    if params.ex is not None:
        pipe.expire(stored, params.ex)
    elif params.px is not None:
        pipe.pexpire(stored, params.px)
    else:
        pipe.persist(stored)
    pipe.ttl(stored)
    updated, ttl = pipe.execute()
    ttl = ttl_seconds(ttl)
    if ttl is None:
        message = f"{params.key!r} not found"
    elif not updated:
        message = f"{params.key!r} already had no expiry"
    else:
        message = f"{params.key!r} " + ("never expires" if ttl == -1 else f"expires in {ttl}s")
    return output(ExpireKeyOutput, key=params.key, updated=bool(updated), ttl=ttl, message=message)


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "extend-session",
        "name": "Extend the session",
        "action": "redis-cache::expire_key",
        "parameters": {"key": "session:{{payload.user_id}}", "ex": 86400},
    }
]
