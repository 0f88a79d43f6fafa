"""The composition root: services assembled from every capability, for the CLI and the server.

It sits above every service layer (the import-linter contract places it just below
``cli | server``), so both front ends get the same gates without importing each other.
"""

from __future__ import annotations

from agentdeck.evals.gates import EvalGate, ReplayGate
from agentdeck.monitor.gate import NoOpenCriticalAlertGate
from agentdeck.policy.testing import PolicyTestsGate
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.gates import Gate, default_gates
from agentdeck.registry.service import Registry
from agentdeck.store.protocol import Store


def all_gates() -> list[Gate]:
    """The registry's gates plus those registered by policy, evals and monitoring."""
    return [
        *default_gates(),
        PolicyTestsGate(),
        NoOpenCriticalAlertGate(),
        EvalGate(),
        ReplayGate(),
    ]


def deployments_service(store: Store) -> Deployments:
    return Deployments(store, Registry(store), all_gates())
