"""``audit verify`` on both backends: tampering done with raw SQL in the database is found.

The CLI is pointed at the same database (for PostgreSQL, the test's schema goes in the URL's
``options``), so the exit codes are checked on both backends too.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from agentdeck.cli.main import main
from agentdeck.registry.audit import verify_audit
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from foundation import make_spec


def _history(store: SqlStore) -> None:
    """Five audit entries: two registrations, three deployments."""
    reg = Registry(store)
    reg.register_agent(make_spec(prompt="one"), "alice")
    reg.register_agent(make_spec(prompt="two"), "alice")
    svc = Deployments(store, reg)
    svc.promote("bot@1", "dev", "bob")
    svc.promote("bot@1", "staging", "bob")
    svc.promote("bot@2", "dev", "bob")
    assert [e.seq for e in store.audit_entries()] == [1, 2, 3, 4, 5]


def _cli_url(store: SqlStore) -> str:
    url = store.engine.url.render_as_string(hide_password=False)
    if store.engine.dialect.name == "sqlite":
        return url
    with store.engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return f"{url}?options=-csearch_path%3D{schema}"


def _cli_verify(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["audit", "verify", "--db", _cli_url(store)])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return int(info.value.code or 0), out.out


def _tamper(store: SqlStore, *statements: str) -> None:
    with store.engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql))


def test_clean_chain_verifies(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    _history(store)
    report = verify_audit(store, deployments=False)
    assert report.ok and report.entries == 5
    code, out = _cli_verify(store, capsys)
    assert code == 0 and "audit chain verifies: 5 entries" in out


def test_modified_entry_is_detected(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    _history(store)
    _tamper(store, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    report = verify_audit(store, deployments=False)
    assert [(p.seq, "modified" in p.problem) for p in report.problems] == [(3, True)]
    code, out = _cli_verify(store, capsys)
    assert code == 1 and "BROKEN" in out and "entry 3" in out


def test_modified_payload_is_detected(store: SqlStore) -> None:
    _history(store)
    with store.engine.begin() as conn:
        changed = conn.execute(
            text("UPDATE audit_log SET payload = REPLACE(payload, :a, :b) WHERE seq = 4"),
            {"a": '"forced":false', "b": '"forced":true'},
        )
        assert changed.rowcount == 1
    assert store.audit_entries()[3].payload["forced"] is True
    assert [p.seq for p in verify_audit(store, deployments=False).problems] == [4]


def test_deleted_entry_is_detected(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    _history(store)
    _tamper(store, "DELETE FROM audit_log WHERE seq = 2")
    report = verify_audit(store, deployments=False)
    assert not report.ok and report.entries == 4
    assert any(p.seq == 3 and "deleted" in p.problem for p in report.problems)
    code, _ = _cli_verify(store, capsys)
    assert code == 1


def test_deleted_tail_is_detected(store: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    _history(store)
    _tamper(store, "DELETE FROM audit_log WHERE seq = 5")
    report = verify_audit(store, deployments=False)
    assert [p.seq for p in report.problems] == [5] and "tail" in report.problems[0].problem
    code, _ = _cli_verify(store, capsys)
    assert code == 1


def test_reordered_entries_are_detected(
    store: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(store)
    # Swap the positions of entries 2 and 3 (their seq columns), rows otherwise untouched.
    _tamper(
        store,
        "UPDATE audit_log SET seq = -1 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = -1",
    )
    report = verify_audit(store, deployments=False)
    assert not report.ok
    assert {p.seq for p in report.problems} >= {2, 3}
    code, _ = _cli_verify(store, capsys)
    assert code == 1


def test_swapped_contents_are_detected(store: SqlStore) -> None:
    _history(store)
    # Exchange every column but seq between entries 3 and 4: same seq order, contents swapped.
    cols = "at, actor, action, subject, payload, prev_hash, hash"
    with store.engine.begin() as conn:
        rows = {
            r.seq: r
            for r in conn.execute(text(f"SELECT seq, {cols} FROM audit_log WHERE seq IN (3, 4)"))
        }
        assignments = ", ".join(f"{c} = :{c}" for c in cols.split(", "))
        for seq, other in ((3, 4), (4, 3)):
            values = {k: v for k, v in rows[other]._mapping.items() if k != "seq"}
            conn.execute(
                text(f"UPDATE audit_log SET {assignments} WHERE seq = :seq"), {**values, "seq": seq}
            )
    report = verify_audit(store, deployments=False)
    assert {p.seq for p in report.problems} >= {3, 4}
