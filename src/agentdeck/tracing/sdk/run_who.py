"""Who a run is for and which canary arm serves it: the session and user ids as text, and
the arm chosen from the resolved agent's split (never raising into the agent's code)."""

from __future__ import annotations

from typing import Any

from agentdeck.core.spec.agent import ResolvedAgent
from agentdeck.core.spec.arms import ArmChoice, choose
from agentdeck.tracing.sdk import recorder as rec


def arm_of(
    agent: ResolvedAgent, who: tuple[str | None, str | None], run_id: str
) -> ArmChoice | None:
    """The run's canary arm; a failure is counted and the run goes to the stable version."""
    try:
        return choose(agent, who[0], who[1], run_id)
    except Exception as exc:
        rec.internal_error("run(canary arm)", exc)
        return None


def who(session_id: Any, user_id: Any) -> tuple[str | None, str | None]:
    """The session and user ids as text (at most 200 characters, the column's width); an
    empty value is none. Never raises: a non-text id is turned into text, or dropped."""
    return id_text(session_id), id_text(user_id)


def id_text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception as exc:
        rec.internal_error("run(session_id/user_id)", exc)
        return None
    return text[:200] or None
