"""Fixtures for the eval tests: the example support bot registered in a store, the SDK
recording into that store (shut down after each test), and pytest's ``pytester`` (enabled in the pytest settings)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest_helpers import EXAMPLE, register_example

from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk


@pytest.fixture(autouse=True)
def _example_on_path() -> Iterator[None]:
    """The example's package importable, and its provider reset, for every test here."""
    sys.path.insert(0, str(EXAMPLE))
    from support_bot import shop

    shop.PROVIDER.reset()
    try:
        yield
    finally:
        sys.path.remove(str(EXAMPLE))


@pytest.fixture
def recording(store: SqlStore, tmp_path: Path) -> Iterator[Registry]:
    """The example registered in ``store`` and the SDK writing to it (no policy guard)."""
    reg = register_example(store)
    sdk.init(
        sink=store, resolver=CachingResolver(reg), spill_dir=tmp_path / "spill", schedule_delay=0.05
    )
    try:
        yield reg
    finally:
        sdk.shutdown()
