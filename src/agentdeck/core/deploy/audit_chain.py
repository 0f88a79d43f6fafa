"""The tamper-evident audit chain: each entry's hash covers its content and the previous hash.

``entry_hash`` is the sha256 of the RFC 8785 canonical JSON of
``{seq, at, actor, action, subject, payload, prev}``. Verification recomputes every hash and
checks each ``prev`` against the hash before it and ``seq`` for gaps, so an entry modified,
deleted or reordered in the database is found; the chain head (last seq and hash, kept apart)
catches a truncated tail.

An entry's project (what the audit log of a project lists it by) is hashed as part of its
payload: ``payload["project"]``, absent for the default project. The store keeps it also in an
indexed column; verification checks that column against the payload, so an entry moved
between projects' logs is found too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.spec.canonical import canonical_json

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str  # ISO 8601 UTC, as hashed
    actor: str
    action: str
    subject: str
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str
    project: str = DEFAULT_PROJECT


def payload_project(payload: Mapping[str, Any]) -> str:
    """The project an entry's hashed payload names (the default project when it names none)."""
    project = payload.get("project", DEFAULT_PROJECT)
    return project if isinstance(project, str) else DEFAULT_PROJECT


def entry_hash(
    seq: int, at: str, actor: str, action: str, subject: str, payload: Mapping[str, Any], prev: str
) -> str:
    body = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "payload": dict(payload),
        "prev": prev,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    problem: str


def verify_chain(entries: Iterable[AuditEntry], head: tuple[int, str] | None) -> list[AuditProblem]:
    """Problems found walking ``entries`` in stored order; empty means the chain verifies."""
    problems: list[AuditProblem] = []
    prev = GENESIS
    expected_seq = 1
    last: tuple[int, str] | None = None
    for e in entries:
        if e.seq != expected_seq:
            kind = (
                "missing entries before it (deleted)"
                if e.seq > expected_seq
                else "out of order (reordered)"
            )
            problems.append(
                AuditProblem(e.seq, f"expected seq {expected_seq}, found {e.seq}: {kind}")
            )
        if e.prev_hash != prev:
            problems.append(
                AuditProblem(
                    e.seq, "previous-hash link broken (entry deleted or reordered before it)"
                )
            )
        recomputed = entry_hash(e.seq, e.at, e.actor, e.action, e.subject, e.payload, e.prev_hash)
        if recomputed != e.hash:
            problems.append(AuditProblem(e.seq, "content does not match its hash (entry modified)"))
        if e.project != payload_project(e.payload):
            problems.append(
                AuditProblem(
                    e.seq,
                    f"listed in project {e.project!r} but its hashed payload names "
                    f"{payload_project(e.payload)!r} (entry moved between projects)",
                )
            )
        prev = e.hash
        expected_seq = e.seq + 1
        last = (e.seq, e.hash)
    if head is not None and last != head:
        problems.append(
            AuditProblem(
                head[0],
                f"chain head is seq {head[0]} but the log ends at {last[0] if last else 0} (tail deleted or replaced)",
            )
        )
    return problems
