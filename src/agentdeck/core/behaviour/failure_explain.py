"""Why did a run fail when nothing errored? What differs from the baseline's runs.

For a run whose recorded outcome is a failure and that has no unrecovered tool error,
:func:`explain_failure` names what sets it apart from the baseline profile (built from the
agent's successful runs): expected tool calls it never made, transitions the baseline never
took, policy warnings and denials, and an early stop (fewer tool calls than any baseline run).
Each difference is one :class:`Difference`; ``outcome_failure`` findings are made from them.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentdeck.core.behaviour.parts import END, START, pair_key
from agentdeck.core.behaviour.profile import BehaviourProfile
from agentdeck.core.behaviour.run_view import RunView

#: A tool is "expected" when at least this share of the baseline's sampled runs called it.
EXPECTED_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the failed run differs from the baseline: a kind and a sentence."""

    kind: str  # missing_tool | unusual_transition | policy_warning | early_stop | no_baseline
    detail: str


def expected_tools(profile: BehaviourProfile, share: float = EXPECTED_SHARE) -> dict[str, float]:
    """Tools called in at least ``share`` of the baseline's sampled runs, with that share."""
    sample = profile.sequence_sample
    if not sample:
        return {}
    n = len(sample)
    present: dict[str, int] = {}
    for seq in sample:
        for tool in set(seq):
            present[tool] = present.get(tool, 0) + 1
    return {t: c / n for t, c in sorted(present.items()) if c / n >= share}


def explain_failure(view: RunView, profile: BehaviourProfile | None) -> list[Difference]:
    """The differences of a failed run from ``profile`` (policy ones need no profile)."""
    out: list[Difference] = []
    actions = view.actions
    if profile is not None and profile.n_runs:
        called = set(actions)
        for tool, share in expected_tools(profile).items():
            if tool not in called:
                out.append(
                    Difference(
                        "missing_tool",
                        f"expected call {tool!r} never made ({share:.0%} of the baseline's "
                        "runs made it)",
                    )
                )
        seen = profile.transitions.counts
        prev = START
        unusual: list[str] = []
        for tool in (*actions, END):
            if seen.get(pair_key(prev, tool), 0) == 0:
                unusual.append(f"{prev} -> {tool}")
            prev = tool
        if unusual:
            out.append(
                Difference(
                    "unusual_transition",
                    "transitions the baseline never took: " + ", ".join(unusual),
                )
            )
        rng = profile.steps_range
        if rng is not None and len(actions) < rng[0]:
            last = actions[-1] if actions else "(no tool calls)"
            out.append(
                Difference(
                    "early_stop",
                    f"stopped after {len(actions)} tool calls (last: {last}); the baseline's "
                    f"runs made at least {rng[0]}",
                )
            )
    for p in view.policy:
        if p.effect in ("warn", "deny", "require_approval"):
            target = f" on {p.tool!r}" if p.tool else ""
            out.append(
                Difference(
                    "policy_warning",
                    f"policy {p.effect}{target}: {p.message or 'no message'}",
                )
            )
    if not out and (profile is None or not profile.n_runs):
        out.append(
            Difference("no_baseline", "no baseline to compare with; record one of successful runs")
        )
    return out
