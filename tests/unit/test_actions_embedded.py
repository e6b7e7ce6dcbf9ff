"""The four actions on the embedded (fakeredis) backend: outputs, value types, bad input."""

from __future__ import annotations

import pytest

from redis_rooms_pkg.addon import RedisRoomsAddon


def test_set_then_get_round_trip(embedded: RedisRoomsAddon) -> None:
    stored = embedded.set_key("session:42", "tok")
    assert stored.code == 200
    assert stored.output.model_dump() == {
        "key": "session:42",
        "success": True,
        "written": True,
        "previous": None,
        "message": "stored 'session:42'",
    }
    got = embedded.get_key("session:42")
    assert got.code == 200
    assert (got.output.key, got.output.value, got.output.found) == ("session:42", "tok", True)
    assert got.tokens.stepAmount == 0
    assert got.tokens.totalCurrentAmount == 0


def test_missing_key_is_found_false_with_200(embedded: RedisRoomsAddon) -> None:
    got = embedded.get_key("nope")
    assert got.code == 200
    assert (got.output.found, got.output.value) == (False, None)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        pytest.param("plain", "plain", id="string"),
        pytest.param(42, "42", id="int"),
        pytest.param(2.5, "2.5", id="float"),
        pytest.param(True, "true", id="bool"),
        pytest.param({"city": "Paris", "temp": 18}, '{"city":"Paris","temp":18}', id="object"),
        pytest.param([1, "a"], '[1,"a"]', id="array"),
        pytest.param({"t": "é"}, '{"t":"é"}', id="unicode-object"),
    ],
)
def test_non_string_values_are_stored_as_json_text(
    embedded: RedisRoomsAddon, value: object, stored: str
) -> None:
    assert embedded.set_key("k", value).code == 200
    assert embedded.client().get("k") == stored


def test_ex_as_template_string_sets_ttl(embedded: RedisRoomsAddon) -> None:
    response = embedded.set_key("k", "v", ex="3600")
    assert response.code == 200
    assert "expires in 3600s" in response.message
    assert 3590 < embedded.client().ttl("k") <= 3600


def test_numeric_key_from_a_template_is_accepted(embedded: RedisRoomsAddon) -> None:
    assert embedded.set_key(42, "v").output.key == "42"
    assert embedded.client().get("42") == "v"


@pytest.mark.parametrize(
    ("params", "says"),
    [
        pytest.param({"key": "", "value": "v"}, "key: String should have at least 1", id="empty"),
        pytest.param({"key": "k", "value": "v", "ex": 0}, "ex: Input should be greater", id="ex0"),
        pytest.param({"key": "k", "value": "v", "ex": -5}, "ex: Input should be greater", id="neg"),
        pytest.param(
            {"key": "k", "value": "v", "ex": "soon"}, "ex: Input should be a valid", id="t"
        ),
        pytest.param({"key": "k", "value": "v", "ex": 1.5}, "ex: Input should be a valid", id="fr"),
        pytest.param({"key": "k", "value": "v", "ex": True}, "not a boolean", id="bool-ex"),
        pytest.param({"key": "k", "value": None}, "value: Value error, is required", id="null"),
        pytest.param({"key": True, "value": "v"}, "key: Value error, must be a string", id="bk"),
        pytest.param({"key": "k", "value": {1, 2}}, "cannot be stored as JSON", id="set-value"),
    ],
)
def test_bad_input_is_400_and_nothing_is_written(
    embedded: RedisRoomsAddon, params: dict, says: str
) -> None:
    response = embedded.set_key(**params)
    assert response.code == 400
    assert says in response.message
    assert response.output.success is False
    assert embedded.client().dbsize() == 0


def test_bad_input_message_never_echoes_the_value(embedded: RedisRoomsAddon) -> None:
    response = embedded.set_key("", "top-secret-value")
    assert response.code == 400
    assert "top-secret-value" not in response.message


def test_delete_reports_whether_the_key_existed(embedded: RedisRoomsAddon) -> None:
    embedded.set_key("k", "v")
    first, second = embedded.delete_key("k"), embedded.delete_key("k")
    assert (first.code, first.output.deleted) == (200, True)
    assert (second.code, second.output.deleted) == (200, False)
    assert second.output.key == "k"
    assert embedded.get_key("k").output.found is False


def test_list_keys_matches_pattern_sorted(embedded: RedisRoomsAddon) -> None:
    for key in ["session:2", "session:1", "api:1"]:
        embedded.set_key(key, "v")
    sessions = embedded.list_keys("session:*")
    assert sessions.output.keys == ["session:1", "session:2"]
    assert sessions.output.count == 2
    everything = embedded.list_keys()
    assert everything.output.keys == ["api:1", "session:1", "session:2"]
    assert everything.output.count == 3


def test_list_keys_empty_pattern_is_400(embedded: RedisRoomsAddon) -> None:
    response = embedded.list_keys("")
    assert response.code == 400
    assert response.output.keys is None  # a failed step lists nothing, not "no keys"


def test_wrong_type_is_409(embedded: RedisRoomsAddon) -> None:
    embedded.client().rpush("queue", "a")
    response = embedded.get_key("queue")
    assert response.code == 409
    assert "holds a Redis list" in response.message
    assert "read it with list_range" in response.message


def test_non_utf8_value_is_422_not_an_exception(embedded: RedisRoomsAddon) -> None:
    embedded.set_key("blob", b"\xff\xfe\x00binary")
    response = embedded.get_key("blob")
    assert response.code == 422
    assert "not UTF-8" in response.message
    assert response.output.found is None


def test_decode_responses_off_still_returns_text(make_addon) -> None:
    addon = make_addon(mode="embedded", decode_responses=False)
    addon.set_key("k", "välue")
    assert addon.get_key("k").output.value == "välue"
    assert addon.list_keys().output.keys == ["k"]


def test_key_prefix_namespaces_every_action(make_addon) -> None:
    addon = make_addon(mode="embedded", key_prefix="wf42:")
    addon.set_key("a", "1")
    raw = addon.client()
    raw.set("outside", "x")
    raw.set("wf42X", "x")
    assert raw.get("wf42:a") == "1"
    assert addon.get_key("a").output.value == "1"
    listed = addon.list_keys("*")
    assert listed.output.keys == ["a"]
    assert addon.get_key("outside").output.found is False
    assert addon.delete_key("a").output.deleted is True
    assert raw.exists("outside", "wf42X") == 2


def test_key_prefix_with_glob_characters_is_literal(make_addon) -> None:
    addon = make_addon(mode="embedded", key_prefix="t[1]*:")
    addon.set_key("a", "1")
    addon.client().set("t1x:b", "no")
    assert addon.list_keys("*").output.keys == ["a"]
