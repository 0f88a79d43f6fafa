"""Online evaluation: score production runs as they are stored, and keep the scores as spans.

- An :class:`Evaluator` scores one finished run from its spans (``None``: not applicable).
  Rule evaluators ship here: :class:`ExpectedTool` (runs whose input matches a pattern must call
  a tool), :class:`ArgumentCheck` (calls of a tool must have matching arguments) and
  :class:`Completion` (the run ended OK with an output, optionally matching a pattern).
- :class:`JudgeEvaluator` asks an :class:`LlmJudge`, a provider-agnostic protocol;
  :class:`ModelJudge` implements it over any :class:`~agentdeck.core.trace.model_call.ModelClient`.
- :class:`OnlineEvaluation` applies evaluators to a sampled share of runs (the decision is a hash
  of the trace id, so it is the same wherever and however often a run is seen) and turns scores
  into ``eval`` spans: children of the run's root span, linked to it, with a span id derived
  from (trace id, evaluator) so re-scoring a run stores nothing twice.
- :class:`EvaluatingSink` wraps the store the SDK writes to: after each batch it scores the runs
  that just ended. It runs on the exporter's thread, never on the agent's, and never raises
  because of an evaluator.

Scores reach monitoring as spans (kind ``eval``; attributes ``eval.name``, ``eval.score``,
``eval.passed``); :func:`score_summary` aggregates them per evaluator for a set of runs.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson

from agentdeck.core.evals.match import CallPattern, Matcher, observed_calls, show
from agentdeck.core.evals.scores import Score, scores_of
from agentdeck.core.trace.model import LinkKind, Run, Span, SpanKind, SpanLink, SpanStatus
from agentdeck.core.trace.model_call import ModelClient
from agentdeck.core.trace.query import RunQuery
from agentdeck.core.types import JSON
from agentdeck.store.protocol import Store, TraceStore

log = logging.getLogger("agentdeck.evals")


@runtime_checkable
class Evaluator(Protocol):
    name: str

    def evaluate(self, run: Run, spans: Sequence[Span]) -> Score | None: ...


def _input_text(run: Run) -> str:
    v = run.input
    if isinstance(v, dict) and isinstance(v.get("message"), str):
        return v["message"]
    return v if isinstance(v, str) else show(v, 100_000)


class ExpectedTool:
    """Runs whose input matches ``when_input`` (a regex; every run if None) must call ``tool``."""

    def __init__(self, tool: str, when_input: str | None = None, name: str | None = None) -> None:
        self.tool = tool
        self.when = re.compile(when_input, re.I) if when_input else None
        self.name = name or f"expected-tool:{tool}"

    def evaluate(self, run: Run, spans: Sequence[Span]) -> Score | None:
        if self.when is not None and not self.when.search(_input_text(run)):
            return None
        tools = [c.tool for c in observed_calls(spans)]
        if self.tool in tools:
            return Score(self.name, 1.0, True, f"{self.tool} called")
        return Score(
            self.name,
            0.0,
            False,
            f"{self.tool} not called (called: {', '.join(tools) or 'nothing'})",
        )


class ArgumentCheck:
    """Every call of ``tool`` must have arguments matching ``args``; the score is the share that
    do. Not applicable to runs that did not call the tool."""

    def __init__(self, tool: str, args: Mapping[str, Matcher], name: str | None = None) -> None:
        self.pattern = CallPattern(tool, dict(args))
        self.name = name or f"arguments:{tool}"

    def evaluate(self, run: Run, spans: Sequence[Span]) -> Score | None:
        calls = [c for c in observed_calls(spans) if c.tool == self.pattern.tool]
        if not calls:
            return None
        bad = [c for c in calls if not self.pattern.matches(c)]
        value = 1 - len(bad) / len(calls)
        if not bad:
            return Score(
                self.name, value, True, f"{len(calls)} call(s) match {self.pattern.describe()}"
            )
        why = ", ".join(self.pattern.mismatches(bad[0]))
        return Score(
            self.name, value, False, f"{len(bad)}/{len(calls)} call(s) do not match: {why}"
        )


class Completion:
    """The run ended OK with an output (matching ``output_regex`` when given)."""

    def __init__(self, output_regex: str | None = None, name: str = "completion") -> None:
        self.regex = re.compile(output_regex, re.I) if output_regex else None
        self.name = name

    def evaluate(self, run: Run, spans: Sequence[Span]) -> Score | None:
        if run.status is SpanStatus.ERROR:
            return Score(self.name, 0.0, False, f"run failed: {run.error}")
        if run.output is None:
            return Score(self.name, 0.0, False, "no output")
        if self.regex is not None:
            text = run.output if isinstance(run.output, str) else show(run.output, 100_000)
            if not self.regex.search(text):
                return Score(self.name, 0.0, False, f"output does not match /{self.regex.pattern}/")
        return Score(self.name, 1.0, True, "completed")


# -- LLM-as-judge ------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeRequest:
    """What a judge sees: the criteria, the run's input, its actions and its output."""

    criteria: str
    input: JSON
    actions: tuple[str, ...]
    output: JSON


