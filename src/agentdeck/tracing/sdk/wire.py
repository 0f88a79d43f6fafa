"""The JSON wire format of a batch of runs and spans (HTTP ingest body and spill-file line).

A batch is one JSON object::

    {"v": 1,
     "runs":  [{"trace_id", "agent_name", "agent_version", "agent_digest", "env",
                "deployment_id", "start_ns", "end_ns", "status", "error", "input", "output",
                "root_span_id", "attributes", "tool_errors", "denied_calls", "outcome",
                "outcome_score", "outcome_reason", "session_id", "user_id"}, ...],
     "spans": [{"trace_id", "span_id", "parent_id", "name", "kind", "start_ns", "end_ns",
                "seq", "status", "error", "inputs", "outputs", "attributes",
                "links": [{"trace_id", "span_id", "kind"}],
                "usage": {"input_tokens", "output_tokens", "cache_read_tokens",
                          "reasoning_tokens"} | null}, ...]}

Every key is always present (a run's summary, session and user keys, added later, may be missing on input: the
store counts ``tool_errors`` and ``denied_calls`` from the spans anyway); enums are their string values; times are integer nanoseconds
since the Unix epoch. ``span_from_dict(span_to_dict(s)) == s`` for any span whose payloads are
JSON data (the Hypothesis test checks it). :func:`to_json_data` turns arbitrary user values into
JSON data (never failing: unknown objects become their ``repr``).

:func:`capture` is what the recorder calls on the agent's thread, at call time, for every user
value a span records (tool arguments and results, message lists, params, inputs, outputs,
attributes): the value as it is *now*, so that an agent changing a dict after the call cannot
change the trace. Scalars and small flat dicts are copied; anything else is serialized to JSON
bytes at once (:class:`~agentdeck.core.trace.raw_json.Frozen`, orjson). The exporter keeps those bytes
as they are (limits, redaction and the JSON writers here use them without parsing them; see
:mod:`agentdeck.core.trace.raw_json`); :func:`to_json_data` parses them wherever they are in a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import (
    JSON,
    LinkKind,
    Outcome,
    Run,
    Span,
    SpanKind,
    SpanLink,
    SpanStatus,
    TokenUsage,
)
from agentdeck.core.trace.raw_json import Frozen

WIRE_VERSION = 1
_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _fallback(value: Any) -> Any:
    """orjson ``default=``: sets and tuples-like become lists, anything else its ``repr``."""
    if type(value) is Frozen:
        return orjson.Fragment(value.data)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if hasattr(value, "model_dump"):  # pydantic v2 models
        try:
            return value.model_dump(mode="json")
        except Exception:
            pass
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    return repr(value)


def dumps(value: Any) -> bytes:
    """JSON bytes for any value; unknown objects are written as their ``repr``."""
    try:
        return orjson.dumps(value, default=_fallback, option=_OPTS)
    except TypeError:
        # Integers beyond 64 bits, recursion, or a key orjson refuses: degrade that value only.
        return orjson.dumps(_scrub(value), default=_fallback, option=_OPTS)


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 64:
        return "<too deep>"
    if isinstance(value, Mapping):
        return {str(k): _scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, depth + 1) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        return str(value)
    try:
        orjson.dumps(value, default=_fallback, option=_OPTS)
        return value
    except TypeError:
        try:
            return repr(value)
        except Exception as exc:  # a __repr__ that raises: this value only becomes a marker
            return _marker(value, exc)


def to_json_data(value: Any, owned: bool = False) -> JSON:
    """A snapshot of ``value`` as plain JSON data (dicts, lists, str, numbers, bools, None).

    ``owned=True`` says the caller made ``value`` itself, so a flat dict of scalars is not copied.
    """
    t = type(value)
    if value is None or t in _SCALARS:
        return value
    if t is Frozen:
        return orjson.loads(value.data)
    fast = _flat_copy(value, owned) if t is dict else None
    if fast is not None:
        return fast
    return orjson.loads(dumps(value))


def _flat_copy(value: dict[Any, Any], owned: bool) -> dict[str, Any] | None:
    """A copy of a small dict of str keys and scalars (or short lists of scalars), else None."""
    if len(value) <= 16:
        # Fast path (most tool args and results, policy decisions): a small dict of str keys
        # and scalars, or short lists of scalars (copied: the caller may change them later).
        lists = False
        for k, v in value.items():
            if type(k) is not str:
                break
            if v is None or type(v) in _SCALARS:
                continue
            if (
                type(v) is list
                and len(v) <= 16
                and all(x is None or type(x) in _SCALARS for x in v)
            ):
                lists = True
                continue
            break
        else:
            if lists:
                return {k: list(v) if type(v) is list else v for k, v in value.items()}
            return value if owned else dict(value)
    return None


_SCALARS = frozenset({str, int, float, bool})


def capture(value: Any, owned: bool = False) -> Any:
    """``value`` as it is now, safe to keep: JSON data or a :class:`Frozen`. Never raises.

    Runs on the agent's thread at call time. ``owned=True`` says the caller built ``value``
    itself (a flat dict of scalars is then kept, not copied). A value that cannot be serialized
    at all (its ``repr`` raises, say) is recorded as a ``<not captured: ...>`` marker string.
    """
    t = type(value)
    if value is None or t in _SCALARS or t is Frozen:
        return value
    try:
        if t is dict:
            fast = _flat_copy(value, owned)
            if fast is not None:
                return fast
        try:  # plain JSON (the common case) is fastest without options or default=
            return Frozen(orjson.dumps(value))
        except TypeError:  # non-str keys, numpy, unknown objects, big ints: the general path
            return Frozen(dumps(value))
    except Exception as exc:  # a hostile __repr__, a dict changed by another thread...
        return _marker(value, exc)


def capture_map(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """A new dict of ``values`` with each value captured (for attribute maps). Never raises."""
    if not values:
        return {}
    try:
        return {str(k): capture(v) for k, v in values.items()}
    except Exception as exc:
        return {"agentdeck.capture_error": _marker(values, exc)}


def _marker(value: Any, exc: Exception) -> str:
    try:
        return f"<not captured: {type(value).__name__}: {type(exc).__name__}: {exc}>"
    except Exception:
        return f"<not captured: {type(value).__name__}>"


# -- spans ---------------------------------------------------------------------------------


def _usage_to_dict(u: TokenUsage | None) -> dict[str, int] | None:
    if u is None:
        return None
    return {
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_read_tokens": u.cache_read_tokens,
        "reasoning_tokens": u.reasoning_tokens,
    }


def span_to_dict(span: Span) -> dict[str, JSON]:
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_id": span.parent_id,
        "name": span.name,
        "kind": span.kind.value,
        "start_ns": span.start_ns,
        "end_ns": span.end_ns,
        "seq": span.seq,
        "status": span.status.value,
        "error": span.error,
        "inputs": span.inputs,
        "outputs": span.outputs,
        "attributes": span.attributes,
        "links": [
            {"trace_id": lk.trace_id, "span_id": lk.span_id, "kind": lk.kind.value}
            for lk in span.links
        ],
        "usage": _usage_to_dict(span.usage),
    }


def span_from_dict(data: Mapping[str, JSON], where: str = "span") -> Span:
    """Rebuild a span; a missing or mistyped field raises :class:`InputError` naming it."""
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected a JSON object")
    try:
        usage = data.get("usage")
        return Span(
            trace_id=str(data["trace_id"]),
            span_id=str(data["span_id"]),
            parent_id=data.get("parent_id"),
            name=str(data["name"]),
            kind=SpanKind(data["kind"]),
            start_ns=int(data["start_ns"]),
            end_ns=int(data["end_ns"]),
            seq=int(data.get("seq", 0)),
            status=SpanStatus(data.get("status", "unset")),
            error=data.get("error"),
            inputs=data.get("inputs"),
            outputs=data.get("outputs"),
            attributes=dict(data.get("attributes") or {}),
            links=tuple(
                SpanLink(str(lk["trace_id"]), str(lk["span_id"]), LinkKind(lk.get("kind", "data")))
                for lk in data.get("links") or ()
            ),
            usage=TokenUsage(**usage) if usage is not None else None,
        )
    except KeyError as exc:
        raise InputError(f"{where}: missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from None


# -- runs ----------------------------------------------------------------------------------


def run_to_dict(run: Run) -> dict[str, JSON]:
    return {
        "trace_id": run.trace_id,
        "agent_name": run.agent_name,
        "agent_version": run.agent_version,
        "agent_digest": run.agent_digest,
        "env": run.env,
        "deployment_id": run.deployment_id,
        "start_ns": run.start_ns,
        "end_ns": run.end_ns,
        "status": run.status.value,
        "error": run.error,
        "input": run.input,
        "output": run.output,
        "root_span_id": run.root_span_id,
        "attributes": run.attributes,
        "tool_errors": run.tool_errors,
        "denied_calls": run.denied_calls,
        "outcome": run.outcome.value if run.outcome is not None else None,
        "outcome_score": run.outcome_score,
        "outcome_reason": run.outcome_reason,
        "session_id": run.session_id,
        "user_id": run.user_id,
        "canary_arm": run.canary_arm,
    }


def _opt_text(value: JSON, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{field} must be a string, not {type(value).__name__}")


def run_from_dict(data: Mapping[str, JSON], where: str = "run") -> Run:
    """Rebuild a run; a missing or mistyped field raises :class:`InputError` naming it."""
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected a JSON object")
    try:
        end = data.get("end_ns")
        version = data.get("agent_version")
        outcome, score = data.get("outcome"), data.get("outcome_score")
        return Run(
            trace_id=str(data["trace_id"]),
            agent_name=data.get("agent_name"),
            agent_version=int(version) if version is not None else None,
            agent_digest=data.get("agent_digest"),
            env=data.get("env"),
            deployment_id=data.get("deployment_id"),
            start_ns=int(data["start_ns"]),
            end_ns=int(end) if end is not None else None,
            status=SpanStatus(data.get("status", "unset")),
            error=data.get("error"),
            input=data.get("input"),
            output=data.get("output"),
            root_span_id=data.get("root_span_id"),
            attributes=dict(data.get("attributes") or {}),
            tool_errors=int(data.get("tool_errors") or 0),
            denied_calls=int(data.get("denied_calls") or 0),
            outcome=Outcome(outcome) if outcome is not None else None,
            outcome_score=float(score) if score is not None else None,
            outcome_reason=data.get("outcome_reason"),
            session_id=_opt_text(data.get("session_id"), "session_id"),
            user_id=_opt_text(data.get("user_id"), "user_id"),
            canary_arm=_opt_text(data.get("canary_arm"), "canary_arm"),
        )
    except KeyError as exc:
        raise InputError(f"{where}: missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from None


# -- batches -------------------------------------------------------------------------------


def batch_to_dict(runs: Sequence[Run], spans: Sequence[Span]) -> dict[str, JSON]:
    return {
        "v": WIRE_VERSION,
        "runs": [run_to_dict(r) for r in runs],
        "spans": [span_to_dict(s) for s in spans],
    }


def batch_to_bytes(runs: Sequence[Run], spans: Sequence[Span]) -> bytes:
    return dumps(batch_to_dict(runs, spans))


def batch_from_dict(data: Any, where: str = "batch") -> tuple[list[Run], list[Span]]:
    """Parse a batch; errors name the element (``batch.spans[3]: missing field 'kind'``)."""
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected a JSON object")
    if data.get("v", WIRE_VERSION) != WIRE_VERSION:
        raise InputError(f"{where}.v: unsupported wire version {data.get('v')!r}")
    runs_raw, spans_raw = data.get("runs") or [], data.get("spans") or []
    if not isinstance(runs_raw, list) or not isinstance(spans_raw, list):
        raise InputError(f"{where}: 'runs' and 'spans' must be lists")
    runs = [run_from_dict(r, f"{where}.runs[{i}]") for i, r in enumerate(runs_raw)]
    spans = [span_from_dict(s, f"{where}.spans[{i}]") for i, s in enumerate(spans_raw)]
    return runs, spans


def batch_from_bytes(body: bytes, where: str = "batch") -> tuple[list[Run], list[Span]]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc})") from None
    return batch_from_dict(data, where)
