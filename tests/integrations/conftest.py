"""Every integration test also checks that recording raised no internal telemetry error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentdeck.tracing.sdk import recorder


@pytest.fixture(autouse=True)
def no_telemetry_errors() -> Iterator[None]:
    before = recorder.internal_errors()
    yield
    assert recorder.internal_errors() == before, "an integration hit an internal telemetry error"
