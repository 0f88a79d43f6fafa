"""``agentdeck policy simulate``: what a policy version would have decided on recorded runs.

Before an agent pins a new policy version, replaying its decisions over what the agent
really did answers "which calls would this version stop, and which does it let through
that the current one stops?" without running anything. For each selected run:

1. its tool calls are rebuilt in run order from the stored spans, the way replay reads a
   recording (:func:`~agentdeck.tracing.replay.recording.steps_of`): tool name, arguments,
   version, start time, and the outcome the live history gave them (``ok``, ``error``, or
   ``denied`` for a call a policy stopped: it never ran but still counts, as it did live);
2. each call is decided by a fresh :class:`~agentdeck.core.policy.evaluate.RunEvaluator` per run
   (agent name, version, digest and environment from the run), with the same history the
   SDK's guard builds (:meth:`agentdeck.policy.enforcer.PolicyGuard._decide`): the calls that
   had *finished* when this one started, in the order they finished, with their recorded
   arguments and outcome (calls made in parallel are not in each other's history, as live),
   counts of those per tool, ``step`` = index among the run's tool calls in start order,
   ``elapsed_s`` since the run started, ``now`` = the call's start time;
3. the simulated effect is set beside the decision recorded for that call (the ``policy``
   span linked to the tool span), or ``None`` when the run recorded none.

The history each decision sees is the recording's, not a counterfactual one: a call the
simulated version would have stopped is still followed by the calls the agent really made.
Pure evaluation: nothing is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentdeck.core.errors import InputError
from agentdeck.core.policy.context import PriorCall
from agentdeck.core.policy.evaluate import CompiledPolicy, RunEvaluator, compile_policy
from agentdeck.core.policy.spec import Effect, PolicySet
from agentdeck.core.trace.model import LinkKind, Run, Span, SpanKind, SpanStatus
from agentdeck.core.trace.query import RunQuery
from agentdeck.store.protocol import TraceStore
from agentdeck.tracing.replay.engine import is_replay
from agentdeck.tracing.replay.recording import StepKind, steps_of
from agentdeck.tracing.sdk.guard import MAX_CALL_HISTORY, CallOutcome
from agentdeck.tracing.sdk.policy_results import policy_result

__all__ = [
    "MAX_RUNS",
    "RecordedCall",
    "SimulatedCall",
    "Simulation",
    "SimulationSummary",
    "StoppedRun",
    "recorded_calls",
    "select_runs",
    "simulate",
    "simulate_run",
    "simulate_runs",
    "summarize",
]

#: The most runs one simulation reads (``--limit``).
MAX_RUNS = 100_000
#: Runs whose spans are read from the store in one query.
BATCH_RUNS = 200

_STOPPING = (Effect.DENY, Effect.REQUIRE_APPROVAL)
_EFFECTS = tuple(sorted(Effect, key=lambda e: e.severity))


# -- the recording ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One recorded tool call as the live guard's history saw it, with the decision recorded
    for it (``recorded_effect`` None: the run recorded no policy decision for this call)."""

    step: int
    span_id: str
    tool: str
    tool_version: str | None
    args: Mapping[str, Any]
    outcome: str
    start_ns: int
    end_ns: int
    recorded_effect: str | None = None
    recorded_policy: str | None = None
    result: Any = None  # what rules read as run.calls[i].result (the recorded, redacted one)


def _result(span: Span, outcome: str) -> Any:
    """The recorded result as the live history held it: only for a call that returned, and
    bounded as the SDK bounds it (it was redacted before it was stored)."""
    out = span.outputs
    if outcome != CallOutcome.OK.value or not isinstance(out, dict) or "result" not in out:
        return None
    return policy_result(out["result"], None)


def _outcome(span: Span) -> str:
    """The outcome the live history recorded (:class:`~agentdeck.tracing.sdk.guard.CallOutcome`)."""
    if span.attributes.get("tool.denied") is True:
        return CallOutcome.DENIED.value
    if span.status is SpanStatus.ERROR:
        return CallOutcome.ERROR.value
    return CallOutcome.OK.value


