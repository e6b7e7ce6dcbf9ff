"""The sentinels' failover announcements, as services.failover reads them."""

from __future__ import annotations

import pytest

from redis_rooms_pkg.services.failover import parse_announcement


@pytest.mark.parametrize(
    ("channel", "data", "expected"),
    [
        (
            "+switch-master",
            "rooms 127.0.0.1 6379 127.0.0.1 6380",
            ("rooms", ("127.0.0.1", 6379), ("127.0.0.1", 6380)),
        ),
        (
            "+promoted-slave",
            "slave 127.0.0.1:6380 127.0.0.1 6380 @ rooms 127.0.0.1 6379",
            ("rooms", ("127.0.0.1", 6379), ("127.0.0.1", 6380)),
        ),
        (
            "+selected-slave",
            "slave 127.0.0.1:6380 127.0.0.1 6380 @ rooms 127.0.0.1 6379",
            ("rooms", ("127.0.0.1", 6379), None),
        ),
        ("+try-failover", "master rooms 127.0.0.1 6379", ("rooms", ("127.0.0.1", 6379), None)),
        ("+try-failover", "garbled", ("", None, None)),
        ("+selected-slave", "slave @ rooms", ("", None, None)),
    ],
)
def test_announcements_name_service_and_primaries(
    channel: str, data: str, expected: tuple[object, ...]
) -> None:
    assert parse_announcement(channel, data) == expected
