"""What a replay reports: a reproduction's first divergence, a candidate's actions set side by side
with the recording's, and behavioural agreement over many runs.

Vocabulary:

- A **step** is one model call or one tool call of a run, in recorded order (``seq``); steps are
  numbered from 1. A reproduction *diverges* at the first step where what the agent asked for
  differs from what the recording holds (:class:`Divergence`).
- An **action** is a tool call reduced to its name and arguments (:class:`Action`). Two actions
  are equal when their names are equal and their arguments have the same RFC 8785 canonical
  JSON (so key order and ``1`` vs ``1.0`` do not matter).
- A :class:`Comparison` aligns the recorded action sequence with a candidate's (``difflib``'s
  matching blocks) into rows: ``match``, ``differ``, ``recorded_only``, ``candidate_only``.
  ``agreed`` means the two sequences are equal; ``similarity`` is one minus the normalized
  edit (Levenshtein) distance between them.
- An :class:`AgreementReport` is a candidate compared over several recorded runs: ``agreement``
  is the fraction of runs whose action sequence it reproduced exactly.

Everything here is a frozen value with ``to_dict()`` (JSON data, as stored and as printed by
``--json``).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import orjson

from agentdeck.core.spec.canonical import canonical_json
from agentdeck.core.types import JSON
from agentdeck.tracing.sdk.wire import to_json_data


def canonical_key(value: JSON) -> str:
    """A canonical text of a JSON value: equal for equal data whatever the key order."""
    data = to_json_data(value)
    try:
        return canonical_json(data).decode()
    except Exception:  # values RFC 8785 refuses (NaN, huge ints): sorted-key JSON instead
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=str).decode()


def compact(value: JSON, limit: int = 120, *, quote: bool = False) -> str:
    """One-line JSON of ``value`` for reports, clipped to ``limit`` characters (a string is
    shown bare unless ``quote``)."""
    if isinstance(value, str) and not quote:
        text = value
    else:
        text = orjson.dumps(to_json_data(value), default=str).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Action:
    """One tool call as behaviour: the tool's name and its arguments."""

    tool: str
    args: JSON

    @property
    def key(self) -> str:
        return f"{self.tool}:{canonical_key(self.args)}"

    def label(self, limit: int = 80) -> str:
        return f"{self.tool}({compact(self.args, limit)})"

    def to_dict(self) -> dict[str, JSON]:
        return {"tool": self.tool, "args": to_json_data(self.args)}


class DivergenceKind(StrEnum):
    STEP = "step"  # a model call where the recording has a tool call, or the reverse
    MESSAGES = "messages"  # the context window sent to the model differs
    TOOLS = "tools"  # the tools offered to the model differ
    PARAMS = "params"  # the model parameters differ
    TOOL_NAME = "tool_name"  # a different tool was called
    TOOL_ARGS = "tool_args"  # the same tool with different arguments
    MISSING = "missing"  # the run ended before the recording's last step
    EXTRA = "extra"  # a call after the recording's last step
    STATUS = "status"  # one run failed and the other did not (or failed differently)
    OUTPUT = "output"  # same steps, different final output


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first place a reproduction differs from its recording.

    ``step`` is 1-based over model and tool calls (the recording's step count + 1 for checks
    made when the run ended); ``expected_call``/``actual_call`` label the two calls;
    ``path`` says where inside them they differ (``messages[2].content``, ``args.order_id``;
    empty when the whole value differs) and ``expected``/``actual`` are the values there.
    """

    step: int
    kind: DivergenceKind
    expected_call: str
    actual_call: str
    path: str
    expected: JSON
    actual: JSON

    def to_dict(self) -> dict[str, JSON]:
        return {
            "step": self.step,
            "kind": self.kind.value,
            "expected_call": self.expected_call,
            "actual_call": self.actual_call,
            "path": self.path,
            "expected": to_json_data(self.expected),
            "actual": to_json_data(self.actual),
        }


def first_difference(expected: JSON, actual: JSON, path: str = "") -> tuple[str, JSON, JSON] | None:
    """The first place two JSON values differ, as ``(path, expected part, actual part)``.

    Dicts are compared key by key (sorted), lists item by item; a missing item or key is
    reported with ``None`` on its side. Returns None when the values are equal.
    """
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in sorted(set(expected) | set(actual), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in expected or k not in actual:
                return sub, expected.get(k), actual.get(k)
            found = first_difference(expected[k], actual[k], sub)
            if found is not None:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for i in range(max(len(expected), len(actual))):
            sub = f"{path}[{i}]"
            if i >= len(expected) or i >= len(actual):
                return (sub, expected[i] if i < len(expected) else None,
                        actual[i] if i < len(actual) else None)  # fmt: skip
            found = first_difference(expected[i], actual[i], sub)
            if found is not None:
                return found
        return None
    if canonical_key(expected) == canonical_key(actual):
        return None
    return path, expected, actual


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """A reproduction: the recorded run re-executed with every response served from it."""

    source_trace_id: str
    replay_trace_id: str | None
    agent: str
    agent_digest: str
    steps: int
    served: int
    divergence: Divergence | None
    report_id: str | None = None

    @property
    def reproduced(self) -> bool:
        return self.divergence is None

    def to_dict(self) -> dict[str, JSON]:
        return {
            "kind": "reproduce",
            "source_trace_id": self.source_trace_id,
            "replay_trace_id": self.replay_trace_id,
            "agent": self.agent,
            "agent_digest": self.agent_digest,
            "steps": self.steps,
            "served": self.served,
            "reproduced": self.reproduced,
            "divergence": self.divergence.to_dict() if self.divergence else None,
            "report_id": self.report_id,
        }


class Served(StrEnum):
    """How a candidate's tool call was answered."""

    RECORDING = "recording"  # a recorded call with the same name and args: its result
    RECORDED_ERROR = "recorded_error"  # ... whose recorded outcome was an error, re-raised
    MISS = "miss"  # no recorded call matches: the agent got ToolCallNotRecorded
    LIVE = "live"  # no recorded call matches and --live-tools ran the tool