@dataclass(frozen=True)
class Judgement:
    score: float
    reason: str = ""


@runtime_checkable
class LlmJudge(Protocol):
    """Grades a run against criteria; any provider (or a fake, in tests) implements it."""

    def judge(self, request: JudgeRequest) -> Judgement: ...


class JudgeEvaluator:
    """An evaluator backed by an :class:`LlmJudge`; passes when the score is >= ``threshold``."""

    def __init__(self, name: str, judge: LlmJudge, criteria: str, threshold: float = 0.5) -> None:
        self.name, self.judge, self.criteria, self.threshold = name, judge, criteria, threshold

    def evaluate(self, run: Run, spans: Sequence[Span]) -> Score | None:
        actions = tuple(
            f"{c.tool}({show(dict(c.args), 200)}) -> {show(c.result, 200) if c.ok else c.error}"
            for c in observed_calls(spans)
        )
        j = self.judge.judge(JudgeRequest(self.criteria, run.input, actions, run.output))
        value = min(1.0, max(0.0, float(j.score)))
        return Score(self.name, value, value >= self.threshold, j.reason)


JUDGE_PROMPT = (
    "You grade the actions and answer of a customer-facing AI agent against criteria.\n"
    'Answer with one JSON object only: {"score": <number from 0 to 1>, "reason": "<one sentence>"}.'
)


class ModelJudge:
    """An :class:`LlmJudge` over any :class:`ModelClient`: one call, a JSON verdict parsed from
    the reply (an unparseable reply scores 0 with the reply as the reason)."""

    def __init__(self, client: ModelClient, params: Mapping[str, JSON] | None = None) -> None:
        self.client = client
        self.params = dict(params or {"temperature": 0})

    def judge(self, request: JudgeRequest) -> Judgement:
        body = {
            "criteria": request.criteria,
            "input": request.input,
            "actions": list(request.actions),
            "output": request.output,
        }
        messages = [
            {"role": "system", "content": JUDGE_PROMPT},
            {"role": "user", "content": orjson.dumps(body, default=str).decode()},
        ]
        reply = self.client.complete(messages, [], dict(self.params)).content
        text = reply if isinstance(reply, str) else ""
        found = re.search(r"\{.*\}", text, re.S)
        try:
            data = orjson.loads(found.group(0)) if found else None
            return Judgement(float(data["score"]), str(data.get("reason", "")))  # type: ignore[index,union-attr]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return Judgement(0.0, f"unparseable judge reply: {text[:120]!r}")


# -- applying evaluators ------------------------------------------------------------------


def _unit_hash(text: str) -> float:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") / 2**64


def eval_span_id(trace_id: str, evaluator: str) -> str:
    sid = hashlib.blake2b(f"{trace_id}:{evaluator}".encode(), digest_size=8).hexdigest()
    return sid if sid != "0" * 16 else "0" * 15 + "1"


