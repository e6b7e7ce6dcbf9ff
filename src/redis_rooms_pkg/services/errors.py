"""The one boundary where failures become an HTTP-style code and a message that says what to fix."""

from __future__ import annotations

import socket
import ssl

from pydantic import ValidationError
from redis import exceptions as rx


class AddonError(Exception):
    """A failure the addon itself detected, already carrying its code and message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _validation_message(exc: ValidationError) -> str:
    """Name each bad parameter and what is wrong with it, without echoing values."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "input"
        parts.append(f"{where}: {error['msg']}")
    return "invalid input: " + "; ".join(parts)


def _error_code(exc: rx.ResponseError) -> str:
    """The error code Redis puts first in an error reply (WRONGTYPE, OOM, NOPERM, ERR...)."""
    text = str(exc)
    return text.split(" ", 1)[0] if text else ""


def _connection_cause(exc: BaseException) -> str:
    """What stopped the connection, told apart by exception kind along the cause chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return "host name not found (check host)"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused (is the server running, and are host and port right?)"
        if isinstance(seen, ssl.SSLError):
            return "TLS handshake failed (check ssl and the server's TLS settings)"
        seen = seen.__cause__ or seen.__context__
    return "connection failed (check host, port and that the server is reachable)"


def describe(exc: BaseException, target: str, socket_timeout: float) -> tuple[int, str]:
    """Map any failure of an action to ``(code, message)``; messages never contain secrets."""
    if isinstance(exc, AddonError):
        return exc.code, exc.message
    if isinstance(exc, ValidationError):
        return 400, _validation_message(exc)
    if isinstance(exc, rx.AuthenticationError):
        return 401, (
            f"{target} rejected the credentials: check the redis_password secret "
            "(and username, if the server uses ACL users)"
        )
    if isinstance(exc, rx.AuthorizationError | rx.NoPermissionError):
        return 403, f"{target} denied the command to this user: {exc}"
    if isinstance(exc, rx.BusyLoadingError):
        return 503, f"{target} is loading its dataset into memory; try again shortly"
    if isinstance(exc, rx.TimeoutError):
        return 504, (
            f"{target} did not answer within the timeout ({socket_timeout:g}s socket_timeout); "
            "the server may be overloaded or blocked"
        )
    if isinstance(exc, rx.ConnectionError):
        return 503, f"cannot reach {target}: {_connection_cause(exc)}"
    if isinstance(exc, rx.OutOfMemoryError):
        return 507, f"{target} is out of memory (maxmemory reached with a noeviction policy)"
    if isinstance(exc, rx.ReadOnlyError):
        return 503, f"{target} is a read-only replica; point the addon at the primary"
    if isinstance(exc, rx.ResponseError):
        if _error_code(exc) == "WRONGTYPE":
            return 409, "the key holds a different Redis type than this action works on"
        return 502, f"{target} refused the command: {exc}"
    if isinstance(exc, rx.DataError):
        return 400, f"invalid input: {exc}"
    if isinstance(exc, UnicodeDecodeError):
        return 422, (
            "the stored value is not UTF-8 text, so it cannot be returned as a string "
            "with decode_responses on"
        )
    return 500, f"unexpected {type(exc).__name__} in the addon"
