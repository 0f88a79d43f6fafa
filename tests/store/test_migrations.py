"""Migrations: applied on first use, the heads agree with Alembic, the schema matches tables.py,
a second open does not migrate again, a database at the previous heads upgrades keeping its rows,
and the SQLite default lives under ``.agentdeck/`` in WAL mode.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from migration_support import alembic
from sqlalchemy import insert, inspect, text
from sqlalchemy.engine import Engine

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
    # (SQLite's FTS5 index of search_docs, migration 0017_search: a virtual table and its
    # shadow tables, outside the metadata)
    live = {t for t in insp.get_table_names() if not t.startswith("search_fts")}
    live -= {"alembic_version"}
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


# -- upgrading a database that was already in use ---------------------------------------------

_NEW = "0009_approval_owner"  # approvals.requested_by, on top of the policy branch


def _previous_heads() -> frozenset[str]:
    return (migrate_mod.script_heads() - {_NEW}) | {"0003_policy"}


def test_the_requested_by_revision_sits_on_the_policy_branch() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", migrate_mod.script_location())
    rev = ScriptDirectory.from_config(cfg).get_revision(_NEW)
    assert rev is not None and rev.down_revision == "0003_policy"
    assert _NEW in migrate_mod.script_heads() and "0003_policy" not in migrate_mod.script_heads()


def test_upgrading_from_the_previous_heads_keeps_existing_approvals(bare_engine: Engine) -> None:
    from alembic import command

    from agentdeck.policy import approvals as approvals_mod
    from agentdeck.store.tables_policy import approvals

    alembic(bare_engine, command.upgrade, *sorted(_previous_heads()))
    assert migrate_mod.current_revisions(bare_engine) == _previous_heads()
    assert "requested_by" not in {c["name"] for c in inspect(bare_engine).get_columns("approvals")}
    at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    with bare_engine.begin() as conn:  # a row as the old schema held it: no requested_by
        conn.execute(
            insert(approvals).values(
                id="apr_0123456789abcdef", status="pending", tool="issue_refund",
                args='{"amount": 250}', policy_name="support-refunds", policy_version=1,
                policy_digest="sha256:" + "0" * 64, rules='["refund-needs-approval"]',
                message="needs a supervisor", requested_at=at,
                expires_at=at + timedelta(seconds=300),
            )
        )  # fmt: skip

    upgraded = SqlStore(bare_engine)  # opening the store migrates to every head
    assert migrate_mod.current_revisions(bare_engine) == migrate_mod.script_heads()
    old = upgraded.get_approval("apr_0123456789abcdef")
    assert old is not None and old.requested_by is None
    assert (old.status, old.tool, old.args, old.rules) == (
        "pending", "issue_refund", {"amount": 250}, ("refund-needs-approval",))  # fmt: skip
    assert (old.requested_at, old.expires_at) == (at, at + timedelta(seconds=300))
    request = approvals_mod.ApprovalRequest(
        tool="t", args={}, policy_name="p", policy_version=1, policy_digest="sha256:x",
        rules=("r",), message="m", explanation="",
    )  # fmt: skip
    new = approvals_mod.open_request(upgraded, request, 60, requested_by="k_0a1b2c3d4e5f")
    assert upgraded.get_approval(new.id).requested_by == "k_0a1b2c3d4e5f"  # type: ignore[union-attr]

    alembic(bare_engine, command.downgrade, f"{_NEW}@-1")  # and back: the rows stay
    assert "requested_by" not in {c["name"] for c in inspect(bare_engine).get_columns("approvals")}
    with bare_engine.connect() as conn:
        ids = {r[0] for r in conn.execute(text("SELECT id FROM approvals"))}
    assert ids == {"apr_0123456789abcdef", new.id}
