"""Shared fixtures: the ``store`` fixture runs each test on SQLite and on PostgreSQL.

PostgreSQL is at ``AGENTDECK_TEST_PG_URL`` (default the local server, database ``test``);
each test gets a schema of its own, dropped afterwards. Where PostgreSQL is unreachable the
PostgreSQL half skips with the reason, unless ``AGENTDECK_REQUIRE_POSTGRES=1``, where it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from agentdeck.store import SqlStore
from agentdeck.store.engine import create_store_engine

PG_URL = os.environ.get(
    "AGENTDECK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_pg_state: dict[str, str | None] = {}


def _pg_unreachable_reason() -> str | None:
    if "reason" not in _pg_state:
        try:
            eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                conn.execute(text("SELECT 1"))
            eng.dispose()
            _pg_state["reason"] = None
        except Exception as exc:
            _pg_state["reason"] = (
                f"PostgreSQL unreachable at {PG_URL}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            )
    return _pg_state["reason"]


def require_postgres() -> None:
    reason = _pg_unreachable_reason()
    if reason is None:
        return
    if os.environ.get("AGENTDECK_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"AGENTDECK_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test; dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(create_store_engine(f"sqlite:///{tmp_path / 'agentdeck.db'}"))
    yield store
    store.close()


@pytest.fixture
def pg_store(pg_schema: str) -> Iterator[SqlStore]:
    store = SqlStore(create_store_engine(PG_URL, schema=pg_schema))
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> SqlStore:
    """The store under test, once per backend."""
    name = "sqlite_store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def clickhouse_store(tmp_path: Path) -> Iterator[SqlStore]:
    """Traces in ClickHouse's own engine in-process (chdb-core), each test in a database of
    its own (dropped afterwards); the control plane on SQLite."""
    pytest.importorskip("chdb", reason="chdb-core is not installed (pip install -e '.[dev]')")
    from agentdeck.store.clickhouse import CompositeStore, open_clickhouse_traces

    traces = open_clickhouse_traces(f"chdb://?database=t_{uuid.uuid4().hex[:12]}")
    store = CompositeStore(create_store_engine(f"sqlite:///{tmp_path / 'control.db'}"), traces)
    yield store
    traces.drop()
    store.close()


@pytest.fixture(params=["sqlite", "postgres", "clickhouse"])
def trace_store(request: pytest.FixtureRequest) -> SqlStore:
    """A store for the trace-store tests, once per trace backend (ClickHouse: chdb)."""
    return request.getfixturevalue(f"{request.param.replace('postgres', 'pg')}_store")  # type: ignore[no-any-return]


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for subprocess/CLI tests (SQLite file)."""
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture(scope="session")
def _spec_cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("agentdeck-cache")


@pytest.fixture(autouse=True)
def _spec_cache_per_test(_spec_cache_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test has its own on-disk spec/policy cache (``AGENTDECK_CACHE_DIR``, created only
    when written): a spec cached by one test's server is never served to another's."""
    monkeypatch.setenv("AGENTDECK_CACHE_DIR", str(_spec_cache_root / uuid.uuid4().hex))
