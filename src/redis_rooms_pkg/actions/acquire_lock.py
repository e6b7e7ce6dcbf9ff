"""acquire_lock: take a named lock for ttl_ms (SET NX PX), waiting up to wait_s for it."""

from __future__ import annotations

import secrets
import time

from pydantic import Field

from redis_rooms_pkg.actions.base import (
    RAW,
    ActionContext,
    ActionOutput,
    Params,
    output,
)
from redis_rooms_pkg.services.errors import WriteOutcomeUnknownError

POLL_FIRST = 0.01  # s, first pause between tries while waiting...
POLL_CAP = 0.2  # s, ...doubling up to this


class AcquireLockOutput(ActionOutput):
    name: str | None = Field(default="", description="Lock name (its Redis key)")
    acquired: bool | None = Field(default=False, description="Whether this call got the lock")
    token: str | None = Field(
        default=None, description="Proof of ownership for release_lock and extend_lock"
    )


def acquire_lock(ctx: ActionContext, params: Params) -> AcquireLockOutput:
    """Exactly once: every try sends the same token, so after a lost reply the key itself says
    whether this call holds the lock (a late or repeated ``SET NX`` of the same token changes
    nothing)."""
    key = ctx.keys.key(params.name)
    token = secrets.token_hex(16)
    deadline = time.monotonic() + params.wait_s
    pause = POLL_FIRST
    lost: WriteOutcomeUnknownError | None = None
    while True:
        try:
            taken = ctx.client.set(key, token, nx=True, px=params.ttl_ms)
        except WriteOutcomeUnknownError as exc:
            lost, taken = exc, False
        if taken or (lost is not None and _holds(ctx, key, token, lost)):
            note = " (confirmed by its token after a lost reply)" if lost and not taken else ""
            return output(
                AcquireLockOutput,
                name=params.name,
                acquired=True,
                token=token,
                message=f"acquired {params.name!r} for {params.ttl_ms}ms{note}",
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if lost is not None and lost.timed_out:
                raise lost  # the SET may still run late: whether it did is unknown (504)
            return output(
                AcquireLockOutput,
                name=params.name,
                acquired=False,
                message=f"{params.name!r} is held by another",
            )
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, POLL_CAP)


def _holds(ctx: ActionContext, key: str, token: str, lost: WriteOutcomeUnknownError) -> bool:
    """Whether the lock's key holds ``token``; when even that cannot be read, the lost reply's
    own error (504 "may have been applied"), never a 503 that would say nothing was applied."""
    try:
        held = ctx.client.execute_command("GET", key, **RAW)
    except Exception:
        raise lost from None
    return held == token.encode()


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "take-lock",
        "name": "One charge per order at a time",
        "action": "redis-cache::acquire_lock",
        "parameters": {"name": "lock:charge:{{payload.order_id}}", "ttl_ms": 60000},
    }
]
