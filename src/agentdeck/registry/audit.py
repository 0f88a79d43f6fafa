"""Verifying the audit chain stored in the database."""

from __future__ import annotations

from dataclasses import dataclass

from agentdeck.core.audit import AuditProblem, verify_chain
from agentdeck.store.protocol import Store


@dataclass(frozen=True)
class AuditReport:
    entries: int
    problems: tuple[AuditProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_audit(store: Store) -> AuditReport:
    entries = store.audit_entries()
    return AuditReport(len(entries), tuple(verify_chain(entries, store.audit_head())))
