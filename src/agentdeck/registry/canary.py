"""The canary service: start a canary, judge it on its runs, advance, complete or roll back.

``start`` checks the env's gates as a promotion would, then records a canary on the current
head (the stable arm) at the share asked for; the resolver splits the env's runs from then
on (:mod:`agentdeck.core.spec.arms`). ``tick`` judges every active canary on its runs
(:func:`agentdeck.core.deploy.judge.judge`) and acts at once: a breached guard rail rolls it
back (share 0, every run back on stable), a passed step advances the share, the last step
promotes the candidate (a deployment whose id is the canary's, so the candidate's runs already
carry it). A canary whose stable head was replaced by someone else is aborted.

Every change (start, advance, complete, rollback, pause, resume, abort) is one audit entry
``deployment.canary.<what>`` with the judgement's evidence, in the same transaction as the
row's compare-and-set; a judgement that changes nothing only updates the row.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agentdeck.core.deploy.canary import Canary, CanaryRun, CanaryState, Step, canary_config
from agentdeck.core.deploy.judge import (
    ADVANCE,
    COMPLETE,
    ROLLBACK,
    Judgement,
    RunObs,
    behaviour_values,
    judge,
)
from agentdeck.core.deploy.model import Action
from agentdeck.core.errors import ConflictError, GateBlocked, InputError, UnresolvedReferenceError
from agentdeck.core.spec.arms import CANDIDATE, SHADOW, STABLE
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.registry.canary_events import PAST, CanaryEvent, canary_entries_of, canary_events
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import DEFAULT_ACTOR
from agentdeck.store.protocol import Store

__all__ = ["PAST", "Canaries", "CanaryAction", "CanaryAt", "CanaryEvent", "observations"]

_BEHAVIOUR = ("tool_surprise", "transition_novelty")
_ENDS = ("complete", "rollback", "abort")


@dataclass(frozen=True)
class CanaryAction:
    """What one judgement did to a canary: ``action`` is advance, complete, rollback or None."""

    canary: Canary
    judgement: Judgement
    action: str | None


@dataclass(frozen=True)
class CanaryAt:
    """The canary in progress at a moment: how it started, the candidate's share then (and
    whether it was a shadow then), and how it ended (None: it is still in progress)."""

    start: CanaryEvent
    share: float
    end: CanaryEvent | None
    shadow: bool = False


def observations(
    canary: Canary, rows: Sequence[CanaryRun], tools: dict[str, list[str]] | None
) -> list[RunObs]:
    """The judgement's inputs: each run's arm, share and metric values, in start order."""
    wanted = {g.metric for g in canary.config.guardrails}
    beh: list[tuple[float | None, float | None]] = [(None, None)] * len(rows)
    if tools is not None and wanted & set(_BEHAVIOUR):
        beh = behaviour_values([(r.arm == "candidate", tools.get(r.trace_id, [])) for r in rows])
    out = []
    for r, (surprise, novelty) in zip(rows, beh, strict=True):
        outcome = None if r.outcome is None else float(r.outcome == "success")
        latency = None if r.end_ns is None else (r.end_ns - r.start_ns) / 1e9
        values = {
            "outcome": outcome,
            "feedback": r.feedback,
            "error": float(r.error),
            "tool_error": float(r.tool_errors > 0),
            "denial": float(r.denied_calls > 0),
            "cost": r.cost_usd,
            "latency": latency,
            "tool_surprise": surprise,
            "transition_novelty": novelty,
        }
        share = r.share if r.share is not None else canary.share
        out.append(
            RunObs(r.trace_id, r.arm == "candidate", share, r.start_ns, values, r.share is not None)
        )
    return out


class Canaries:
    def __init__(
        self,
        store: Store,
        deployments: Deployments | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.deployments = deployments or Deployments(store)
        self.clock = clock

    # -- start and control ---------------------------------------------------------------

    def start(
        self,
        ref: str,
        env: str,
        share: float,
        actor: str = DEFAULT_ACTOR,
        *,
        shadow: bool = False,
        force: bool = False,
        reason: str = "",
        canary_id: str | None = None,
    ) -> Canary:
        """Start a canary (or a shadow) of ``ref`` in ``env`` at ``share`` percent.
        ``canary_id`` (32 hex) fixes the id, and with it every session's arm: reproducible
        simulations; by default a random one."""
        if force and not reason.strip():
            raise InputError("--force needs --reason: say why the gates are overridden")
        if canary_id is not None and not re.fullmatch(r"[0-9a-f]{32}", canary_id):
            raise InputError(f"--canary-id: expected 32 lowercase hex digits, not {canary_id!r}")
        if not 0 < share < 100:
            raise InputError(
                f"--canary: the share is a percent above 0 and below 100, not {share:g}"
            )
        cfg = canary_config(self.deployments.gate_config(env).settings.get("canary"))
        candidate = self.deployments.registry.get(ref)
        head = self.store.head(candidate.name, env)
        if head is None:
            raise UnresolvedReferenceError(
                f"{candidate.name}@{env}",
                "nothing is deployed there: promote without --canary first",
            )
        if head.agent_digest == candidate.digest:
            raise InputError(f"{candidate.ref} is already what {candidate.name}@{env} runs")
        results = self.deployments.check_gates(candidate, env)
        failures = [(r.name, r.reason) for r in results if not r.passed]
        if failures and not force:
            raise GateBlocked(env, failures)
        first = cfg.plan[0]
        plan = (
            Step(share, first.min_runs, first.min_minutes),
            *tuple(s for s in cfg.plan if s.share > share),
        )
        now = self.clock()
        canary = Canary(
            id=canary_id or uuid.uuid4().hex,
            agent_name=candidate.name,
            env=env,
            candidate_digest=candidate.digest,
            candidate_version=candidate.version,
            stable_deployment_id=head.id,
            stable_digest=head.agent_digest,
            stable_version=head.agent_version,
            config=dataclasses.replace(cfg, plan=plan),
            step=0,
            share=share,
            state=CanaryState.RUNNING,
            shadow=shadow,
            actor=actor,
            reason=reason or f"canary of {candidate.ref} in {env} at {share:g} %",
            started_at=now,
            step_started_at=now,
            updated_at=now,
        )
        self.store.put_canary(canary, self._audit(canary, "start", actor, canary.reason, {
            "plan": [s.share for s in plan], "forced": [n for n, _ in failures],
            "stable_version": head.agent_version, "config": cfg.to_dict(),
        }))  # fmt: skip
        return canary

    def get(self, name: str, env: str) -> Canary:
        """The active canary of ``name`` in ``env``, else the latest one."""
        self.deployments.path().index(env)
        found = self.store.active_canary(name, env) or next(
            iter(self.store.list_canaries(name, env, 1)), None
        )
        if found is None:
            raise UnresolvedReferenceError(f"{name}@{env}", "no canary was ever started there")
        return found

    def pause(self, name: str, env: str, actor: str = DEFAULT_ACTOR, reason: str = "") -> Canary:
        return self._control(name, env, actor, reason, CanaryState.PAUSED, "pause")

    def resume(self, name: str, env: str, actor: str = DEFAULT_ACTOR, reason: str = "") -> Canary:
        return self._control(name, env, actor, reason, CanaryState.RUNNING, "resume")

    def abort(self, name: str, env: str, actor: str = DEFAULT_ACTOR, reason: str = "") -> Canary:
        return self._control(name, env, actor, reason, CanaryState.ABORTED, "abort")

    def _control(
        self, name: str, env: str, actor: str, reason: str, to: CanaryState, what: str
    ) -> Canary:
        c = self.store.active_canary(name, env)
        if c is None:
            self.deployments.path().index(env)
            raise UnresolvedReferenceError(f"{name}@{env}", "no canary is in progress there")
        if c.state is to:
            raise ConflictError(f"{name}@{env}: the canary is already {to.value}")
        share = 0.0 if to is CanaryState.ABORTED else c.share
        new = dataclasses.replace(
            c, state=to, share=share, updated_at=self.clock(), version=c.version + 1
        )
        why = reason or f"{what} by {actor}"
        self.store.update_canary(new, c.version, [self._audit(new, what, actor, why, {})])
        return new

    # -- what happened when -------------------------------------------------------------

    def events(self, name: str, env: str) -> list[CanaryEvent]:
        """Every audited step of ``name``'s canaries in ``env``, oldest first."""
        self.deployments.path().index(env)
        return canary_events(self.store.audit_entries(*canary_entries_of(name, env)))

    def at(self, name: str, env: str, when: datetime) -> CanaryAt | None:
        """The canary of ``name`` in progress in ``env`` at ``when``, if one was."""
        events = self.events(name, env)
        current: CanaryAt | None = None
        for e in (e for e in events if e.at <= when):
            if e.what == "start":
                current = CanaryAt(e, e.share, None, e.shadow)
            elif current is not None and e.canary_id == current.start.canary_id:
                later = dataclasses.replace(current, share=e.share, shadow=e.shadow)
                current = None if e.what in _ENDS else later
        if current is None:
            return None
        end = next(
            (e for e in events if e.at > when and e.what in _ENDS
             and e.canary_id == current.start.canary_id),
            None,
        )  # fmt: skip
        return dataclasses.replace(current, end=end)

    # -- judgement -----------------------------------------------------------------------

    def evaluate(self, canary: Canary, now: datetime | None = None) -> Judgement:
        rows = self.store.canary_runs(canary)
        if canary.shadow:
            return self._evaluate_shadow(canary, rows, now or self.clock())
        rows = [r for r in rows if r.arm in (STABLE, CANDIDATE)]
        wanted = {g.metric for g in canary.config.guardrails}
        tools = (
            self.store.tool_sequences([r.trace_id for r in rows])
            if wanted & set(_BEHAVIOUR)
            else None
        )
        return judge(canary, observations(canary, rows, tools), now or self.clock())

    def _evaluate_shadow(
        self, canary: Canary, rows: Sequence[CanaryRun], now: datetime
    ) -> Judgement:
        """A shadow's judgement: each (stable run, shadow run) pair stands for one run of each
        arm, as if half the traffic went to each (``p = 0.5``); the stable runs that were not
        shadowed are left out, so the two arms saw the same inputs."""
        shadows = {r.shadow_of: r for r in rows if r.arm == SHADOW and r.shadow_of}
        paired: list[CanaryRun] = []
        for st in self.store.runs_by_id(sorted(shadows)):
            sh = shadows[st.trace_id]
            paired += [dataclasses.replace(st, arm=STABLE), dataclasses.replace(sh, arm=CANDIDATE)]
        wanted = {g.metric for g in canary.config.guardrails}
        tools = (
            self.store.tool_sequences([r.trace_id for r in paired])
            if wanted & set(_BEHAVIOUR)
            else None
        )
        obs = [
            dataclasses.replace(o, share=50.0, shared=False)
            for o in observations(canary, paired, tools)
        ]
        return judge(canary, obs, now)

    def shadow_summary(self, canary: Canary) -> dict[str, int]:
        """Shadow pairs run so far and how many disagreed with their stable run."""
        pairs = sum(1 for r in self.store.canary_runs(canary) if r.arm == SHADOW)
        reports = self.store.list_replay_reports(
            agent_name=canary.agent_name, kind=SHADOW, limit=100_000
        )
        mine = [r for r in reports if r.report.get("canary") == canary.id]
        return {"pairs": pairs, "divergences": sum(r.outcome == "disagreed" for r in mine)}

    def evidence(self, canary: Canary, j: Judgement) -> dict[str, Any]:
        """The judgement as stored and shown, with the shadow's pairs for a shadow."""
        out = j.to_dict()
        if canary.shadow or canary.judgement.get("shadow"):
            out["shadow"] = self.shadow_summary(canary)
        return out

    def tick(self, now: datetime | None = None) -> list[CanaryAction]:
        """Judge every active canary once and act on it."""
        return [self.judge_and_act(c, now) for c in self.store.active_canaries()]

    def judge_and_act(self, canary: Canary, now: datetime | None = None) -> CanaryAction:
        now = now or self.clock()
        head = self.store.head(canary.agent_name, canary.env)
        if head is None or head.id != canary.stable_deployment_id:
            aborted = self.abort(canary.agent_name, canary.env, "agentdeck",
                                 "the environment's deployment changed under the canary")  # fmt: skip
            return CanaryAction(aborted, self.evaluate(aborted, now), None)
        j = self.evaluate(canary, now)
        evidence = self.evidence(canary, j)
        base = dataclasses.replace(
            canary, judgement=evidence, updated_at=now, version=canary.version + 1
        )
        if j.decision == ROLLBACK:
            new = dataclasses.replace(base, state=CanaryState.ROLLED_BACK, share=0.0)
            self.store.update_canary(new, canary.version, [
                self._audit(new, "rollback", "agentdeck", j.reason, {"judgement": evidence})
            ])  # fmt: skip
            return CanaryAction(new, j, ROLLBACK)
        if canary.shadow and j.decision in (ADVANCE, COMPLETE):
            # the shadow passed its step: the candidate takes its first real slice
            new = dataclasses.replace(base, shadow=False, step_started_at=now)
            why = f"shadow passed: {canary.share:g} % of runs go to the candidate"
            self.store.update_canary(new, canary.version, [
                self._audit(new, "advance", "agentdeck", why, {"judgement": evidence})
            ])  # fmt: skip
            return CanaryAction(new, dataclasses.replace(j, reason=why), ADVANCE)
        if j.decision == ADVANCE:
            step = canary.step + 1
            share = canary.config.plan[step].share
            new = dataclasses.replace(base, step=step, share=share, step_started_at=now)
            self.store.update_canary(new, canary.version, [
                self._audit(new, "advance", "agentdeck", j.reason, {"judgement": evidence})
            ])  # fmt: skip
            return CanaryAction(new, j, ADVANCE)
        if j.decision == COMPLETE:
            new = dataclasses.replace(base, state=CanaryState.COMPLETED, share=100.0)
            self.store.update_canary(new, canary.version, [
                self._audit(new, "complete", "agentdeck", j.reason, {"judgement": evidence})
            ])  # fmt: skip
            candidate = self.deployments.registry.get(
                f"{canary.agent_name}@{canary.candidate_version}"
            )
            self.deployments._append(
                candidate, canary.env, Action.PROMOTE, "agentdeck",
                f"canary {canary.id} completed: {j.reason}", forced=False, dep_id=canary.id,
            )  # fmt: skip
            return CanaryAction(new, j, COMPLETE)
        self.store.update_canary(base, canary.version, [])
        return CanaryAction(base, j, None)

    def _audit(
        self, c: Canary, what: str, actor: str, reason: str, extra: dict[str, Any]
    ) -> AuditEvent:
        return AuditEvent(actor, f"deployment.canary.{what}", f"{c.agent_name}@{c.env}", {
            "canary": c.id, "candidate_version": c.candidate_version,
            "candidate_digest": c.candidate_digest, "stable": c.stable_deployment_id,
            "step": c.step, "share": c.share, "state": c.state.value, "shadow": c.shadow,
            "reason": reason, **extra,
        }, self.deployments.project_of(c.agent_name))  # fmt: skip
