"""Compact per-run summaries: what a behaviour profile reads from a run, without its values.

A window check must not re-read and re-parse every span of every run in the window
(``RunView.from_run`` costs ~96 us a run). When a run is checked on arrival its
:class:`~agentdeck.core.behaviour.run_view.RunView` is reduced to a summary row (JSON, ~0.7 KB for the
synthetic agent) and stored; window and baseline profiles are rebuilt from summaries with
:func:`view_from_summary`, which gives :class:`~agentdeck.core.behaviour.profile.ProfileBuilder`
everything it reads:

- per tool call: tool, argument digest, validity, error, latency, response digests, and the
  response's *skeleton* (the response with every leaf replaced by a value of its type:
  ``""``, ``0``, ``0.0``, ``false``, ``null``; list items de-duplicated). genson's inferred
  schema depends only on types and keys, so the skeleton infers exactly the same schema as
  the response; the skeleton's JSON text is also its shape key;
- policy effects, response model ids, run latency, tokens, completion and error;
- the context features (input length, turns, tool-response sizes, scripts, bag of words).

Argument and response values, span ids and messages are not kept: per-run checks read the
full view when the run arrives, and a finding names its span then.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple, cast

import orjson

from agentdeck.core.behaviour.context_features import ContextFeatures
from agentdeck.core.behaviour.run_view import RunView
from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Outcome, SpanStatus
from agentdeck.core.types import JSON

SUMMARY_FORMAT = 1


def skeleton(value: JSON) -> JSON:
    """``value`` with every leaf replaced by a canonical value of its JSON type."""
    if isinstance(value, dict):
        return {str(k): skeleton(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        seen: dict[bytes, JSON] = {}
        for item in value:
            sk = skeleton(item)
            seen.setdefault(orjson.dumps(sk, option=orjson.OPT_SORT_KEYS), sk)
        return [seen[k] for k in sorted(seen)]
    if value is None or isinstance(value, bool):
        return None if value is None else False
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.0
    return ""


def _skeleton_text(value: JSON) -> str:
    return orjson.dumps(skeleton(value), option=orjson.OPT_SORT_KEYS).decode()


def summarize(view: RunView) -> dict[str, Any]:
    """The summary of ``view`` as a JSON-ready dict (see the module docstring)."""
    ctx = view.context
    return {
        "f": SUMMARY_FORMAT,
        "s": view.status.value,
        "o": view.has_output,
        "e": view.error is not None,
        "l": view.latency_ms,
        "t": view.tokens,
        "oc": view.outcome.value if view.outcome is not None else None,
        "os": view.outcome_score,
        "c": [
            [
                c.tool,
                c.args_key,
                c.args_valid,
                c.error,
                c.latency_ms,
                c.response_key if c.has_result else None,
                c.response_unordered_key,
                _skeleton_text(c.result) if c.has_result else None,
            ]
            for c in view.tool_calls
        ],
        "p": [[p.effect, p.tool] for p in view.policy],
        "m": [m.response_model for m in view.llm_calls],
        "x": [
            ctx.input_chars,
            ctx.turns,
            list(ctx.tool_response_bytes),
            [list(p) for p in ctx.script_chars],
            ctx.dominant_script,
            list(ctx.bow),
        ],
    }


def summary_text(view: RunView) -> str:
    return orjson.dumps(summarize(view)).decode()


@lru_cache(maxsize=4096)
def _sample(shape_text: str) -> JSON:
    return orjson.loads(shape_text)


_STATUS = {s.value: s for s in SpanStatus}
_OK = SpanStatus.OK
_ERROR = SpanStatus.ERROR


class _Call(NamedTuple):
    """The fields of :class:`ToolCall` that profiles read (a tuple: cheap to build)."""

    tool: str
    args_key: str
    args_valid: bool | None
    error: bool
    latency_ms: float | None
    response_key: str
    response_unordered_key: str
    response_shape: str | None
    has_result: bool
    result: JSON
    span_id: str = ""
    args: JSON = None


class _Policy(NamedTuple):
    effect: str
    tool: str | None
    span_id: str = ""
    message: str | None = None


class _Llm(NamedTuple):
    response_model: str | None
    span_id: str = ""
    model: str | None = None
    offered_tools: tuple[JSON, ...] = ()


class SummaryView:
    """A read-only stand-in for :class:`RunView` rebuilt from a summary: the same attributes
    profiles read, built with plain tuples (a frozen dataclass costs ~1 us a field to build,
    which dominated a 100k-run window). Tool calls have no arguments (``None``), their
    ``result`` is the response skeleton, span ids are empty."""

    __slots__ = (
        "context",
        "error",
        "has_output",
        "latency_ms",
        "llm_calls",
        "outcome",
        "outcome_score",
        "policy",
        "status",
        "tokens",
        "tool_calls",
        "trace_id",
    )

    def __init__(self, d: dict[str, Any], trace_id: str) -> None:
        self.trace_id = trace_id
        self.status = _STATUS[d["s"]]
        self.has_output = d["o"]
        self.error = "error" if d["e"] else None
        self.tool_calls = tuple(
            _Call(t, a, v, e, lat, r or "", u, sh, r is not None, _sample(sh) if sh else None)
            for t, a, v, e, lat, r, u, sh in d["c"]
        )
        self.policy = tuple(_Policy(eff, tool) for eff, tool in d["p"])
        self.llm_calls = tuple(_Llm(m) for m in d["m"])
        self.latency_ms = d["l"]
        self.tokens = d["t"]
        oc = d.get("oc")  # absent from summaries written before outcomes were kept
        self.outcome = Outcome(oc) if oc in ("success", "failure") else None
        self.outcome_score = d.get("os")
        inp, turns, sizes, scripts, dominant, bow = d["x"]
        self.context = ContextFeatures(
            inp, turns, tuple(sizes), tuple(map(tuple, scripts)), dominant, tuple(bow)
        )

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(c.tool for c in self.tool_calls)

    @property
    def completed(self) -> bool:
        if self.outcome is not None:
            return self.outcome is Outcome.SUCCESS
        return self.status is _OK and self.has_output

    @property
    def errored(self) -> bool:
        return self.status is _ERROR


def view_from_summary(text: str | bytes, trace_id: str = "") -> RunView:
    """The view a profile needs, rebuilt from a summary (a :class:`SummaryView`, typed as
    the :class:`RunView` it stands in for: it has every attribute ``ProfileBuilder`` reads)."""
    d = orjson.loads(text)
    if type(d) is not dict or d.get("f") != SUMMARY_FORMAT:
        got = d.get("f") if isinstance(d, dict) else type(d).__name__
        raise InputError(f"run summary {trace_id}: f: unsupported format {got!r}")
    return cast(RunView, SummaryView(d, trace_id))
