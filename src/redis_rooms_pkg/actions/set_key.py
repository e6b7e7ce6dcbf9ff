"""set_key: store a value at a key in one atomic SET, with optional expiry and conditions."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from redis_rooms_pkg.actions.base import (
    RAW,
    ActionContext,
    ActionInput,
    ActionOutput,
    decode_value,
    encode_value,
    output,
)
from redis_rooms_pkg.services.errors import AddonError


class SetKeyRules(ActionInput):
    """What set_key's parameters must satisfy together (its input model's base)."""

    @model_validator(mode="after")
    def _compatible(self) -> SetKeyRules:
        if self.ex is None and self.px is None and not self.nx:
            return self  # the usual plain SET: nothing can clash (checked first, on every call)
        conflicts = [
            ("ex", "px", self.ex is not None and self.px is not None),
            ("nx", "xx", self.nx and self.xx),
            ("keep_ttl", "ex", self.keep_ttl and self.ex is not None),
            ("keep_ttl", "px", self.keep_ttl and self.px is not None),
        ]
        for first, second, clash in conflicts:
            if clash:
                raise ValueError(f"{first} and {second} cannot be used together; keep one")
        return self


class SetKeyOutput(ActionOutput):
    key: str | None = Field(default="", description="Redis key that was set")
    success: bool = Field(default=False, description="Whether the operation was successful")
    written: bool | None = Field(
        default=False, description="Whether the value was stored (false when nx or xx prevented it)"
    )
    previous: str | None = Field(
        default=None,
        description="With get_previous: the value before the call (null if the key was absent)",
    )


def _set_args(params: SetKeyRules, stored_key: str, data: bytes) -> list[Any]:
    """One SET command carrying every option, so value, expiry and condition apply atomically."""
    args: list[Any] = ["SET", stored_key, data]
    if params.ex is not None:
        args += ["EX", params.ex]
    if params.px is not None:
        args += ["PX", params.px]
    if params.nx:
        args.append("NX")
    if params.xx:
        args.append("XX")
    if params.keep_ttl:
        args.append("KEEPTTL")
    if params.get_previous:
        args.append("GET")
    return args


def set_key(ctx: ActionContext, params: SetKeyRules) -> SetKeyOutput:
    data = encode_value(ctx, params.value, params.encoding, params.key)
    args = _set_args(params, ctx.keys.key(params.key), data)
    reply = ctx.client.execute_command(*args, get=params.get_previous, **RAW)
    previous, note = None, ""
    if params.get_previous:
        # SET ... GET answers the old value; whether it wrote follows from the condition.
        written = not (params.nx and reply is not None) and not (params.xx and reply is None)
        if reply is not None:
            previous, note = _previous(reply, params)
    else:
        written = bool(reply)
    expiry = f" (expires in {params.ex}s)" if params.ex else ""
    expiry = f" (expires in {params.px}ms)" if params.px else expiry
    if written:
        message = f"stored {params.key!r}{expiry}"
    else:
        why = "it already exists (nx)" if params.nx else "it does not exist (xx)"
        message = f"did not store {params.key!r}: {why}"
    return output(
        SetKeyOutput,
        key=params.key,
        success=True,
        written=written,
        previous=previous,
        message=message + note,
    )


def _previous(reply: bytes, params: SetKeyRules) -> tuple[str | None, str]:
    """The old value as text (base64 text for "base64"); the SET already ran, so never raise."""
    try:
        return decode_value(reply, "base64" if params.encoding == "base64" else "text", "")[0], ""
    except AddonError:
        return None, '; the previous value is not UTF-8 text: use encoding "base64" to get it'


# The example step(s) docs/actions.md shows; a test runs each on the embedded Redis.
EXAMPLES = [
    {
        "id": "store-session",
        "name": "Store Session Data",
        "action": "redis-cache::set_key",
        "parameters": {
            "key": "session:{{payload.user_id}}",
            "value": "{{payload.session_data}}",
            "ex": 3600,
        },
    },
    {
        "id": "take-lock",
        "name": "Take the job lock",
        "action": "redis-cache::set_key",
        "parameters": {
            "key": "lock:job:{{payload.job_id}}",
            "value": "{{payload.run_id}}",
            "nx": True,
            "px": 30000,
        },
    },
]
