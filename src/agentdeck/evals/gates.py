"""Deployment gates from evals: the eval result of the exact digest, and replay agreement.

``EvalGate`` (name ``eval``) reads its per-env settings from ``GateContext.settings["eval"]``::

    agentdeck env gates production --set eval.min_pass_rate=0.95 \
        --set 'eval.must_pass=["refund-small-damaged"]' --set eval.suite=support-bot-core

- ``min_pass_rate`` (0..1, default 1.0), ``must_pass`` (case ids), ``suite`` (a suite name;
  default: the newest result of any suite);
- an env without ``eval`` settings passes (nothing asked of it); an env with settings blocks
  until a result exists for the candidate's exact digest, and then blocks if the newest such
  result misses the thresholds.

``ReplayGate`` (name ``replay``) replays the candidate against the last N production runs of
the version deployed there now (``replay --with``, :func:`agentdeck.tracing.replay.engine.agreement`)
and blocks when the share of runs whose action sequence it reproduced is below the threshold;
its reason lists the disagreements. Settings under ``replay``: ``min_agreement`` (0..1; the
gate is off for an env without it), ``runs`` (N, default 20), ``source_env`` (default
``production``), ``paths`` (directories to import the entrypoint from; default: the current
directory). With no recorded runs to compare against (a first deployment) it passes, saying so.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentdeck.core.deploy.model import GateResult
from agentdeck.core.evals.result import check_thresholds
from agentdeck.core.evals.suite import Thresholds
from agentdeck.core.spec.agent import ResolvedAgent
from agentdeck.registry.gates import GateContext


def _short(digest: str) -> str:
    return digest[: len("sha256:") + 12]


def eval_thresholds(settings: Mapping[str, Any]) -> Thresholds:
    """The gate's thresholds from an env's ``eval`` settings (bad values raise ValueError)."""
    rate = settings.get("min_pass_rate", 1.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise ValueError(f"eval.min_pass_rate must be a number in [0, 1], not {rate!r}")
    must = settings.get("must_pass", ())
    if isinstance(must, str):
        must = [must]
    if not isinstance(must, list | tuple) or not all(isinstance(m, str) for m in must):
        raise ValueError(f"eval.must_pass must be a list of case ids, not {must!r}")
    return Thresholds(float(rate), tuple(must))


class EvalGate:
    """The candidate's newest eval result (for its exact digest) meets the env's thresholds."""

    name = "eval"
    settings_keys = frozenset({"min_pass_rate", "must_pass", "suite"})

    def check(self, ctx: GateContext) -> GateResult:
        settings = ctx.settings.get(self.name)
        if not isinstance(settings, Mapping) or not settings:
            return GateResult(self.name, True, f"no eval thresholds set for {ctx.env!r}")
        thresholds = eval_thresholds(settings)
        suite = settings.get("suite")
        cand = ctx.candidate
        results = ctx.store.eval_results(
            agent_digest=cand.digest, suite_name=suite if isinstance(suite, str) else None, limit=1
        )
        if not results:
            of = f"suite {suite!r}" if suite else "any suite"
            return GateResult(
                self.name,
                False,
                f"no eval result of {of} for {cand.ref} ({_short(cand.digest)}); "
                f"run: agentdeck eval SUITE --agent {cand.ref}",
            )
        check = check_thresholds(results[0], thresholds)
        if check.met:
            return GateResult(
                self.name, True, f"{check.summary}, meets {thresholds.min_pass_rate:.0%}"
            )
        return GateResult(self.name, False, f"{check.summary}: {'; '.join(check.reasons)}")


class ReplayGate:
    """The candidate, replayed on recent production runs, agrees with them often enough."""

    name = "replay"
    settings_keys = frozenset({"min_agreement", "runs", "source_env", "paths"})

    def check(self, ctx: GateContext) -> GateResult:
        from agentdeck.tracing.replay.engine import agreement, recent_runs

        settings = ctx.settings.get(self.name)
        if not isinstance(settings, Mapping) or "min_agreement" not in settings:
            return GateResult(self.name, True, f"no replay agreement threshold set for {ctx.env!r}")
        threshold = settings["min_agreement"]
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not 0 <= threshold <= 1
        ):
            raise ValueError(f"replay.min_agreement must be a number in [0, 1], not {threshold!r}")
        n = int(settings.get("runs", 20))
        source_env = str(settings.get("source_env", "production"))
        cand = ctx.candidate
        run_ids = recent_runs(ctx.store, cand.name, env=source_env, limit=n)
        if not run_ids:
            return GateResult(
                self.name, True, f"no recorded {source_env} runs of {cand.name} to replay against"
            )
        paths = [Path(p) for p in settings.get("paths", ())] or [Path.cwd()]
        agent = ResolvedAgent(cand.name, cand.version, cand.digest, cand.spec)
        report = agreement(ctx.store, run_ids, agent, paths=paths)
        agreed = len(report.runs) - len(report.disagreements)
        summary = (
            f"{cand.ref} agreed with {agreed}/{len(report.runs)} recorded {source_env} runs "
            f"({report.agreement:.0%}; threshold {threshold:.0%})"
        )
        if report.agreement + 1e-12 >= threshold:
            return GateResult(self.name, True, summary)
        shown = []
        for c in report.disagreements[:5]:
            rec = " -> ".join(a.tool for a in c.recorded) or "no tools"
            got = " -> ".join(k.action.tool for k in c.candidate) or "no tools"
            shown.append(f"{c.source_trace_id[:12]}: recorded {rec}; candidate {got}")
        more = len(report.disagreements) - len(shown)
        tail = f" (+{more} more)" if more > 0 else ""
        rid = f"; report {report.report_id[:12]}" if report.report_id else ""
        return GateResult(
            self.name, False, f"{summary}; disagreements: {' | '.join(shown)}{tail}{rid}"
        )
