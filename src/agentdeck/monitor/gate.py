"""The monitoring deployment gate: an open critical alert on the agent blocks promotion."""

from __future__ import annotations

from agentdeck.core.behaviour.records import ALERT_ACTIVE as ACTIVE
from agentdeck.core.deploy.model import GateResult
from agentdeck.registry.gates import GateContext


class NoOpenCriticalAlertGate:
    """Blocks promoting an agent while a critical alert about it (any env, or an alert with no
    agent) is open or acknowledged: resolve it first (``agentdeck alerts resolve ID``)."""

    name = "no-open-critical-alert"
    settings_keys: frozenset[str] = frozenset()

    def check(self, ctx: GateContext) -> GateResult:
        blocking = [
            a
            for a in ctx.store.list_alerts(ACTIVE, limit=1000)
            if a.severity == "critical" and a.agent_name in (None, ctx.candidate.name)
        ]
        if not blocking:
            return GateResult(self.name, True, "no open critical alert")
        ids = ", ".join(f"{a.id[:12]} ({a.rule} on {a.subject})" for a in blocking[:3])
        more = f" and {len(blocking) - 3} more" if len(blocking) > 3 else ""
        return GateResult(self.name, False, f"open critical alert(s): {ids}{more}")
