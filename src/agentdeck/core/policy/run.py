"""Deciding the tool calls of one run, with what the run's earlier decisions already built.

The SDK's guard (:class:`agentdeck.policy.enforcer.PolicyGuard`) and ``policy simulate``
keep one :class:`RunEvaluator` per run. It builds the variables exactly as
:meth:`CompiledPolicy.decide` does (the same :class:`~agentdeck.core.policy.variables.VariablePlan`),
and keeps per run, for each group of rules: the agent and environment values, and the
``run.calls`` view, extended only with the calls new since the last decision. Per-tool
counts are the caller's (the SDK keeps them incrementally), so a decision's cost does not
grow with the run's length.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from agentdeck.core.policy.context import PriorCall
from agentdeck.core.policy.decision import Decision
from agentdeck.core.policy.program import CompiledPolicy
from agentdeck.core.policy.variables import CallsView

__all__ = ["RunEvaluator"]


class RunEvaluator:
    """Decides the tool calls of one run, keeping what does not change between its calls.

    ``calls`` must only grow at its end between decisions (the run's history; a shorter one
    starts the conversion over). Decisions are the same as ``decide`` on the equivalent
    :class:`~agentdeck.core.policy.context.ToolCallContext`. Thread-safe (one lock per run).
    """

    def __init__(self, policy: CompiledPolicy, agent_name: str = "",
                 agent_version: int | None = None, agent_digest: str = "", env: str = "") -> None:  # fmt: skip
        self.policy = policy
        self._agent = (agent_name, agent_version, agent_digest, env)
        self._state: dict[int, tuple[dict[str, Any], CallsView | None]] = {}
        self._lock = threading.Lock()

    def decide(self, tool: str, args: Mapping[str, Any], calls: Sequence[PriorCall],
               counts: Mapping[str, int], *, tool_version: str | None = None, step: int = 0,
               elapsed_s: float = 0.0, now: Any = None, cost_usd: float = 0.0,
               tokens: int = 0) -> Decision:  # fmt: skip
        """Decide one call; ``calls``/``counts`` are the run's earlier calls (see ToolCallContext)."""
        cp = self.policy
        group = cp.group_for(tool)
        if not group.rules:
            return cp.default_decision(tool)
        plan = group.plan
        with self._lock:  # the view is read by the evaluation: both under the lock
            try:
                st = self._state.get(id(group))
                if st is None:  # per run and group: agent and env built once
                    st = self._state[id(group)] = (plan.constants(*self._agent), plan.new_view())
                data = plan.build(st[0], tool, tool_version, args, now, st[1], calls, counts,
                                  step, elapsed_s, cost_usd, tokens)  # fmt: skip
            except Exception as exc:
                return cp.unconvertible(group, tool, exc)
            return cp.evaluate(group, data, tool, tool_version, st[1])
