"""Statistical support for structural tool-API findings (a field new, missing or retyped).

A schema difference alone is not evidence of drift: an optional field that one group of users
lacks, or a list that happened to be empty, changes the inferred schema of a window without any
change of the tool. A change is *supported* when the share of responses in which the field
occurs (with the changed type, for a retyped field) differs between baseline and window by at
least a minimum, under a two-proportion test (:func:`agentdeck.monitor.stats.two_proportions`);
both shares are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agentdeck.core.behaviour.schema_infer import ChangeKind, FieldChange, FieldPresence
from agentdeck.monitor.stats import TestResult, two_proportions


@dataclass(frozen=True, slots=True)
class ChangeSupport:
    """One field change with the share of responses showing it on each side and its test."""

    change: FieldChange
    baseline_rate: float
    window_rate: float
    p_value: float

    @property
    def rate_change(self) -> float:
        return abs(self.window_rate - self.baseline_rate)

    def describe(self) -> str:
        what = "with the new type" if self.change.change is ChangeKind.RETYPED else "present"
        return (
            f"{self.change.describe()}: {what} in {self.baseline_rate:.1%} of baseline responses, "
            f"{self.window_rate:.1%} of window responses"
        )


def _changed_types(change: FieldChange) -> set[str] | None:
    if change.change is not ChangeKind.RETYPED:
        return None
    added = set(change.new_types) - set(change.old_types)
    return added or set(change.old_types) - set(change.new_types)


def change_support(
    change: FieldChange, base: FieldPresence, window: FieldPresence
) -> ChangeSupport:
    """The presence shares of ``change``'s field and the two-proportion test between them."""
    types = _changed_types(change)
    xb = base.count(change.path, types)
    xw = window.count(change.path, types)
    res: TestResult = two_proportions(xb, max(base.n, 1), xw, max(window.n, 1))
    return ChangeSupport(change, xb / max(base.n, 1), xw / max(window.n, 1), res.p_value)


def tool_support(
    changes: Sequence[FieldChange], base: FieldPresence, window: FieldPresence
) -> tuple[float, float, list[ChangeSupport]]:
    """A tool's changes tested together: (Bonferroni p-value over its changes, the largest
    presence-rate change, the changes most significant first)."""
    tested = sorted(
        (change_support(ch, base, window) for ch in changes),
        key=lambda s: (s.p_value, -s.rate_change, s.change.path),
    )
    if not tested:
        return 1.0, 0.0, []
    p = min(1.0, tested[0].p_value * len(tested))
    return p, max(s.rate_change for s in tested), tested
