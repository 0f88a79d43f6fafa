"""Fixtures of the store tests: an empty database per backend for the migration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from agentdeck.store.engine import create_store_engine
from foundation import root_conftest


@pytest.fixture(params=["sqlite", "postgres"])
def bare_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database (no migrations run), once per backend."""
    if request.param == "sqlite":
        engine = create_store_engine(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        pg_url = root_conftest(request.config).PG_URL
        engine = create_store_engine(pg_url, schema=request.getfixturevalue("pg_schema"))
    yield engine
    engine.dispose()
