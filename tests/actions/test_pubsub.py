"""Pub/sub: publish. Cases take ``prefixed`` / ``limited`` (key_prefix PREFIX, both backends,
tests/backends.py)."""

from __future__ import annotations

import json
import time

from action_support import LIMIT, PREFIX, failed, ok
from redis_rooms_pkg.addon import RedisRoomsAddon


def test_publish_reaches_a_subscriber_under_the_prefix(prefixed: RedisRoomsAddon) -> None:
    pubsub = prefixed.client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(PREFIX + "events")
    try:
        out = ok(prefixed.publish("events", {"order": 7, "status": "paid"}))
        assert (out.channel, out.receivers) == ("events", 1)
        assert ok(prefixed.publish("elsewhere", "x")).receivers == 0
        message = None
        deadline = time.monotonic() + 5
        while message is None and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.1)
        assert message is not None
        assert json.loads(message["data"]) == {"order": 7, "status": "paid"}
    finally:
        pubsub.close()
    failed(prefixed.publish("", "x"), 400)
    failed(prefixed.publish("events", None), 400)


def test_publish_refuses_a_message_over_the_limit(limited: RedisRoomsAddon) -> None:
    failed(limited.publish("events", "é" * (LIMIT // 2 + 1)), 413)  # counted in UTF-8 bytes