class OnlineEvaluation:
    """Evaluators, a sampling rate in [0, 1], and the envs whose runs are scored (None: all)."""

    def __init__(
        self,
        evaluators: Sequence[Evaluator],
        *,
        sample_rate: float = 1.0,
        envs: Sequence[str] | None = ("production",),
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be in [0, 1], not {sample_rate}")
        self.evaluators = tuple(evaluators)
        self.sample_rate = sample_rate
        self.envs = None if envs is None else frozenset(envs)
        self.errors = 0

    def applies(self, run: Run) -> bool:
        if self.envs is not None and run.env not in self.envs:
            return False
        if run.attributes.get("eval.suite") is not None:
            return False  # offline eval runs are judged by their suite
        return _unit_hash(run.trace_id) < self.sample_rate

    def evaluate(self, run: Run, spans: Sequence[Span]) -> list[Score]:
        """Every evaluator's score; an evaluator that raises is logged, counted and skipped."""
        out = []
        for ev in self.evaluators:
            try:
                s = ev.evaluate(run, spans)
            except Exception as exc:
                self.errors += 1
                log.warning("agentdeck: evaluator %s failed on %s: %s", ev.name, run.trace_id, exc)
                continue
            if s is not None:
                out.append(s)
        return out

    def eval_spans(self, run: Run, spans: Sequence[Span], scores: Sequence[Score]) -> list[Span]:
        """Scores as ``eval`` spans under the run's root span."""
        root = run.root_span_id
        seq = max((s.seq for s in spans), default=0) + 1
        now = time.time_ns()
        return [
            Span(
                trace_id=run.trace_id,
                span_id=eval_span_id(run.trace_id, sc.evaluator),
                parent_id=root,
                name=f"eval {sc.evaluator}",
                kind=SpanKind.EVAL,
                start_ns=now,
                end_ns=now,
                seq=seq + i,
                status=SpanStatus.OK,
                outputs={"score": sc.value, "passed": sc.passed, "reason": sc.reason},
                attributes={
                    "eval.name": sc.evaluator,
                    "eval.score": sc.value,
                    "eval.passed": sc.passed,
                    "eval.online": True,
                },
                links=(SpanLink(run.trace_id, root, LinkKind.DATA),) if root else (),
            )
            for i, sc in enumerate(scores)
        ]

    def score_run(self, store: TraceStore, run: Run) -> list[Score]:
        """Score one stored run (if sampled) and store its eval spans."""
        if not self.applies(run):
            return []
        spans = [s for s in store.get_spans(run.trace_id) if s.kind is not SpanKind.EVAL]
        scores = self.evaluate(run, spans)
        if scores:
            store.write_batch([], self.eval_spans(run, spans, scores))
        return scores


class EvaluatingSink:
    """A span sink that writes to ``store`` and then scores the runs that just ended.

    Other attributes are the store's, so the SDK (and the policy guard looking for a registry)
    see the store itself.
    """

    def __init__(self, store: Store, online: OnlineEvaluation) -> None:
        self.store = store
        self.online = online
        self.scored = 0
        self._lock = threading.Lock()

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        self.store.write_batch(runs, spans)
        for run in runs:
            try:
                n = len(self.online.score_run(self.store, run))
            except Exception as exc:  # scoring must never make the exporter re-send
                self.online.errors += 1
                log.warning("agentdeck: online evaluation of %s failed: %s", run.trace_id, exc)
                continue
            with self._lock:
                self.scored += 1 if n else 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@dataclass(frozen=True)
class ScoreStats:
    evaluator: str
    runs: int
    mean: float
    pass_rate: float


def score_summary(store: TraceStore, query: RunQuery) -> list[ScoreStats]:
    """Per evaluator: how many of the runs ``query`` selects were scored, the mean score and
    the pass rate (what monitoring charts and alerts on)."""
    acc: dict[str, list[Score]] = {}
    for run in store.find_runs(query):
        for sc in scores_of(store.get_spans(run.trace_id)):
            acc.setdefault(sc.evaluator, []).append(sc)
    return [
        ScoreStats(
            name,
            len(v),
            sum(s.value for s in v) / len(v),
            sum(1 for s in v if s.passed) / len(v),
        )
        for name, v in sorted(acc.items())
    ]
