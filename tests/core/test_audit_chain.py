"""The hash chain: a clean chain verifies; a modified, deleted, reordered or truncated one does not."""

from __future__ import annotations

import dataclasses

from agentdeck.core.deploy.audit_chain import GENESIS, AuditEntry, entry_hash, verify_chain


def _chain(n: int) -> list[AuditEntry]:
    out: list[AuditEntry] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        at = f"2025-01-01T00:00:{seq:02d}.000000+00:00"
        payload = {"version": seq}
        h = entry_hash(seq, at, "alice", "agent.register", "bot", payload, prev)
        out.append(AuditEntry(seq, at, "alice", "agent.register", "bot", payload, prev, h))
        prev = h
    return out


def _head(chain: list[AuditEntry]) -> tuple[int, str]:
    return chain[-1].seq, chain[-1].hash


def test_clean_chain_verifies() -> None:
    chain = _chain(5)
    assert verify_chain(chain, _head(chain)) == []
    assert verify_chain([], None) == []


def test_hash_covers_every_field() -> None:
    base = ("2025-01-01T00:00:00+00:00", "alice", "a", "s", {"k": 1}, GENESIS)
    h = entry_hash(1, *base)
    for i, other in enumerate(("2025-01-01T00:00:01+00:00", "bob", "b", "t", {"k": 2}, "1" * 64)):
        changed = list(base)
        changed[i] = other
        assert entry_hash(1, *changed) != h  # type: ignore[arg-type]
    assert entry_hash(2, *base) != h


def test_modified_entry_is_found() -> None:
    chain = _chain(5)
    chain[2] = dataclasses.replace(chain[2], actor="mallory")
    problems = verify_chain(chain, _head(chain))
    assert [(p.seq, "modified" in p.problem) for p in problems] == [(3, True)]


def test_deleted_entry_is_found() -> None:
    chain = _chain(5)
    del chain[1]
    problems = verify_chain(chain, _head(chain))
    assert {p.seq for p in problems} == {3}
    assert any("deleted" in p.problem for p in problems)


def test_reordered_entries_are_found() -> None:
    chain = _chain(5)
    chain[1], chain[2] = chain[2], chain[1]
    problems = verify_chain(chain, _head(chain))
    assert any("reordered" in p.problem for p in problems)
    assert {p.seq for p in problems} >= {2, 3}


def test_truncated_tail_is_found_by_the_head() -> None:
    chain = _chain(5)
    problems = verify_chain(chain[:-1], _head(chain))
    assert len(problems) == 1 and "tail" in problems[0].problem


def test_rehashed_forgery_is_found_by_the_next_link() -> None:
    chain = _chain(4)
    e = chain[1]
    forged_hash = entry_hash(e.seq, e.at, "mallory", e.action, e.subject, e.payload, e.prev_hash)
    chain[1] = dataclasses.replace(e, actor="mallory", hash=forged_hash)
    problems = verify_chain(chain, _head(chain))
    assert [p.seq for p in problems] == [3]
    assert "link broken" in problems[0].problem
