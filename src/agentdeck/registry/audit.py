"""Verifying the audit chain stored in the database: its hash links and head, optionally
every deployment row against the chain, and signed checkpoints taken outside the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from agentdeck.core.deploy.audit_chain import AuditProblem, verify_chain
from agentdeck.core.deploy.audit_checks import Checkpoint, check_checkpoint, check_deployments
from agentdeck.store.protocol import AuditStore, DeploymentStore


class AuditVerifyStore(AuditStore, DeploymentStore, Protocol):
    """What :func:`verify_audit` reads: the chain, and the deployments it must account for."""


@dataclass(frozen=True)
class AuditReport:
    entries: int
    problems: tuple[AuditProblem, ...]
    deployments: int = 0
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_audit(
    store: AuditVerifyStore,
    *,
    deployments: bool = True,
    checkpoints: Sequence[Checkpoint] = (),
) -> AuditReport:
    """The chain's problems; with ``deployments``, each deployment row against its entry;
    with ``checkpoints`` (signatures already checked), the chain against each of them."""
    entries = store.audit_entries()
    problems = verify_chain(entries, store.audit_head())
    rows = store.all_deployments() if deployments else []
    if deployments:
        problems += check_deployments(rows, entries, store.env_head_ids())
    for cp in checkpoints:
        problems += check_checkpoint(entries, cp)
    return AuditReport(len(entries), tuple(problems), len(rows), len(checkpoints))
