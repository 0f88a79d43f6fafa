"""Migration 0021_projects on both backends: what was stored before it (agents, policies, runs,
keys) moves into the project ``default``, which it creates; old keys keep working unchanged;
it downgrades."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from migration_support import alembic
from sqlalchemy import column, insert, inspect, table
from sqlalchemy.engine import Engine

from agentdeck.core.trace.query import RunQuery
from agentdeck.registry.keys import authenticate, hash_secret
from agentdeck.store import SqlStore
from agentdeck.store import migrate as migrate_mod

_NEW = "0021_projects"
_AFTER = ("0022_audit_project",)  # the migrations that build on it


def _t(name: str, *cols: str) -> Any:
    return table(name, *(column(c) for c in cols))


def test_existing_records_move_into_default_and_old_keys_keep_working(
    bare_engine: Engine,
) -> None:
    from alembic import command

    before = (migrate_mod.script_heads() - {_NEW, *_AFTER}) | {"0011_sessions_scopes"}
    alembic(bare_engine, command.upgrade, *sorted(before))
    assert "projects" not in inspect(bare_engine).get_table_names()
    now = datetime.now(UTC)
    with bare_engine.begin() as conn:
        conn.execute(
            insert(_t("runs", "trace_id", "agent_name", "start_ns", "status")),
            [{"trace_id": "a" * 32, "agent_name": "bot", "start_ns": 1, "status": "ok"}],
        )
        key_cols = ("id", "name", "secret_hash", "scopes", "created_at", "created_by")
        key = ("k1", "old", hash_secret("s3cret"), "read", now, "t")
        conn.execute(insert(_t("api_keys", *key_cols)), [dict(zip(key_cols, key, strict=True))])
    store = SqlStore(bare_engine)  # migrates to every head
    assert migrate_mod.current_revisions(bare_engine) == migrate_mod.script_heads()
    assert [p.name for p in store.list_projects()] == ["default"]
    run = store.get_run("a" * 32)
    assert run is not None and run.project == "default"
    assert [r.trace_id for r in store.find_runs(RunQuery(project="default"))] == ["a" * 32]
    assert store.find_runs(RunQuery(project="other")) == []
    principal = authenticate(store, "ak_k1_s3cret")
    assert principal is not None
    assert (principal.project, principal.all_projects) == ("default", False)
    key = store.get_api_key("k1")
    assert key is not None and key.project == "default"

    alembic(bare_engine, command.downgrade, "0011_sessions_scopes")
    insp = inspect(bare_engine)
    assert "projects" not in insp.get_table_names()
    for name in ("runs", "agent_versions", "policy_versions", "api_keys"):
        assert "project" not in {c["name"] for c in insp.get_columns(name)}, name


def test_names_belong_to_the_project_that_registered_them_first(store: SqlStore) -> None:
    from agentdeck.core.errors import OwnedElsewhere
    from agentdeck.registry.projects import create_project
    from agentdeck.registry.service import Registry
    from foundation import make_spec

    create_project(store, "team-b", "test")
    registry = Registry(store)
    registry.register_agent(make_spec("alpha"), project="default")
    registry.register_agent(make_spec("beta"), project="team-b")
    with pytest.raises(OwnedElsewhere, match="name: agent 'alpha' belongs to another project"):
        registry.register_agent(make_spec("alpha", prompt="other"), project="team-b")
    assert store.list_agent_names("default") == ["alpha"]
    assert store.list_agent_names("team-b") == ["beta"]
    assert store.list_agent_names() == ["alpha", "beta"]
    assert (store.agent_project("alpha"), store.agent_project("nobody")) == ("default", None)
