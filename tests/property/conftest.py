"""Hypothesis profiles: CI runs a fixed, bounded search; bench/property_search.py a longer one."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.property.world import World, build_world

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("KOOPBOT_PROPERTY_EXAMPLES", "30")),
    derandomize=True,  # the same examples on every run: a failure in CI is reproducible
    database=None,
    deadline=None,  # a busy CI machine; speed is measured in bench/, not here
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "search",
    max_examples=int(os.environ.get("KOOPBOT_PROPERTY_EXAMPLES", "500")),
    derandomize=False,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile(os.environ.get("KOOPBOT_PROPERTY_PROFILE", "ci"))


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(Path(tmp_path_factory.mktemp("property")))
    yield built
    logging.getLogger().removeHandler(built.errors)
    built.db.dispose()
