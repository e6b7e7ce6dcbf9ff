"""A fault-injecting TCP proxy for the tests: it lets a command reach Redis and loses its reply.

Everything binds to 127.0.0.1. Each client connection gets two pump threads; all waits are
bounded. ``arm("EVALSHA")`` makes the proxy forward the next command named EVALSHA (and
whatever the client wrote with it, e.g. the rest of a pipeline) to the server, wait for the
server's reply, throw that reply away and close the client's connection: the server has run
the command, the client never hears about it. With ``hang`` set the client's connection stays
open instead, so the client times out waiting.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field

REPLY_WAIT = 5.0  # s, longest wait for the server's reply to a command whose reply is dropped
DRAIN_IDLE = 0.2  # s, the server side of a dropped connection is closed after this much quiet
MAX_CONNECTIONS = 256  # connections one proxy accepts at most (a bound for the accept loop)


def command_names(buffer: bytearray) -> tuple[list[str], int]:
    """The names of the complete RESP commands at the start of ``buffer`` and where they end."""
    names: list[str] = []
    pos = 0
    while True:
        parsed = _one_command(buffer, pos)
        if parsed is None:
            return names, pos
        name, pos = parsed
        names.append(name)


def _line(buffer: bytearray, pos: int) -> tuple[bytes, int] | None:
    end = buffer.find(b"\r\n", pos)
    return None if end < 0 else (bytes(buffer[pos:end]), end + 2)


def _one_command(buffer: bytearray, pos: int) -> tuple[str, int] | None:
    header = _line(buffer, pos)
    if header is None or not header[0].startswith(b"*"):
        return None
    count, pos = int(header[0][1:]), header[1]
    name = ""
    for index in range(count):
        length_line = _line(buffer, pos)
        if length_line is None:
            return None
        length, pos = int(length_line[0][1:]), length_line[1]
        if len(buffer) < pos + length + 2:
            return None
        if index == 0:
            name = bytes(buffer[pos : pos + length]).decode("latin-1").upper()
        pos += length + 2
    return name, pos


@dataclass
class FaultProxy:
    """Forwards 127.0.0.1:``port`` to the Redis server at 127.0.0.1:``target``."""

    target: int
    armed: list[str] = field(default_factory=list)  # command names whose reply is dropped
    dropped: list[str] = field(default_factory=list)  # names of the commands dropped so far
    seen: list[str] = field(default_factory=list)  # every command name forwarded
    hang: bool = False  # True: keep the client's connection open (it times out) after a drop
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def arm(self, *names: str) -> None:
        """Drop the reply of the next command with each of these names (in any order)."""
        with self.lock:
            self.armed.extend(name.upper() for name in names)

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                _close(sock)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        for _ in range(MAX_CONNECTIONS):
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target), timeout=REPLY_WAIT)
            server.settimeout(None)
            with self.lock:
                self.sockets += [client, server]
            link = _Link(self, client, server)
            threading.Thread(target=link.upstream, daemon=True).start()
            threading.Thread(target=link.downstream, daemon=True).start()

    def _take(self, names: list[str]) -> str | None:
        """The first of ``names`` that is armed (disarming it), else None."""
        with self.lock:
            self.seen.extend(names)
            for name in names:
                if name in self.armed:
                    self.armed.remove(name)
                    self.dropped.append(name)
                    return name
        return None


class _Link:
    """One proxied connection: client -> server (watching for armed commands) and back."""

    def __init__(self, proxy: FaultProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.muted = threading.Event()  # set once an armed command went through

    def upstream(self) -> None:
        pending = bytearray()  # bytes of a command not yet complete (already forwarded)
        while not self.muted.is_set():
            try:
                data = self.client.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close(self.server)
                return
            pending += data
            names, end = command_names(pending)
            del pending[:end]
            if names and self.proxy._take(names) is not None:
                self.muted.set()  # replies from now on are lost
            try:
                self.server.sendall(data)  # everything written so far, armed or not
            except OSError:
                _close(self.client)
                return

    def downstream(self) -> None:
        while True:
            try:
                data = self.server.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close(self.client)
                return
            if self.muted.is_set():
                self._drop()
                return
            try:
                self.client.sendall(data)
            except OSError:
                _close(self.server)
                return

    def _drop(self) -> None:
        """The server answered the armed command: lose that answer, hang up on the client, and
        let the server finish what it was sent before closing its side."""
        if not self.proxy.hang:
            _close(self.client)
        self.server.settimeout(DRAIN_IDLE)
        for _ in range(int(REPLY_WAIT / DRAIN_IDLE)):
            try:
                if not self.server.recv(65536):
                    break
            except OSError:
                break
        _close(self.server)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
