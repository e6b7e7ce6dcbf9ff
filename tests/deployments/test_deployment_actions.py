"""The action-family cases (tests/actions/) and the README workflows
(tests/topics/test_use_cases.py) again, on a real Redis Cluster and through Sentinel: same calls,
same outputs.

Each case is imported by name; ``backend`` is overridden here with the two deployments, so
``make``, ``addon``, ``prefixed``, ``limited`` (tests/backends.py) and ``flow_addons`` give each
case once on the cluster and once through Sentinel. A new family case that should hold
on those deployments too is added to these imports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conftest import PASSWORD, SENTINEL_PASSWORD
from test_counters import (  # noqa: F401 - collected here, per deployment
    test_increment_creates_with_ttl_then_counts,
    test_increment_float_and_template_strings,
    test_increment_refuses_non_numbers,
    test_increment_without_ex_never_expires,
    test_rate_limit_allows_limit_then_denies,
    test_rate_limit_bad_input,
    test_rate_limit_window_slides,
)
from test_guardrails import (  # noqa: F401 - collected here, per deployment
    test_default_max_value_bytes_is_one_mebibyte,
    test_key_prefix_confines_every_action,
    test_max_value_bytes_refuses_large_values,
    test_read_only_refuses_every_write,
    test_read_only_still_reads,
)
from test_hashes import (  # noqa: F401 - collected here, per deployment
    test_hash_bad_input_and_wrong_type,
    test_hash_get_missing_is_found_false,
    test_hash_set_get_delete,
    test_hash_set_refuses_a_value_over_the_limit,
)
from test_history import (  # noqa: F401 - collected here, per deployment
    test_history_append_get_clear,
    test_history_append_refuses_a_message_over_the_limit,
    test_history_bad_input,
    test_history_trims_and_ttl_slides,
)
from test_keyspace import (  # noqa: F401 - collected here, per deployment
    test_delete_everything_needs_allow_all,
    test_delete_matching,
    test_delete_matching_pattern_is_required,
    test_delete_matching_stops_at_limit,
    test_list_accepts_a_numeric_cursor,
    test_list_bad_paging_is_400,
    test_list_default_limit_is_1000_and_says_truncated,
    test_list_pages_through_every_key_once,
    test_list_with_values,
)
from test_lists import (  # noqa: F401 - collected here, per deployment
    test_list_pop_bad_input,
    test_list_pop_puts_back_values_that_are_not_text,
    test_list_pop_takes_in_order,
    test_list_pop_wait_with_ready_values_returns_them,
    test_list_pop_waits_then_gives_up,
    test_list_push_max_length_keeps_the_newest,
    test_list_push_orders_encodes_and_expires,
    test_list_push_refuses_a_value_over_the_limit,
    test_list_push_refuses_bad_input_and_wrong_type,
    test_list_range_and_length,
)
from test_locks import (  # noqa: F401 - collected here, per deployment
    test_lock_acquire_release_extend,
    test_lock_bad_input,
    test_lock_wait_gets_it_when_it_expires,
    test_lock_wait_gives_up,
)
from test_pubsub import (  # noqa: F401 - collected here, per deployment
    test_publish_reaches_a_subscriber_under_the_prefix,
    test_publish_refuses_a_message_over_the_limit,
)
from test_strings import (  # noqa: F401 - collected here, per deployment
    test_base64_is_binary_safe_with_decode_responses_off,
    test_conflicting_set_options_are_400_and_write_nothing,
    test_delete_needs_exactly_one_of_key_or_keys,
    test_delete_one_key_counts_it,
    test_delete_several_keys,
    test_exists_key,
    test_expire_key_ex_px_and_persist,
    test_expire_missing_key,
    test_expire_needs_exactly_one_change,
    test_get_many,
    test_get_previous_of_binary_value_with_base64,
    test_get_previous_returns_the_old_value,
    test_get_ttl,
    test_get_with_ttl,
    test_invalid_base64_input_is_400,
    test_invalid_json_is_422,
    test_json_encoding_round_trips_any_json_value,
    test_keep_ttl_keeps_the_expiry,
    test_key_type_names_the_type_and_its_reader,
    test_nx_race_exactly_one_writer,
    test_nx_writes_only_an_absent_key,
    test_random_bytes_round_trip_through_base64,
    test_set_many,
    test_set_many_bad_input_writes_nothing,
    test_set_many_base64,
    test_set_many_nx_leaves_existing_keys_alone,
    test_set_many_with_ex_sets_every_ttl,
    test_set_px_sets_a_millisecond_ttl_in_one_command,
    test_xx_writes_only_an_existing_key,
)
from test_use_cases import (  # noqa: F401 - collected here, per deployment
    FlowAddons,
    flow_addons_with,
    test_agent_memory_flow_remembers_the_conversation,
    test_api_caching_flow,
    test_idempotent_flow_skips_the_charge_while_another_run_holds_the_lock,
    test_rate_limiting_flow_lets_ten_calls_a_minute_through,
    test_session_management_flow,
    test_work_queue_consumer_waits_for_the_next_job,
    test_work_queue_flows_hand_jobs_from_one_workflow_to_another,
)

pytestmark = pytest.mark.integration  # the cluster and sentinel fixtures start real servers

SERVICE = {"mode": "sentinel", "sentinel_master": "rooms"}


@pytest.fixture(params=["cluster", "sentinel"])
def backend(request: pytest.FixtureRequest) -> str:
    """The deployments the family cases re-run on (``make`` and ``addon`` follow it)."""
    return request.param


@pytest.fixture
def flow_addons(backend: str, request: pytest.FixtureRequest) -> Iterator[FlowAddons]:
    """The workflows' own addon entries with only the mode and nodes (or sentinels) changed."""
    if backend == "cluster":
        nodes = request.getfixturevalue("cluster").startup_nodes

        def retarget(config: dict) -> dict:
            config = {k: v for k, v in config.items() if k not in ("host", "port", "db")}
            return {**config, "mode": "cluster", "startup_nodes": nodes}

        yield from flow_addons_with(retarget, redis_password=PASSWORD)
        return
    sentinels = request.getfixturevalue("sentinel_primary").addresses

    def to_sentinel(config: dict) -> dict:
        config = {k: v for k, v in config.items() if k not in ("host", "port")}
        return {**config, **SERVICE, "sentinels": sentinels}

    yield from flow_addons_with(
        to_sentinel, redis_password=PASSWORD, redis_sentinel_password=SENTINEL_PASSWORD
    )
