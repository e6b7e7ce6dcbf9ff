"""Secrets never appear in logs (TRACE included), responses, reprs or dumps."""

from __future__ import annotations

from collections.abc import Callable

from conftest import PASSWORD
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer, SilentServer, free_port


def test_password_never_leaks(
    server: RedisServer,
    silent_server: SilentServer,
    make_addon: Callable[..., RedisRoomsAddon],
    log_lines: list[str],
) -> None:
    good = make_addon(password=PASSWORD, host="127.0.0.1", port=server.port)
    refused = make_addon(password=PASSWORD, host="127.0.0.1", port=free_port(), retry_attempts=0)
    hung = make_addon(
        password=PASSWORD, host="127.0.0.1", port=silent_server.port, socket_timeout=0.3
    )
    wrong = make_addon(password=PASSWORD + "-not", host="127.0.0.1", port=server.port)
    responses = []
    for addon in (good, refused, hung, wrong):
        responses += [
            addon.set_key("k", "v", ex=5),
            addon.get_key("k"),
            addon.list_keys("*"),
            addon.delete_key("k"),
            addon.set_key("", "v"),
        ]
        addon.test()
    codes = {r.code for r in responses}
    assert {200, 400, 401, 503, 504} <= codes
    assert log_lines, "expected log records to inspect"
    texts = (
        log_lines
        + [r.model_dump_json() for r in responses]
        + [repr(a) for a in (good, refused, hung, wrong)]
        + [repr(a.credentials) for a in (good, wrong)]
        + [a.config.model_dump_json() for a in (good, wrong)]
    )
    for text in texts:
        assert PASSWORD not in text