@dataclass(frozen=True, slots=True)
class CandidateCall:
    action: Action
    served: Served

    def to_dict(self) -> dict[str, JSON]:
        return {**self.action.to_dict(), "served": self.served.value}


class RowStatus(StrEnum):
    MATCH = "match"
    DIFFER = "differ"
    RECORDED_ONLY = "recorded_only"
    CANDIDATE_ONLY = "candidate_only"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the side-by-side view: a recorded action, a candidate call, or both."""

    status: RowStatus
    recorded: Action | None
    candidate: CandidateCall | None

    def to_dict(self) -> dict[str, JSON]:
        return {
            "status": self.status.value,
            "recorded": self.recorded.to_dict() if self.recorded else None,
            "candidate": self.candidate.to_dict() if self.candidate else None,
        }


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two sequences of action keys.

    Hand-rolled (a dozen lines, O(len(a) * len(b)) on runs of tens of actions) rather than a
    dependency: the usual libraries work on strings, and action keys are whole values.
    """
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """1 - edit distance / the longer length: 1.0 for equal sequences (and two empty ones)."""
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - edit_distance(a, b) / longest


def align(recorded: Sequence[Action], candidate: Sequence[CandidateCall]) -> tuple[Row, ...]:
    """Side-by-side rows: equal stretches match, replaced stretches pair up item by item."""
    a = [x.key for x in recorded]
    b = [c.action.key for c in candidate]
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(Row(RowStatus.MATCH, recorded[i], candidate[j])
                        for i, j in zip(range(i1, i2), range(j1, j2), strict=True))  # fmt: skip
            continue
        paired = min(i2 - i1, j2 - j1) if op == "replace" else 0
        rows.extend(
            Row(RowStatus.DIFFER, recorded[i1 + k], candidate[j1 + k]) for k in range(paired)
        )
        rows.extend(Row(RowStatus.RECORDED_ONLY, recorded[i], None) for i in range(i1 + paired, i2))
        rows.extend(
            Row(RowStatus.CANDIDATE_ONLY, None, candidate[j]) for j in range(j1 + paired, j2)
        )
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class Comparison:
    """A candidate version run against one recorded run's inputs, its actions beside the recording's."""

    source_trace_id: str
    replay_trace_id: str | None
    recorded_agent: str
    candidate_agent: str
    candidate_digest: str
    recorded: tuple[Action, ...]
    candidate: tuple[CandidateCall, ...]
    recorded_error: str | None
    candidate_error: str | None
    recorded_output: JSON
    candidate_output: JSON
    report_id: str | None = None

    @property
    def rows(self) -> tuple[Row, ...]:
        return align(self.recorded, self.candidate)

    @property
    def agreed(self) -> bool:
        """The candidate made exactly the recorded tool calls, in order, with the same args."""
        return [a.key for a in self.recorded] == [c.action.key for c in self.candidate]

    @property
    def similarity(self) -> float:
        return similarity([a.key for a in self.recorded], [c.action.key for c in self.candidate])

    def count(self, served: Served) -> int:
        return sum(1 for c in self.candidate if c.served is served)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "kind": "with",
            "source_trace_id": self.source_trace_id,
            "replay_trace_id": self.replay_trace_id,
            "recorded_agent": self.recorded_agent,
            "candidate_agent": self.candidate_agent,
            "candidate_digest": self.candidate_digest,
            "agreed": self.agreed,
            "similarity": round(self.similarity, 6),
            "served": self.count(Served.RECORDING) + self.count(Served.RECORDED_ERROR),
            "misses": self.count(Served.MISS),
            "live": self.count(Served.LIVE),
            "recorded": [a.to_dict() for a in self.recorded],
            "candidate": [c.to_dict() for c in self.candidate],
            "rows": [r.to_dict() for r in self.rows],
            "recorded_error": self.recorded_error,
            "candidate_error": self.candidate_error,
            "recorded_output": to_json_data(self.recorded_output),
            "candidate_output": to_json_data(self.candidate_output),
            "report_id": self.report_id,
        }


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """A candidate replayed against several recorded runs: how often it did what they did.

    ``agreement`` is the fraction of runs whose action sequence the candidate reproduced
    exactly (1.0 for no runs is not claimed: it is 0.0, and ``runs`` is empty);
    ``mean_similarity`` averages the per-run similarities.
    """

    candidate_agent: str
    candidate_digest: str
    runs: tuple[Comparison, ...]
    report_id: str | None = None

    @property
    def agreement(self) -> float:
        return sum(c.agreed for c in self.runs) / len(self.runs) if self.runs else 0.0

    @property
    def mean_similarity(self) -> float:
        return sum(c.similarity for c in self.runs) / len(self.runs) if self.runs else 0.0

    @property
    def disagreements(self) -> tuple[Comparison, ...]:
        return tuple(c for c in self.runs if not c.agreed)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "kind": "agreement",
            "candidate_agent": self.candidate_agent,
            "candidate_digest": self.candidate_digest,
            "runs": len(self.runs),
            "agreement": round(self.agreement, 6),
            "mean_similarity": round(self.mean_similarity, 6),
            "disagreements": [c.source_trace_id for c in self.disagreements],
            "comparisons": [c.to_dict() for c in self.runs],
            "report_id": self.report_id,
        }
