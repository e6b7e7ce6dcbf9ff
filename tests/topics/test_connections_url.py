"""`url` forms (incl. a unix socket) and `key_prefix` isolation against real redis-servers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catalogue_calls import CALLS
from conftest import PASSWORD
from managed_fixtures import readme_example
from redis_rooms_pkg.actions import CATALOGUE
from redis_rooms_pkg.addon import RedisRoomsAddon
from servers import RedisServer, UnixRedisServer, add_acl_user, free_port

LoadAddon = Callable[..., RedisRoomsAddon]


def url_entry(url: str) -> dict:
    entry = readme_example("unix", swap={"url": url})
    return entry


def test_password_inside_url(server: RedisServer, load_addon: LoadAddon) -> None:
    addon = load_addon(url_entry(f"redis://:{PASSWORD}@127.0.0.1:{server.port}/3"))
    assert addon.set_key("k", "in-db-3").code == 200
    assert server.client(db=3).get("k") == "in-db-3"
    assert server.client(db=0).exists("k") == 0


def test_secret_password_wins_over_url_password(server: RedisServer, load_addon: LoadAddon) -> None:
    url = f"redis://:stale-password@127.0.0.1:{server.port}/0"
    assert load_addon(url_entry(url), redis_password=PASSWORD).set_key("k", "v").code == 200
    assert load_addon(url_entry(url)).set_key("k", "v").code == 401


def test_url_with_acl_user(server: RedisServer, load_addon: LoadAddon) -> None:
    add_acl_user(server, "urluser", "url-Pw", "~*", "+@all")
    try:
        addon = load_addon(url_entry(f"redis://urluser:url-Pw@127.0.0.1:{server.port}"))
        assert addon.set_key("k", "v").code == 200
        users = {c["user"] for c in server.client().client_list() if c["name"].startswith("rooms:")}
        assert users == {"urluser"}
    finally:
        server.client().execute_command("ACL", "DELUSER", "urluser")


def test_url_wins_over_host_and_port(server: RedisServer, load_addon: LoadAddon) -> None:
    entry = url_entry(f"redis://127.0.0.1:{server.port}")
    entry["config"].update(host="db.invalid", port=free_port())
    assert load_addon(entry, redis_password=PASSWORD).set_key("k", "v").code == 200


def test_unix_socket_url_from_readme(unix_server: UnixRedisServer, load_addon: LoadAddon) -> None:
    addon = load_addon(url_entry(f"unix://{unix_server.socket_path}?db=2"), redis_password=PASSWORD)
    assert addon.set_key("k", "over-the-socket").code == 200
    assert unix_server.client(db=2).get("k") == "over-the-socket"
    clients = unix_server.client().client_list()
    assert any(c["name"] == "rooms:redis-local" and c["addr"].startswith("/") for c in clients)
    assert "unix socket" in repr(addon)


def test_missing_unix_socket_says_so(tmp_path, load_addon: LoadAddon) -> None:
    entry = url_entry(f"unix://{tmp_path}/absent.sock")
    entry["config"]["retry_attempts"] = 0
    response = load_addon(entry).get_key("k")
    assert response.code == 503
    assert "no unix socket" in response.message


def test_url_and_its_password_never_echoed(
    server: RedisServer, load_addon: LoadAddon, log_lines: list[str]
) -> None:
    secret = "url-Only-Secret-42"
    urls = [
        f"redis://:{secret}@127.0.0.1:{server.port}/0",  # wrong password: 401
        f"redis://user:{secret}@127.0.0.1:{free_port()}/0",  # refused: 503
        f"rediss://:{secret}@127.0.0.1:{server.port}/0",  # TLS to a plain port
    ]
    texts = []
    for url in urls:
        entry = url_entry(url)
        entry["config"].update(retry_attempts=0, socket_timeout=0.5, socket_connect_timeout=0.5)
        addon = load_addon(entry)
        responses = [addon.set_key("k", "v"), addon.get_key("k"), addon.list_keys()]
        assert {r.code for r in responses} & {401, 503}
        addon.test()
        texts += [r.model_dump_json() for r in responses]
        texts += [repr(addon), addon.config.model_dump_json(), repr(addon.config)]
    bad = RedisRoomsAddon()
    assert not bad.loadAddonConfig(url_entry(f"http://:{secret}@example.com"))
    texts += log_lines
    assert log_lines
    for text in texts:
        assert secret not in text
        assert not any(url in text for url in urls)
        assert "@127.0.0.1" not in text


@pytest.fixture
def two_namespaces(server: RedisServer, load_addon: LoadAddon) -> tuple[RedisRoomsAddon, ...]:
    def make(prefix: str) -> RedisRoomsAddon:
        entry = readme_example(
            "namespace", swap={"host": "127.0.0.1", "port": server.port, "key_prefix": prefix}
        )
        return load_addon(entry, redis_password=PASSWORD)

    return make("wf42:"), make("wf43:")


def test_key_prefix_isolation(
    two_namespaces: tuple[RedisRoomsAddon, ...], server: RedisServer
) -> None:
    first, second = two_namespaces
    server.client().set("outside", "x")
    for addon, value in ((first, "one"), (second, "two")):
        assert addon.set_key("user:1", value).code == 200
        assert addon.set_key(f"only-{value}", value).code == 200
    assert first.get_key("user:1").output.value == "one"
    assert second.get_key("user:1").output.value == "two"
    assert first.get_key("only-two").output.found is False
    assert first.list_keys("*").output.keys == ["only-one", "user:1"]
    assert second.list_keys("*").output.keys == ["only-two", "user:1"]
    for pattern in ("wf43:*", "*wf43*", "[w]f43:*", "\\*", "?*"):
        assert "only-two" not in str(first.list_keys(pattern).output.keys), pattern
    assert first.delete_key("only-two").output.deleted is False
    assert first.delete_key("user:1").output.deleted is True
    assert second.get_key("user:1").output.value == "two"
    assert sorted(server.client().scan_iter("*")) == [
        "outside", "wf42:only-one", "wf43:only-two", "wf43:user:1",
    ]  # fmt: skip


def test_key_prefix_isolation_through_every_action(
    two_namespaces: tuple[RedisRoomsAddon, ...], server: RedisServer
) -> None:
    first, second = two_namespaces

    def call(addon: RedisRoomsAddon, action: str, **params: object):
        response = getattr(addon, action)(**params)
        assert response.code == 200, (action, response.message)
        return response.output

    call(second, "set_many", items={"a": "X", "b": "Y", "c": "Z"})
    call(first, "set_many", items={"a": "1", "b": "2"})
    call(second, "set_key", key="d", value="W")
    assert call(first, "get_key", key="c").found is False
    assert call(first, "get_many", keys=["a", "b", "c"]).values == {"a": "1", "b": "2", "c": None}
    assert call(first, "exists_key", keys=["a", "c", "d"]).count == 1
    assert call(first, "expire_key", key="c", ex=100).updated is False
    assert call(first, "get_ttl", key="d").found is False
    listed = call(first, "list_keys", pattern="*", with_values=True)
    assert listed.keys == ["a", "b"]
    assert call(first, "delete_key", keys=["c", "d"]).deleted is False
    assert call(first, "delete_matching", pattern="*", allow_all=True).deleted_count == 2
    # workflow building blocks: second holds the strings a..d, so a leak shows as WRONGTYPE (409),
    # a held lock or found data; each leaves nothing behind in first
    assert call(first, "increment", key="n", ex=100).created is True
    assert call(first, "rate_limit", key="rl", limit=1, window_s=60).allowed is True
    assert call(first, "list_push", key="c", values=["job"]).length == 1
    assert call(first, "list_range", key="c").values == ["job"]
    assert call(first, "list_length", key="d").length == 0
    assert call(first, "list_pop", key="c").values == ["job"]
    assert call(first, "hash_set", key="a", fields={"f": 1}).added == 1
    assert call(first, "hash_get", key="b").found is False
    assert call(first, "hash_delete", key="a", fields=["f"]).deleted_count == 1
    assert call(first, "publish", channel="d", message="m").receivers == 0
    lock = call(first, "acquire_lock", name="d", ttl_ms=10_000)
    assert lock.acquired is True
    assert call(first, "extend_lock", name="d", token=lock.token, ttl_ms=20_000).extended is True
    assert call(first, "release_lock", name="d", token=lock.token).released is True
    chat = [{"role": "user", "content": "hi"}]
    assert call(first, "history_append", session_id="a", messages=chat).length == 1
    assert call(first, "history_get", session_id="a").messages == chat
    assert call(first, "history_clear", session_id="a").cleared is True
    assert call(first, "server_info").version
    assert call(first, "delete_key", keys=["n", "rl"]).deleted_count == 2
    assert sorted(server.client().scan_iter("*")) == ["wf43:a", "wf43:b", "wf43:c", "wf43:d"]
    assert server.client().ttl("wf43:c") == -1


@pytest.mark.parametrize("action", list(CATALOGUE))
def test_every_action_stays_in_its_namespace(
    action: str, two_namespaces: tuple[RedisRoomsAddon, ...], server: RedisServer
) -> None:
    """Each action's example call, on a prefixed addon, touches only keys under its prefix."""
    first, second = two_namespaces
    raw = server.client()
    raw.set("outside", "x")
    assert second.set_key("user:1", "two").code == 200
    response = getattr(first, action)(**CALLS[action])
    assert response.code == 200, response.message
    assert {key for key in raw.scan_iter("*") if not key.startswith("wf42:")} == {
        "outside",
        "wf43:user:1",
    }
    assert (raw.get("outside"), raw.get("wf43:user:1")) == ("x", "two")
