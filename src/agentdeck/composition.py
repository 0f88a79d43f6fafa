"""The composition root: services assembled from every capability, for the CLI and the server.

It sits above every service layer (the import-linter contract places it just below
``cli | server``), so both front ends get the same gates without importing each other.

Importing it is cheap: the capability gates live in modules that pull in monitoring's alert
machinery (YAML, Prometheus), the policy compiler and the eval models, and most commands that
build a :class:`Deployments` (history, at, mark, rollback, env) never run a gate. So
:func:`deployments_service` hands it gates that import their implementation on their first
check; :func:`all_gates` (the server's, and what tests inspect) returns the real objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from agentdeck.registry.deployments import Deployments
from agentdeck.registry.gates import Gate, default_gates
from agentdeck.registry.service import Registry

if TYPE_CHECKING:
    from agentdeck.core.deploy.model import GateResult
    from agentdeck.registry.gates import GateContext
    from agentdeck.store.protocol import Store


def _policy_tests_gate() -> Gate:
    from agentdeck.policy.testing import PolicyTestsGate

    return PolicyTestsGate()


def _alert_gate() -> Gate:
    from agentdeck.monitor.gate import NoOpenCriticalAlertGate

    return NoOpenCriticalAlertGate()


def _eval_gate() -> Gate:
    from agentdeck.evals.gates import EvalGate

    return EvalGate()


def _labels_gate() -> Gate:
    from agentdeck.evals.review.gate import LabelGate

    return LabelGate()


def _replay_gate() -> Gate:
    from agentdeck.evals.gates import ReplayGate

    return ReplayGate()


# Each capability gate by the name it reports; the order is the order gates run in.
# tests/cli/test_cli_startup.py checks every name against its gate's own.
CAPABILITY_GATES: tuple[tuple[str, Callable[[], Gate]], ...] = (
    ("policy-tests", _policy_tests_gate),
    ("no-open-critical-alert", _alert_gate),
    ("eval", _eval_gate),
    ("replay", _replay_gate),
    ("labels", _labels_gate),
)


class DeferredGate:
    """A gate known by name whose implementation is imported and built on its first check.

    ``run_gates`` reads only ``name`` (to skip disabled gates and find settings) before it
    calls ``check``, so a command that never promotes never loads the gate's module.
    """

    def __init__(self, name: str, load: Callable[[], Gate]) -> None:
        self.name = name
        self._load = load
        self._gate: Gate | None = None

    @property
    def gate(self) -> Gate:
        """The real gate (built once per DeferredGate, as all_gates builds one per call)."""
        if self._gate is None:
            self._gate = self._load()
        return self._gate

    def check(self, ctx: GateContext) -> GateResult:
        return self.gate.check(ctx)

    @property
    def settings_keys(self) -> frozenset[str] | None:
        """The settings the real gate reads (loading it: only ``env gates --set`` asks)."""
        keys = getattr(self.gate, "settings_keys", None)
        return frozenset(keys) if keys is not None else None


def all_gates() -> list[Gate]:
    """The registry's gates plus those registered by policy, evals and monitoring."""
    return [*default_gates(), *(load() for _, load in CAPABILITY_GATES)]


def deployments_service(store: Store) -> Deployments:
    """Deployments with every gate of :func:`all_gates`, each loaded when first checked."""
    deferred: list[Gate] = [DeferredGate(name, load) for name, load in CAPABILITY_GATES]
    return Deployments(store, Registry(store), [*default_gates(), *deferred])
