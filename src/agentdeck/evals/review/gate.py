"""The ``labels`` gate: reviewers' labels of the candidate's own runs pass often enough.

Settings under ``labels`` in an env's gates::

    agentdeck env gates production --set labels.min_pass_rate=0.9 --set labels.min_labelled=20

The pass rate is the share of ``pass: true`` labels among the labels with a ``pass`` given to
runs of the candidate's exact digest (any env, any queue; the newest label of a run counts).
An env without ``labels.min_pass_rate`` passes; with it, fewer than ``min_labelled`` (default
1) labelled runs block, saying how many there are.
"""

from __future__ import annotations

from collections.abc import Mapping

from agentdeck.core.deploy.model import GateResult
from agentdeck.registry.gates import GateContext


def labelled_pass_rate(ctx: GateContext) -> tuple[int, int]:
    """(passed, labelled) runs of the candidate's digest."""
    newest: dict[str, bool] = {}
    for a in ctx.store.list_annotations(agent_digest=ctx.candidate.digest, limit=100_000):
        if a.passed is not None and a.trace_id not in newest:  # newest first
            newest[a.trace_id] = a.passed
    return sum(newest.values()), len(newest)


class LabelGate:
    name = "labels"
    settings_keys = frozenset({"min_pass_rate", "min_labelled"})

    def check(self, ctx: GateContext) -> GateResult:
        settings = ctx.settings.get(self.name)
        if not isinstance(settings, Mapping) or "min_pass_rate" not in settings:
            return GateResult(self.name, True, f"no labels.min_pass_rate set for {ctx.env!r}")
        rate = settings["min_pass_rate"]
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError(f"labels.min_pass_rate must be a number in [0, 1], not {rate!r}")
        need = settings.get("min_labelled", 1)
        if isinstance(need, bool) or not isinstance(need, int) or need < 1:
            raise ValueError(f"labels.min_labelled must be a whole number >= 1, not {need!r}")
        passed, total = labelled_pass_rate(ctx)
        ref = ctx.candidate.ref
        if total < need:
            return GateResult(
                self.name, False,
                f"{total} labelled run(s) of {ref}, fewer than labels.min_labelled {need}; "
                "label some in a review queue (agentdeck queue next)",
            )  # fmt: skip
        share = passed / total
        summary = f"{passed}/{total} labelled runs of {ref} pass ({share:.0%})"
        if share + 1e-12 >= rate:
            return GateResult(self.name, True, f"{summary}, meets {rate:.0%}")
        return GateResult(self.name, False, f"{summary}, below labels.min_pass_rate {rate:.0%}")
