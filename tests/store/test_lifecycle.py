"""Retention and deletion on both backends: ``retention.days`` is validated (``-1`` names the
field and changes nothing), ``expire_runs`` deletes per env only the runs older than its
retention (dry run first), audited as ``runs.expire``; the server's retention loop does the
same on its own; a deleted run leaves nothing behind in any table that held it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from agentdeck.core.deploy.model import GateConfig
from agentdeck.core.errors import InputError
from agentdeck.core.trace.lifecycle import retention_days
from agentdeck.core.trace.model import Run, SpanStatus
from agentdeck.registry.deployments import Deployments
from agentdeck.server.retention_loop import RetentionLoop
from agentdeck.store import SqlStore
from agentdeck.store.tables import metadata
from agentdeck.tracing.lifecycle.erase import expire_runs

DAY = 86_400 * 1_000_000_000
NOW = 1_800_000_000 * 1_000_000_000


def _run(i: int, env: str, age_days: float) -> Run:
    start = NOW - int(age_days * DAY)
    return Run(f"{i:032x}", "bot", 1, None, env, None, start, start + 10, SpanStatus.OK,
               input=f"question {i}", attributes={"tags": ["t"]})  # fmt: skip


@pytest.mark.parametrize("bad", [-1, 0, 1.5, "7", True, 10**6])
def test_retention_days_must_be_a_whole_number_of_days(store: SqlStore, bad: object) -> None:
    svc = Deployments(store, gates=[])
    with pytest.raises(InputError, match=r"^production: retention.days: expected a whole number"):
        svc.set_gate_config(GateConfig("production", {"retention": {"days": bad}}))
    assert "retention" not in store.get_gate_config("production").settings
    with pytest.raises(InputError, match=r"retention.weeks: unknown key"):
        retention_days({"retention": {"weeks": 2}}, "production")


def _load(store: SqlStore) -> None:
    store.write_batch(
        [_run(1, "production", 40), _run(2, "production", 10), _run(3, "staging", 40),
         _run(4, "dev", 400), _run(5, "production", 31)], [])  # fmt: skip
    svc = Deployments(store, gates=[])
    svc.set_gate_config(GateConfig("production", {"retention": {"days": 30}}))
    svc.set_gate_config(GateConfig("staging", {"retention": {"days": 60}}))


def _left(store: SqlStore) -> set[int]:
    from agentdeck.core.trace.query import RunQuery

    return {int(r.trace_id, 16) for r in store.find_runs(RunQuery(limit=100))}


def test_expire_deletes_per_env_only_what_is_older_than_its_retention(store: SqlStore) -> None:
    _load(store)
    dry = expire_runs(store, NOW, "tester", dry_run=True)
    assert [(r.what, r.runs, r.dry_run) for r in dry] == [
        ("env staging", 0, True), ("env production", 2, True)]  # fmt: skip
    assert _left(store) == {1, 2, 3, 4, 5}
    before = len(store.audit_entries())
    done = {r.what: r.runs for r in expire_runs(store, NOW, "tester")}
    assert done == {"env production": 2, "env staging": 0}
    assert _left(store) == {2, 3, 4}  # dev has no retention: kept at 400 days
    expired = [e for e in store.audit_entries()[before:] if e.action == "runs.expire"]
    assert len(expired) == 1 and expired[0].payload["runs"] == 2
    assert expired[0].payload["selection"]["retention_days"] == 30


def test_deleted_runs_leave_no_row_in_any_table(store: SqlStore) -> None:
    _load(store)
    expire_runs(store, NOW, "tester")
    gone = {f"{1:032x}", f"{5:032x}"}
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for col in ("trace_id", "source_trace_id", "replay_trace_id"):
                if col in table.c:
                    n = conn.execute(
                        select(func.count()).select_from(table).where(table.c[col].in_(gone))
                    ).scalar_one()
                    assert n == 0, (table.name, col)


def test_server_retention_loop_expires_on_its_own(store: SqlStore) -> None:
    _load(store)
    loop = RetentionLoop(store, 0.05, clock=lambda: NOW)
    loop.start()
    try:
        deadline = time.monotonic() + 20
        while loop.passes < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        loop.close()
    assert loop.errors == 0 and loop.deleted == 2
    assert _left(store) == {2, 3, 4}
