"""Migration 0022_audit_project on both backends: the audit entries stored before it get the
project their hashed payload names (``default`` where it names none), the chain still
verifies, a project's log reads them, and it downgrades."""

from __future__ import annotations

import orjson
from migration_support import alembic
from sqlalchemy import column, insert, inspect, table
from sqlalchemy.engine import Engine

from agentdeck.core.deploy.audit_chain import GENESIS, entry_hash, verify_chain
from agentdeck.store import SqlStore
from agentdeck.store import migrate as migrate_mod

_NEW = "0022_audit_project"
_COLS = ("seq", "at", "actor", "action", "subject", "payload", "prev_hash", "hash")


def _old_chain() -> list[dict[str, object]]:
    """Three entries as stored before the migration: of default, of team-b, of default."""
    rows, prev = [], GENESIS
    payloads = [{"rules": 1}, {"rules": 2, "project": "team-b"}, {"path": ["dev"]}]
    for seq, payload in enumerate(payloads, start=1):
        at = f"2026-01-0{seq}T00:00:00.000000+00:00"
        h = entry_hash(seq, at, "t", "policy.register", f"p{seq}", payload, prev)
        rows.append(dict(zip(_COLS, (seq, at, "t", "policy.register", f"p{seq}",
                                     orjson.dumps(payload).decode(), prev, h), strict=True)))  # fmt: skip
        prev = h
    return rows


def test_stored_entries_get_the_project_their_payload_names(bare_engine: Engine) -> None:
    from alembic import command

    before = (migrate_mod.script_heads() - {_NEW}) | {"0021_projects"}
    alembic(bare_engine, command.upgrade, *sorted(before))
    assert "project" not in {c["name"] for c in inspect(bare_engine).get_columns("audit_log")}
    rows = _old_chain()
    with bare_engine.begin() as conn:
        conn.execute(insert(table("audit_log", *(column(c) for c in _COLS))), rows)
        head = table("audit_head", column("id"), column("seq"), column("hash"))
        conn.execute(insert(head), [{"id": 1, "seq": 3, "hash": rows[-1]["hash"]}])
    store = SqlStore(bare_engine)  # migrates to every head
    assert migrate_mod.current_revisions(bare_engine) == migrate_mod.script_heads()
    entries = store.audit_entries()
    assert [e.project for e in entries] == ["default", "team-b", "default"]
    assert verify_chain(entries, store.audit_head()) == []
    assert [e.subject for e in store.audit_log("team-b", 10)] == ["p2"]
    assert [e.subject for e in store.audit_log("default", 10)] == ["p1", "p3"]

    alembic(bare_engine, command.downgrade, "0021_projects")
    assert "project" not in {c["name"] for c in inspect(bare_engine).get_columns("audit_log")}
