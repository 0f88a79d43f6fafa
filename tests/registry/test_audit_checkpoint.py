"""Signed checkpoints of the audit chain, on both backends: a database owner who rewrites the
chain with recomputed hashes, truncates it or deletes it whole passes the hash check, but not
``audit verify --checkpoint``; and every deployment row is checked against the chain.

Tampering is raw SQL on the database; the CLI runs against the same database.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import orjson
import pytest
from sqlalchemy import text
from test_audit_verify import _cli_url, _history, _tamper

from agentdeck.cli.main import main
from agentdeck.core.deploy.audit_chain import GENESIS, entry_hash
from agentdeck.registry.audit import verify_audit
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from foundation import make_spec


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


@pytest.fixture
def key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "keys" / "audit.key"
    path.parent.mkdir()
    code, _, _ = _run(capsys, "audit", "keygen", "--key", str(path))
    assert code == 0
    return path


def _seeded(store: SqlStore) -> None:
    """Seven entries: two registrations, three deployments, two more registrations."""
    _history(store)
    reg = Registry(store)
    reg.register_agent(make_spec(name="other", prompt="one"), "alice")
    reg.register_agent(make_spec(name="other", prompt="two"), "alice")
    assert store.audit_head() is not None and store.audit_head()[0] == 7  # type: ignore[index]


def _checkpoint(store: SqlStore, key: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        capsys, "audit", "checkpoint", "--key", str(key), "--out", str(out), "--db", _cli_url(store)
    )
    assert code == 0, err
    assert "signed and published" in err


def _verify(store: SqlStore, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    code, out, _ = _run(capsys, "audit", "verify", "--json", "--db", _cli_url(store), *extra)
    return code, json.loads(out)


def _rewrite(store: SqlStore) -> None:
    """Change entry 1's actor and recompute every hash after it, and the head: a consistent
    chain that says something else."""
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"))
        rows = conn.execute(
            text("SELECT seq, at, actor, action, subject, payload FROM audit_log ORDER BY seq")
        ).all()
        prev = GENESIS
        for r in rows:
            h = entry_hash(r.seq, r.at, r.actor, r.action, r.subject, orjson.loads(r.payload), prev)
            conn.execute(
                text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": prev, "h": h, "s": r.seq},
            )
            prev = h
        conn.execute(
            text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": rows[-1].seq, "h": prev}
        )


def _truncate(store: SqlStore) -> None:
    """Drop the last two entries and move the head back: the shorter chain is consistent."""
    with store.engine.begin() as conn:
        h5 = conn.execute(text("SELECT hash FROM audit_log WHERE seq = 5")).scalar_one()
        conn.execute(text("DELETE FROM audit_log WHERE seq > 5"))
        conn.execute(text("UPDATE audit_head SET seq = 5, hash = :h"), {"h": h5})


def _delete_all(store: SqlStore) -> None:
    _tamper(
        store,
        "DELETE FROM audit_log",
        "DELETE FROM audit_head",
        "DELETE FROM env_heads",
        "DELETE FROM deployments",
    )


ATTACKS = {
    "rewrite": (_rewrite, "rewritten"),
    "truncate": (_truncate, "truncated"),
    "delete": (_delete_all, "wholesale deletion"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_checkpoint_catches_what_the_hash_chain_cannot(
    store: SqlStore, key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], attack: str
) -> None:
    _seeded(store)
    cps = tmp_path / "checkpoints.jsonl"
    _checkpoint(store, key, cps, capsys)
    assert _verify(store, capsys, "--checkpoint", str(cps))[0] == 0
    tamper, words = ATTACKS[attack]
    tamper(store)
    assert verify_audit(store).ok  # the chain alone (and the deployments) still verify
    code, report = _verify(store, capsys, "--checkpoint", str(cps), "--public-key", f"{key}.pub")
    assert code == 1 and not report["ok"]
    assert any(words in p["problem"] for p in report["problems"]), report


def test_every_checkpoint_in_the_file_must_hold_and_signatures_are_checked(
    store: SqlStore, key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(store)
    cps = tmp_path / "cps.jsonl"
    _checkpoint(store, key, cps, capsys)
    Registry(store).register_agent(make_spec(name="later"), "alice")
    _checkpoint(store, key, cps, capsys)
    code, report = _verify(store, capsys, "--checkpoint", str(cps), "--public-key", f"{key}.pub")
    assert code == 0 and report["checkpoints"] == 2 and report["entries"] == 6
    # a forged line (the head moved back) no longer matches its signature
    lines = cps.read_text().splitlines()
    forged = json.loads(lines[1]) | {"seq": 5}
    cps.write_text(lines[0] + "\n" + json.dumps(forged) + "\n")
    code, report = _verify(store, capsys, "--checkpoint", str(cps))
    assert code == 1 and "signature does not verify" in report["problems"][0]["problem"]
    # signed by somebody else's key: refused when the signer is pinned
    other = tmp_path / "other.key"
    assert _run(capsys, "audit", "keygen", "--key", str(other))[0] == 0
    theirs = tmp_path / "theirs.jsonl"
    _checkpoint(store, other, theirs, capsys)
    code, report = _verify(store, capsys, "--checkpoint", str(theirs), "--public-key", f"{key}.pub")
    assert code == 1 and "another key" in report["problems"][0]["problem"]


def test_keygen_writes_0600_and_never_overwrites(
    key: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert Path(f"{key}.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    before = key.read_bytes()
    code, _, err = _run(capsys, "audit", "keygen", "--key", str(key))
    assert code == 2 and "already exists" in err and key.read_bytes() == before
    code, _, err = _run(capsys, "audit", "verify", "--checkpoint", str(key))
    assert code == 2 and "not a checkpoint" in err and len(err.strip().splitlines()) == 1


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[bytes]]]:
    received: ClassVar[list[bytes]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/checkpoints", received
    server.shutdown()
    server.server_close()


def test_checkpoints_go_to_a_webhook_or_stdout(
    store: SqlStore,
    key: Path,
    tmp_path: Path,
    webhook: tuple[str, list[bytes]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _history(store)
    url, received = webhook
    code, _, err = _run(
        capsys, "audit", "checkpoint", "--key", str(key), "--webhook", url, "--db", _cli_url(store)
    )
    assert code == 0, err
    assert len(received) == 1 and json.loads(received[0])["seq"] == 5
    posted = tmp_path / "posted.jsonl"
    posted.write_bytes(received[0] + b"\n")
    assert _verify(store, capsys, "--checkpoint", str(posted), "--public-key", f"{key}.pub")[0] == 0
    os.environ["AGENTDECK_AUDIT_KEY"] = str(key)
    try:
        code, out, _ = _run(capsys, "audit", "checkpoint", "--db", _cli_url(store))
    finally:
        del os.environ["AGENTDECK_AUDIT_KEY"]
    assert code == 0 and json.loads(out)["hash"] == store.audit_entries()[-1].hash


def test_a_broken_chain_is_not_signed(
    store: SqlStore, key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(store)
    _tamper(store, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    code, _, err = _run(
        capsys,
        "audit",
        "checkpoint",
        "--key",
        str(key),
        "--out",
        str(tmp_path / "c"),
        "--db",
        _cli_url(store),
    )
    assert code == 2 and "broken chain" in err and not (tmp_path / "c").exists()


DEPLOYMENT_EDITS = {
    "digest": (
        "UPDATE deployments SET agent_digest = 'sha256:' || agent_digest WHERE seq = 1",
        "digest",
    ),
    "actor": ("UPDATE deployments SET actor = 'mallory'", "actor"),
    "health": ("UPDATE deployments SET health = 'good'", "audit chain says"),
    "deleted": ("DELETE FROM deployments WHERE env = 'staging'", "row is gone"),
    "head": (
        "UPDATE env_heads SET deployment_id = (SELECT id FROM deployments WHERE env = 'dev' AND seq = 1) WHERE env = 'dev'",
        "environment head",
    ),
}


@pytest.mark.parametrize("edit", sorted(DEPLOYMENT_EDITS))
def test_every_deployment_row_is_checked_against_its_audit_entry(
    store: SqlStore, capsys: pytest.CaptureFixture[str], edit: str
) -> None:
    _history(store)
    assert verify_audit(store).ok and verify_audit(store).deployments == 3
    sql, words = DEPLOYMENT_EDITS[edit]
    _tamper(store, sql)
    assert verify_audit(store, deployments=False).ok  # the chain itself is untouched
    code, report = _verify(store, capsys)
    assert code == 1 and any(words in p["problem"] for p in report["problems"]), report


def test_a_deployment_row_inserted_outside_agentdeck_is_found(store: SqlStore) -> None:
    _history(store)
    _tamper(
        store,
        "INSERT INTO deployments (id, agent_name, env, seq, agent_digest, agent_version, action,"
        " actor, reason, at, health, forced) SELECT 'z' || substr(id, 2), agent_name, 'staging', 9,"
        " agent_digest, agent_version, action, actor, reason, at, health, forced"
        " FROM deployments WHERE env = 'dev' AND seq = 1",
    )
    problems = verify_audit(store).problems
    assert any("has no audit entry" in p.problem for p in problems)
