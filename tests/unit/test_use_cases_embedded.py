"""The README's use-case workflows on the embedded Redis; the cases live in use_case_cases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from use_case_cases import *  # noqa: F403 - the shared cases, collected here
from use_case_cases import FlowAddons, flow_addons_with


@pytest.fixture
def flow_addons() -> Iterator[FlowAddons]:
    """The workflow's own addon entries, switched to the in-process embedded Redis."""
    yield from flow_addons_with(lambda config: {**config, "mode": "embedded"})
