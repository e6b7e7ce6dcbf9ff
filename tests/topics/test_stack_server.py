"""The Redis Stack server the module actions' tests run on: installed by make test, with its
modules loaded (a missing module would fail those tests for the wrong reason)."""

from __future__ import annotations

from servers import RedisServer


def test_the_stack_server_has_redisjson_and_the_query_engine(stack: RedisServer) -> None:
    client = stack.client()
    modules = {entry["name"] for entry in client.module_list()}
    assert {"ReJSON", "search"} <= modules
    assert client.info("server")["redis_version"].startswith("7.4")
