"""Which arm of a canary a run belongs to: a stable hash of the session, user or run id.

``bucket(canary_id, key)`` is the first 8 bytes of ``sha256("<canary_id>:<key>")`` as an
integer, modulo 10 000: uniform, the same in every process and language, and independent
between canaries. A run goes to the candidate when ``bucket < share * 100``, so raising the
share only ever moves runs from stable to candidate (a session already on the candidate stays
there as the canary advances), and one conversation never switches versions mid-way.

:func:`choose` picks the key (the split's ``key`` kind, falling back session -> user -> run
when the preferred id is missing) and returns the arm with the agent to stamp.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from agentdeck.core.spec.agent import ResolvedAgent

__all__ = ["BUCKETS", "CANDIDATE", "KEY_KINDS", "SHADOW", "STABLE", "ArmChoice", "bucket", "choose"]

STABLE = "stable"
CANDIDATE = "candidate"
SHADOW = "shadow"
KEY_KINDS = ("session", "user", "run")
BUCKETS = 10_000


def bucket(canary_id: str, key: str) -> int:
    """The run's bucket in ``[0, BUCKETS)`` for this canary."""
    h = hashlib.sha256(f"{canary_id}:{key}".encode()).digest()
    return int.from_bytes(h[:8], "big") % BUCKETS


def in_candidate(canary_id: str, key: str, share: float) -> bool:
    return bucket(canary_id, key) < round(share * BUCKETS / 100)


@dataclass(frozen=True)
class ArmChoice:
    """The arm a run is in, the agent it runs (the candidate's deployment id stamped), the
    share in force when it was chosen, and which id decided it."""

    arm: str
    agent: ResolvedAgent
    share: float
    key_kind: str


def choose(
    agent: ResolvedAgent, session_id: str | None, user_id: str | None, run_id: str
) -> ArmChoice | None:
    """The arm of a run of ``agent`` (None when no canary is in progress on it)."""
    split = agent.canary
    if split is None:
        return None
    if split.shadow:  # a shadow pass: the candidate, stamped, in no env (never a user's run)
        cand = dataclasses.replace(
            split.candidate, env=None, deployment_id=split.canary_id, canary=None
        )
        return ArmChoice(SHADOW, cand, 0.0, "run")
    ids = {"session": session_id, "user": user_id, "run": run_id}
    order = [split.key, *(k for k in KEY_KINDS if k != split.key)]
    kind = next(k for k in order if ids.get(k))
    key = ids[kind]
    assert key is not None
    stable = dataclasses.replace(agent, canary=None)
    if in_candidate(split.canary_id, key, split.share):
        cand = dataclasses.replace(
            split.candidate, env=agent.env, deployment_id=split.canary_id, canary=None
        )
        return ArmChoice(CANDIDATE, cand, split.share, kind)
    return ArmChoice(STABLE, stable, split.share, kind)