def _decisions(spans: Iterable[Span], tool_ids: set[str]) -> dict[str, Span]:
    """Policy spans by the tool span they governed: the ``policy`` link, else the parent
    (the guard makes the decision span a child of the tool span and links it)."""
    out: dict[str, Span] = {}
    for s in spans:
        if s.kind is not SpanKind.POLICY:
            continue
        target = next(
            (lk.span_id for lk in s.links if lk.kind is LinkKind.POLICY and lk.span_id in tool_ids),
            s.parent_id if s.parent_id in tool_ids else None,
        )
        if target is not None:
            out.setdefault(target, s)
    return out


def _policy_label(span: Span) -> str | None:
    name = span.attributes.get("policy.name")
    if not isinstance(name, str):
        return None
    version = span.attributes.get("policy.version")
    return f"{name}@{version}" if version not in (None, "") else name


def _recorded_effect(span: Span) -> str | None:
    out = span.outputs if isinstance(span.outputs, dict) else {}
    effect = out.get("effect", span.attributes.get("policy.effect"))
    return effect if isinstance(effect, str) else None


def recorded_calls(spans: list[Span] | tuple[Span, ...]) -> list[RecordedCall]:
    """The run's tool calls in run order (replay's step order), each with its outcome and the
    policy decision recorded for it."""
    steps = [s for s in steps_of(spans) if s.kind is StepKind.TOOL]
    decisions = _decisions(spans, {s.span.span_id for s in steps})
    calls: list[RecordedCall] = []
    for i, step in enumerate(steps):
        span = step.span
        args = step.args
        version = span.attributes.get("tool.version")
        decision = decisions.get(span.span_id)
        calls.append(
            RecordedCall(
                step=i, span_id=span.span_id, tool=step.tool,
                tool_version=version if isinstance(version, str) else None,
                args=args if isinstance(args, Mapping) else {}, outcome=_outcome(span),
                start_ns=span.start_ns, end_ns=span.end_ns,
                result=_result(span, _outcome(span)),
                recorded_effect=_recorded_effect(decision) if decision is not None else None,
                recorded_policy=_policy_label(decision) if decision is not None else None,
            )
        )  # fmt: skip
    return calls


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimulatedCall:
    """One recorded call, decided by the simulated policy version.

    ``rules`` are the simulated decision's decisive rules (errored rules for a fail-closed
    deny); ``matched`` every rule that matched. ``recorded`` is the effect recorded for the
    call, None when the run recorded no decision for it; ``changed`` only compares calls that
    have one."""

    trace_id: str
    step: int
    span_id: str
    tool: str
    outcome: str
    effect: Effect
    rules: tuple[str, ...]
    matched: tuple[str, ...]
    failed: tuple[str, ...]
    message: str
    recorded: str | None
    recorded_policy: str | None

    @property
    def changed(self) -> bool:
        return self.recorded is not None and self.recorded != self.effect.value

    @property
    def transition(self) -> str:
        """``recorded->simulated`` (``none->...`` when nothing was recorded)."""
        return f"{self.recorded or 'none'}->{self.effect.value}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "step": self.step,
            "span_id": self.span_id,
            "tool": self.tool,
            "outcome": self.outcome,
            "effect": self.effect.value,
            "rules": list(self.rules),
            "matched": list(self.matched),
            "failed": list(self.failed),
            "message": self.message,
            "recorded": self.recorded,
            "recorded_policy": self.recorded_policy,
            "changed": self.changed,
        }


@dataclass(frozen=True, slots=True)
class StoppedRun:
    """A run the simulated version would have stopped: its first deny or require_approval."""

    trace_id: str
    step: int
    tool: str
    effect: Effect
    rules: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"trace_id": self.trace_id, "step": self.step, "tool": self.tool,
                "effect": self.effect.value, "rules": list(self.rules)}  # fmt: skip


