"""server_info: what a person checks first about the server (INFO), and a raw section."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from redis import exceptions as rx

from redis_rooms_pkg.actions.base import ActionContext, ActionInput, ActionOutput, ActionSpec
from redis_rooms_pkg.services.errors import AddonError

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


class ServerInfoInput(ActionInput):
    section: Section | None = Field(
        default=None, description='An INFO section to return raw as info (e.g. "memory")'
    )


class ServerInfoOutput(ActionOutput):
    version: str = Field(default="", description="Redis version (redis_version)")
    mode: str = Field(default="", description='"standalone", "sentinel" or "cluster" (redis_mode)')
    role: str = Field(default="", description='"master" or "slave" (a replica)')
    used_memory: int = Field(default=0, description="Memory used by the data set, in bytes")
    used_memory_human: str = Field(default="", description="used_memory, human-readable")
    connected_clients: int = Field(default=0, description="Client connections open now")
    uptime_s: int = Field(default=0, description="Seconds since the server started")
    keyspace: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description='Per database: {"keys": n, "expires": n, "avg_ttl": ms} (whole database)',
    )
    info: dict[str, Any] | None = Field(
        default=None, description="The requested INFO section, as the server gave it"
    )


def _info(ctx: ActionContext, section: str | None = None) -> dict[str, Any]:
    try:
        return ctx.client.info(section) if section else ctx.client.info()
    except rx.ResponseError as exc:
        if type(exc) is not rx.ResponseError:  # permission and other specific errors: as usual
            raise
        raise AddonError(
            501,
            "this Redis does not answer INFO, so server_info cannot work here "
            "(the embedded in-process Redis has no INFO: use a Redis server)",
        ) from exc


def server_info(ctx: ActionContext, params: ServerInfoInput) -> ServerInfoOutput:
    info = _info(ctx)
    keyspace = {
        name: {stat: int(count) for stat, count in value.items()}
        for name, value in info.items()
        if name.startswith("db") and name[2:].isdigit() and isinstance(value, dict)
    }
    version = str(info.get("redis_version", ""))
    role = str(info.get("role", ""))
    return ServerInfoOutput(
        version=version,
        mode=str(info.get("redis_mode", "")),
        role=role,
        used_memory=int(info.get("used_memory", 0)),
        used_memory_human=str(info.get("used_memory_human", "")),
        connected_clients=int(info.get("connected_clients", 0)),
        uptime_s=int(info.get("uptime_in_seconds", 0)),
        keyspace=keyspace,
        info=_info(ctx, params.section) if params.section else None,
        message=f"Redis {version} ({role}), {len(keyspace)} database(s) with keys",
    )


SPEC = ActionSpec(
    name="server_info",
    summary="Report the server's version, role, memory, clients and keyspace (raw section on ask).",
    input=ServerInfoInput,
    output=ServerInfoOutput,
    run=server_info,
    read_only=True,
)
