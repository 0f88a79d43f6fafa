"""Migrations: applied on first use, the heads agree with Alembic, the schema matches tables.py,
a second open does not migrate again, and the SQLite default lives under ``.agentdeck/`` in WAL mode.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from agentdeck.store import SqlStore, open_store
from agentdeck.store import migrate as migrate_mod
from agentdeck.store.engine import (
    DEFAULT_DIR,
    DEFAULT_FILE,
    create_store_engine,
    default_database_url,
)
from agentdeck.store.tables import metadata
from foundation import root_conftest


def test_script_heads_are_the_alembic_heads() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", migrate_mod.script_location())
    script = ScriptDirectory.from_config(cfg)
    assert migrate_mod.script_heads() == frozenset(script.get_heads())
    assert migrate_mod.script_heads()  # at least one head
    # Every revision descends from the registry's base migration: one history.
    assert {r.revision for r in script.walk_revisions() if r.down_revision is None} == {"0001"}


def test_first_use_migrates_to_every_head(store: SqlStore) -> None:
    assert migrate_mod.current_revisions(store.engine) == migrate_mod.script_heads()


def _all_table_modules() -> None:
    """Import ``store/tables.py`` and the per-capability ``store/tables_*.py`` modules: each
    adds its tables to the one shared ``metadata``."""
    import importlib
    import pkgutil

    import agentdeck.store

    for info in pkgutil.iter_modules(agentdeck.store.__path__):
        if info.name == "tables" or info.name.startswith("tables_"):
            importlib.import_module(f"agentdeck.store.{info.name}")


def test_migrated_schema_matches_tables_metadata(store: SqlStore) -> None:
    _all_table_modules()
    insp = inspect(store.engine)
    live = set(insp.get_table_names()) - {"alembic_version"}
    assert live == set(metadata.tables)
    for name, table in metadata.tables.items():
        columns = {c["name"] for c in insp.get_columns(name)}
        assert columns == {c.name for c in table.columns}, name
        pk = set(insp.get_pk_constraint(name)["constrained_columns"])
        assert pk == {c.name for c in table.primary_key.columns}, name
        uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints(name)}
        expected = {
            tuple(c.name for c in u.columns)
            for u in table.constraints
            if u.__class__.__name__ == "UniqueConstraint"
        }
        assert expected <= uniques, name


def test_second_open_does_not_migrate_again(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command

    calls: list[str] = []
    monkeypatch.setattr(command, "upgrade", lambda cfg, rev: calls.append(rev))
    again = SqlStore(
        create_store_engine(
            store.engine.url.render_as_string(hide_password=False), schema=_schema_of(store)
        )
    )
    try:
        assert calls == []
        assert migrate_mod.current_revisions(again.engine) == migrate_mod.script_heads()
    finally:
        again.close()


def test_fresh_database_runs_the_migrations_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command

    real = command.upgrade
    calls: list[str] = []

    def counting(cfg: object, rev: str) -> None:
        calls.append(rev)
        real(cfg, rev)  # type: ignore[arg-type]

    monkeypatch.setattr(command, "upgrade", counting)
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    open_store(url).close()
    open_store(url).close()
    assert calls == ["heads"]


def _schema_of(store: SqlStore) -> str | None:
    if store.engine.dialect.name == "sqlite":
        return None
    with store.engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def test_sqlite_default_path_under_cwd_with_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTDECK_DATABASE_URL", raising=False)
    assert default_database_url() == f"sqlite:///{tmp_path / DEFAULT_DIR / DEFAULT_FILE}"
    store = open_store()
    try:
        assert (tmp_path / ".agentdeck" / "agentdeck.db").is_file()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        store.close()


def test_database_url_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("AGENTDECK_DATABASE_URL", url)
    assert default_database_url() == url


def test_unsupported_backend_is_a_store_error() -> None:
    from agentdeck.core.errors import StoreError

    with pytest.raises(StoreError, match="unsupported backend 'mysql'"):
        create_store_engine("mysql://localhost/x")
    with pytest.raises(StoreError, match="not a database URL"):
        create_store_engine("::nonsense::")


# -- the store fixture itself ----------------------------------------------------------------


def test_postgres_half_skips_with_the_reason_when_unreachable(
    monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config
) -> None:
    conftest = root_conftest(pytestconfig)

    monkeypatch.setitem(conftest._pg_state, "reason", "PostgreSQL unreachable at x: refused")
    monkeypatch.delenv("AGENTDECK_REQUIRE_POSTGRES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="unreachable at x"):
        conftest.require_postgres()


def test_postgres_half_fails_when_required_and_unreachable(
    monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config
) -> None:
    conftest = root_conftest(pytestconfig)

    monkeypatch.setitem(conftest._pg_state, "reason", "PostgreSQL unreachable at x: refused")
    monkeypatch.setenv("AGENTDECK_REQUIRE_POSTGRES", "1")
    with pytest.raises(pytest.fail.Exception, match="AGENTDECK_REQUIRE_POSTGRES=1"):
        conftest.require_postgres()


def test_each_postgres_test_has_its_own_schema(pg_store: SqlStore) -> None:
    schema = _schema_of(pg_store)
    assert schema is not None and schema.startswith("t_")
    assert "agent_versions" in inspect(pg_store.engine).get_table_names(schema=schema)