@dataclass(frozen=True)
class SimulationSummary:
    """The counts: by simulated effect (every effect present, 0 included), decision changes
    by ``recorded->simulated``, calls per matched rule and per failing rule (most first)."""

    policy: str
    policy_name: str
    policy_digest: str
    runs: int
    calls: int
    effects: Mapping[str, int]
    recorded: int
    changed: int
    changes: Mapping[str, int]
    rule_hits: Mapping[str, int]
    rule_errors: Mapping[str, int]
    stopped: tuple[StoppedRun, ...]
    skipped_replays: int = 0

    @property
    def unrecorded(self) -> int:
        """Calls with no recorded decision (the run pinned no policy, or predates it)."""
        return self.calls - self.recorded

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "policy_name": self.policy_name,
            "policy_digest": self.policy_digest,
            "runs": self.runs,
            "calls": self.calls,
            "effects": dict(self.effects),
            "recorded": self.recorded,
            "unrecorded": self.unrecorded,
            "changed": self.changed,
            "changes": dict(self.changes),
            "rule_hits": dict(self.rule_hits),
            "rule_errors": dict(self.rule_errors),
            "stopped_runs": len(self.stopped),
            "skipped_replays": self.skipped_replays,
        }


@dataclass(frozen=True)
class Simulation:
    """A simulation's summary and every simulated call (runs in selection order, calls in
    run order)."""

    summary: SimulationSummary
    calls: tuple[SimulatedCall, ...] = field(default=())

    @property
    def changed_calls(self) -> tuple[SimulatedCall, ...]:
        return tuple(c for c in self.calls if c.changed)

    def to_dict(self, *, changed_only: bool = False) -> dict[str, Any]:
        listed = self.changed_calls if changed_only else self.calls
        return {
            "summary": self.summary.to_dict(),
            "stopped": [s.to_dict() for s in self.summary.stopped],
            "calls": [c.to_dict() for c in listed],
        }


# -- deciding -----------------------------------------------------------------------------------


def _now(start_ns: int) -> datetime:
    return datetime.fromtimestamp(start_ns / 1e9, UTC)


def simulate_run(
    compiled: CompiledPolicy, run: Run, spans: list[Span] | tuple[Span, ...]
) -> list[SimulatedCall]:
    """Decide every recorded tool call of ``run`` under ``compiled``, in run order, each with
    the history the SDK's guard would have given it (see the module docstring)."""
    evaluator = RunEvaluator(compiled, run.agent_name or "", run.agent_version or None,
                             run.agent_digest or "", run.env or "")  # fmt: skip
    history: list[PriorCall] = []
    counts: dict[str, int] = {}
    running: list[RecordedCall] = []  # started before the current call, not yet in history
    out: list[SimulatedCall] = []
    for call in recorded_calls(spans):
        if running:
            running = _finish(running, call.start_ns, history, counts)
        decision = evaluator.decide(
            call.tool, call.args, history, counts, tool_version=call.tool_version,
            step=call.step, elapsed_s=max(call.start_ns - run.start_ns, 0) / 1e9,
            now=_now(call.start_ns) if compiled.reads_now(call.tool) else None,
        )  # fmt: skip
        out.append(
            SimulatedCall(
                trace_id=run.trace_id, step=call.step, span_id=call.span_id, tool=call.tool,
                outcome=call.outcome, effect=decision.effect, rules=decision.decisive_rules,
                matched=tuple(m.rule_id for m in decision.matched),
                failed=tuple(e.rule_id for e in decision.errors), message=decision.message,
                recorded=call.recorded_effect, recorded_policy=call.recorded_policy,
            )
        )  # fmt: skip
        running.append(call)
    return out


