"""Online evaluation scores, as they are stored: ``eval`` spans under a run's root span.

An eval span carries ``eval.name`` (the evaluator), ``eval.score`` (in [0, 1]) and
``eval.passed``; its outputs hold the ``reason``. Evals write them; monitoring reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agentdeck.core.trace.model import Span, SpanKind


@dataclass(frozen=True)
class Score:
    """One evaluator's verdict on one run: ``value`` in [0, 1]."""

    evaluator: str
    value: float
    passed: bool
    reason: str = ""


def scores_of(spans: Sequence[Span]) -> list[Score]:
    """The scores stored as eval spans among ``spans``."""
    out = []
    for s in spans:
        if s.kind is not SpanKind.EVAL:
            continue
        a = s.attributes
        name, value = a.get("eval.name"), a.get("eval.score")
        if isinstance(name, str) and isinstance(value, int | float):
            outputs = s.outputs if isinstance(s.outputs, dict) else {}
            out.append(
                Score(
                    name, float(value), bool(a.get("eval.passed")), str(outputs.get("reason", ""))
                )
            )
    return out