def _finish(
    running: list[RecordedCall], now_ns: int, history: list[PriorCall], counts: dict[str, int]
) -> list[RecordedCall]:
    """Move the calls that ended by ``now_ns`` into the history, in the order they ended (the
    live run records a call when it finishes, denied ones included); return the rest. Only
    the history's end grows, as :class:`RunEvaluator` requires."""
    done = sorted((c for c in running if c.end_ns <= now_ns), key=lambda c: (c.end_ns, c.step))
    if not done:
        return running
    for c in done:
        counts[c.tool] = counts.get(c.tool, 0) + 1
        if len(history) < MAX_CALL_HISTORY:
            history.append(PriorCall(c.tool, c.args, c.outcome, c.result))
    return [c for c in running if c.end_ns > now_ns]


def select_runs(store: TraceStore, query: RunQuery) -> tuple[list[Run], int]:
    """The runs to simulate (newest first) and how many replays were left out: a replay
    re-enacts another run, so counting it would count that run twice."""
    if not 1 <= query.limit <= MAX_RUNS:
        raise InputError(f"limit: expected 1..{MAX_RUNS}, got {query.limit}")
    found = store.find_runs(query)
    runs = [r for r in found if not is_replay(r)]
    return runs, len(found) - len(runs)


def simulate_runs(
    store: TraceStore,
    policy: PolicySet | CompiledPolicy,
    runs: Sequence[Run],
    *,
    label: str | None = None,
    skipped_replays: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Simulation:
    """Simulate ``policy`` on ``runs`` (spans read :data:`BATCH_RUNS` runs at a time;
    ``progress(n)`` after each batch). A policy that does not compile raises its
    :class:`~agentdeck.core.errors.SpecError`."""
    compiled = (
        policy
        if isinstance(policy, CompiledPolicy)
        else compile_policy(policy, label or policy.name)
    )
    calls: list[SimulatedCall] = []
    done = 0
    ids = [r.trace_id for r in runs]
    for i in range(0, len(ids), BATCH_RUNS):
        chunk = ids[i : i + BATCH_RUNS]
        for run, spans in store.get_runs_with_spans(chunk):
            calls.extend(simulate_run(compiled, run, spans))
            done += 1
        if progress is not None:
            progress(len(chunk))
    summary = summarize(compiled, label or compiled.name, done, calls, skipped_replays)
    return Simulation(summary, tuple(calls))


def simulate(
    store: TraceStore,
    policy: PolicySet | CompiledPolicy,
    query: RunQuery,
    *,
    label: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Simulation:
    """Select the runs of ``query`` (replays left out) and simulate ``policy`` on them."""
    runs, skipped = select_runs(store, query)
    return simulate_runs(
        store, policy, runs, label=label, skipped_replays=skipped, progress=progress
    )


def _most_first(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def summarize(
    compiled: CompiledPolicy,
    label: str,
    runs: int,
    calls: Sequence[SimulatedCall],
    skipped_replays: int = 0,
) -> SimulationSummary:
    """Count ``calls`` (of ``runs`` runs) into a :class:`SimulationSummary`."""
    effects = Counter(c.effect.value for c in calls)
    changes: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    stopped: dict[str, StoppedRun] = {}
    recorded = 0
    for c in calls:
        if c.recorded is not None:
            recorded += 1
            if c.changed:
                changes[c.transition] += 1
        hits.update(c.matched)
        errors.update(c.failed)
        if c.effect in _STOPPING and c.trace_id not in stopped:
            stopped[c.trace_id] = StoppedRun(c.trace_id, c.step, c.tool, c.effect, c.rules)
    return SimulationSummary(
        policy=label,
        policy_name=compiled.name,
        policy_digest=compiled.digest,
        runs=runs,
        calls=len(calls),
        effects={e.value: effects.get(e.value, 0) for e in _EFFECTS},
        recorded=recorded,
        changed=sum(changes.values()),
        changes=_most_first(changes),
        rule_hits=_most_first(hits),
        rule_errors=_most_first(errors),
        stopped=tuple(stopped.values()),
        skipped_replays=skipped_replays,
    )
