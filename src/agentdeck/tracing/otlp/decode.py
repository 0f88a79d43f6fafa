"""OTLP -> agentdeck spans and runs: the conversion behind the ``/v1/traces`` receiver.

Entry points: :func:`decode_otlp` takes an OTLP/HTTP body as received (protobuf or JSON,
gzip or not) and :func:`decode_request` an already-parsed ``ExportTraceServiceRequest``. Both
return a :class:`DecodeResult`: the spans, the runs derived from them, and the spans rejected
with the part and reason (for OTLP partial success). A body that cannot be read at all raises
:class:`OtlpDecodeError` (an ``InputError``).

What a span becomes, in order of trust:

1. ``agentdeck.*`` attributes written by :mod:`otlp_map` (exact round trip);
2. the GenAI semantic conventions (``gen_ai.operation.name`` and friends);
3. OpenInference (``openinference.span.kind``, ``input.value``, ``llm.input_messages.*`` ...),
   and OpenLLMetry's older ``gen_ai.prompt.{i}.*`` flattening.

Tool spans named ``transfer_to_<agent>`` or ``handoff to <agent>`` become ``handoff`` spans.
Status comes from the OTLP status alone: UNSET and OK stay apart on spans, and an ``exception``
event on a span that did not end in ERROR is kept (``otel.events``) but is no failure. A run
derived from a root span whose status is UNSET (OpenTelemetry's default for success) is OK, and
one whose root has no output takes the last model answer that called no tool. ``seq`` is
``agentdeck.seq`` when present, else the span's rank by start time within its trace in this
request.

A run is derived for each trace whose run stamp (``agentdeck.run.*``) or root span is in the
request (``DecodeResult.runs``). A trace seen only through child spans (OTel exports children
before their parent; a remote parent never arrives; some instrumentations never export the
application's root) gets a *provisional* run instead (``DecodeResult.provisional_runs``, marked
with :data:`~agentdeck.core.trace.model.PROVISIONAL`), derived from this request's spans of the trace:
earliest start, latest end, ``error`` if any span errored (the error of the earliest errored
span) else ``unset`` (the outcome is the root's to tell), the agent of the earliest agent span
(or of the earliest span naming an agent), env and deployment as for a root, the resource
attributes. Every run gets the trace's session and user from any of the request's spans
(:mod:`agentdeck.tracing.otlp.who`). The store merges it with what it already has (see
:meth:`agentdeck.store.sql_traces.SqlTraces.write_batch`): it creates the run if the trace has
none, widens a provisional one, and leaves a real one alone; a real run replaces a provisional
one whole.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agentdeck.core.trace.model import (
    PROVISIONAL,
    Outcome,
    Run,
    Span,
    SpanKind,
    SpanLink,
    SpanStatus,
)
from agentdeck.tracing.otlp import names as n
from agentdeck.tracing.otlp.fields import (
    KIND_OF_LINK,
    agent_name_of,
    map_fields,
    span_kind,
)
from agentdeck.tracing.otlp.quirks import error_text
from agentdeck.tracing.otlp.values import JSON, loads_or_raw
from agentdeck.tracing.otlp.who import session_and_user
from agentdeck.tracing.otlp.wire import (
    DEFAULT_MAX_BODY_BYTES,
    OtlpDecodeError,
    RawSpan,
    RejectedSpan,
    UnsupportedMediaType,
    inflate,
    media_type,
    parse_protobuf,
    raw_spans_from_json,
    raw_spans_from_proto,
)

__all__ = [
    "DecodeResult",
    "OtlpDecodeError",
    "RejectedSpan",
    "UnsupportedMediaType",
    "decode_otlp",
    "decode_request",
]

_STATUS = {
    n.STATUS_UNSET: SpanStatus.UNSET,
    n.STATUS_OK: SpanStatus.OK,
    n.STATUS_ERROR: SpanStatus.ERROR,
}
_RUN_STATUS = {s.value: s for s in SpanStatus}


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """What one OTLP request holds, in agentdeck terms.

    ``runs`` come from a root span or a run stamp; ``provisional_runs`` stand in for the traces
    seen only through child spans (one each, never a trace that is also in ``runs``).
    """

    spans: tuple[Span, ...]
    runs: tuple[Run, ...]
    rejected: tuple[RejectedSpan, ...] = ()
    provisional_runs: tuple[Run, ...] = ()

    @property
    def traces_without_run(self) -> tuple[str, ...]:
        """The traces of this request with neither a root span nor a run stamp."""
        return tuple(r.trace_id for r in self.provisional_runs)

    @property
    def rejected_count(self) -> int:
        return len(self.rejected)

    def error_message(self, limit: int = 5) -> str:
        """A one-line summary of the rejections for OTLP ``partial_success.error_message``."""
        if not self.rejected:
            return ""
        shown = "; ".join(str(r) for r in self.rejected[:limit])
        more = len(self.rejected) - limit
        return f"{shown}; and {more} more" if more > 0 else shown


def decode_otlp(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None = None,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> DecodeResult:
    """Decode an OTLP/HTTP trace request body as received.

    ``content_type`` is ``application/x-protobuf`` or ``application/json`` (parameters such as
    ``charset`` are ignored); ``content_encoding`` is ``gzip``, ``identity`` or None. The body
    is refused past ``max_body_bytes`` once inflated. Raises :class:`UnsupportedMediaType`
    (HTTP 415) or :class:`OtlpDecodeError` (HTTP 400) for a body that cannot be read.
    """
    flavour = media_type(content_type)
    data = inflate(body, content_encoding, max_body_bytes)
    if flavour == "json":
        raw, rejected = raw_spans_from_json(data)
    else:
        raw, rejected = raw_spans_from_proto(parse_protobuf(data))
    return _build(raw, rejected)


def decode_request(request: ExportTraceServiceRequest) -> DecodeResult:
    """Decode an already-parsed OTLP export request (e.g. from a gRPC servicer)."""
    raw, rejected = raw_spans_from_proto(request)
    return _build(raw, rejected)


def decode_raw(raws: list[RawSpan], rejected: list[RejectedSpan]) -> DecodeResult:
    """Decode spans read already (e.g. from every line of a collector's file export at once,
    so that a trace split over lines gets one run)."""
    return _build(raws, rejected)


# --- spans --------------------------------------------------------------------------------


def _seqs(raws: list[RawSpan]) -> list[int]:
    """``agentdeck.seq`` where present, else the rank by start time within the trace."""
    out: list[int | None] = []
    missing: dict[str, None] = {}
    for r in raws:
        seq = r.attrs.get(n.AD_SEQ)
        if isinstance(seq, int) and not isinstance(seq, bool):
            out.append(seq)
        else:
            out.append(None)
            missing[r.trace_id] = None
    if missing:
        members: dict[str, list[int]] = {}
        for i, r in enumerate(raws):
            if r.trace_id in missing:
                members.setdefault(r.trace_id, []).append(i)
        for indices in members.values():
            indices.sort(key=lambda i: raws[i].start_ns)  # stable: request order breaks ties
            for rank, i in enumerate(indices):
                if out[i] is None:
                    out[i] = rank
    return [0 if s is None else s for s in out]


def _ancestor_agent(raw: RawSpan, by_id: dict[str, RawSpan]) -> str | None:
    """The agent name of the nearest ancestor in this request that names one."""
    seen = 0
    parent = by_id.get(raw.parent_id) if raw.parent_id else None
    while parent is not None and seen < 256:
        name = agent_name_of(parent.attrs, parent.name)
        if name is not None:
            return name
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
        seen += 1
    return None


def _to_span(raw: RawSpan, seq: int, by_id: dict[str, RawSpan]) -> Span:
    attrs = raw.attrs
    kind, handoff_to = span_kind(attrs, raw.name)
    fields = map_fields(raw, kind)
    attributes = fields.attributes
    if handoff_to is not None:
        attributes.setdefault(n.HANDOFF_TO_ATTR, handoff_to)
        if n.HANDOFF_FROM_ATTR not in attributes:
            source = _ancestor_agent(raw, by_id)
            if source is not None:
                attributes[n.HANDOFF_FROM_ATTR] = source
    status = _STATUS.get(raw.status_code, SpanStatus.UNSET)
    error: str | None = None
    if status is SpanStatus.ERROR:
        if raw.status_message:
            error, traceback = error_text(raw.status_message, fields.exception)
            if traceback is not None:
                attributes.setdefault(n.STACKTRACE_ATTR, traceback)
        else:
            error = fields.exception or _str(attrs.get(n.ERROR_TYPE))
    explicit = attrs.get(n.AD_ERROR)
    if isinstance(explicit, str):
        error = explicit
    links = tuple(
        SpanLink(
            tid, sid, KIND_OF_LINK.get(_str(la.get(n.AD_LINK_KIND)) or "", KIND_OF_LINK["data"])
        )
        for tid, sid, la in raw.links
    )
    return Span(
        trace_id=raw.trace_id,
        span_id=raw.span_id,
        parent_id=raw.parent_id,
        name=own_name if isinstance(own_name := attrs.get(n.AD_NAME), str) else raw.name,
        kind=kind,
        start_ns=raw.start_ns,
        end_ns=raw.end_ns,
        seq=seq,
        status=status,
        error=error,
        inputs=fields.inputs,
        outputs=fields.outputs,
        attributes=attributes,
        links=links,
        usage=fields.usage,
    )


def _str(value: JSON) -> str | None:
    return value if isinstance(value, str) else None


def _name_bare_arguments(spans: list[Span]) -> list[Span]:
    """A tool span whose arguments came as a bare value (a one-parameter tool) gets them named
    after the model's tool call with the same id in this request, when that call's arguments
    are one parameter holding the same value; otherwise the value stays, with its note."""
    bare = [i for i, s in enumerate(spans) if n.TOOL_ARGS_NOTE_ATTR in s.attributes]
    if not bare:
        return spans
    calls: dict[tuple[str, str], JSON] = {}
    for s in spans:
        if s.kind is SpanKind.LLM and isinstance(s.outputs, dict):
            message = s.outputs.get("message")
            tool_calls = message.get("tool_calls") if isinstance(message, dict) else None
            for call in tool_calls if isinstance(tool_calls, list) else ():
                if isinstance(call, dict) and isinstance(call.get("id"), str):
                    calls[(s.trace_id, call["id"])] = call.get("arguments")
    out = list(spans)
    for i in bare:
        s = spans[i]
        call_id = s.attributes.get(n.TOOL_CALL_ID_ATTR)
        args = calls.get((s.trace_id, call_id)) if isinstance(call_id, str) else None
        value = s.inputs.get("args") if isinstance(s.inputs, dict) else None
        if isinstance(args, dict) and len(args) == 1 and str(next(iter(args.values()))) == value:
            attributes = {k: v for k, v in s.attributes.items() if k != n.TOOL_ARGS_NOTE_ATTR}
            out[i] = replace(s, inputs={"args": args}, attributes=attributes)
    return out


# --- runs ---------------------------------------------------------------------------------


def _int(value: JSON) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _run_from_stamp(raw: RawSpan, span: Span) -> Run:
    a = raw.attrs
    attributes = loads_or_raw(a.get(n.RUN_ATTRIBUTES))
    start = _int(a.get(n.RUN_START_NS))
    return Run(
        trace_id=raw.trace_id,
        agent_name=_str(a.get(n.RUN_AGENT_NAME)),
        agent_version=_int(a.get(n.RUN_AGENT_VERSION)),
        agent_digest=_str(a.get(n.RUN_AGENT_DIGEST)),
        env=_str(a.get(n.RUN_ENV)),
        deployment_id=_str(a.get(n.RUN_DEPLOYMENT_ID)),
        start_ns=span.start_ns if start is None else start,
        end_ns=_int(a.get(n.RUN_END_NS)),
        status=_RUN_STATUS.get(_str(a.get(n.RUN_STATUS)) or "", SpanStatus.UNSET),
        error=_str(a.get(n.RUN_ERROR)),
        input=loads_or_raw(a[n.RUN_INPUT]) if n.RUN_INPUT in a else None,
        output=loads_or_raw(a[n.RUN_OUTPUT]) if n.RUN_OUTPUT in a else None,
        root_span_id=_str(a.get(n.RUN_ROOT_SPAN_ID)),
        attributes=attributes if isinstance(attributes, dict) else {},
        **_outcome(a),
        canary_arm=_str(a.get(n.RUN_CANARY_ARM)) or _canary_arm(raw),
    )


def _outcome(a: Mapping[str, JSON]) -> dict[str, Any]:
    """The run stamp's outcome fields; an unknown outcome or a non-number score is left out."""
    outcome = _str(a.get(n.RUN_OUTCOME))
    score = a.get(n.RUN_OUTCOME_SCORE)
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        score = None
    return {
        "outcome": Outcome(outcome) if outcome in ("success", "failure") else None,
        "outcome_score": None if score is None else float(score),
        "outcome_reason": _str(a.get(n.RUN_OUTCOME_REASON)),
    }


def _first_str(*values: JSON) -> str | None:
    for value in values:
        if isinstance(value, str):
            return value
    return None


def _derived_run(root_raw: RawSpan, root: Span, members: list[Span]) -> Run:
    """A run for a trace from a foreign exporter: its root span, the first agent span."""
    agent = root if root.kind is SpanKind.AGENT else None
    if agent is None or agent.attributes.get(n.AGENT_NAME_ATTR) is None:
        agents = [
            s for s in members if s.kind is SpanKind.AGENT and s.attributes.get(n.AGENT_NAME_ATTR)
        ]
        agent = min(agents, key=lambda s: s.seq) if agents else agent
    agent_attrs = agent.attributes if agent is not None else {}
    version = agent_attrs.get(n.AGENT_VERSION_ATTR)
    output = root.outputs if root.outputs is not None else _final_answer(members)
    return Run(
        trace_id=root.trace_id,
        agent_name=_str(agent_attrs.get(n.AGENT_NAME_ATTR)),
        agent_version=_int(version),
        agent_digest=_str(agent_attrs.get(n.AGENT_DIGEST_ATTR)),
        env=_env(root_raw),
        deployment_id=_deployment_id(root_raw),
        start_ns=root.start_ns,
        end_ns=root.end_ns,
        # UNSET is OpenTelemetry's default for an operation that did not fail: a success.
        status=SpanStatus.OK if root.status is SpanStatus.UNSET else root.status,
        error=root.error,
        input=root.inputs,
        output=output,
        root_span_id=root.span_id,
        attributes={**root_raw.resource, **_canary_share(root_raw)},
        canary_arm=_canary_arm(root_raw),
    )


def _final_answer(members: list[Span]) -> JSON:
    """A root without output (the Agents SDK's workflow span, GenAI ``invoke_agent`` without
    captured messages): the text of the last model answer of the trace that called no tool."""
    for span in sorted(members, key=lambda s: (s.end_ns, s.seq), reverse=True):
        if span.kind is not SpanKind.LLM or not isinstance(span.outputs, dict):
            continue
        message = span.outputs.get("message")
        if isinstance(message, dict) and not message.get("tool_calls"):
            content = message.get("content")
            if isinstance(content, str):
                return content
    return None


def _env(raw: RawSpan) -> str | None:
    a, res = raw.attrs, raw.resource
    return _first_str(
        a.get(n.AD_ENV),
        res.get(n.AD_ENV),
        res.get("deployment.environment.name"),
        res.get("deployment.environment"),
    )


def _deployment_id(raw: RawSpan) -> str | None:
    return _first_str(
        raw.attrs.get(n.AD_DEPLOYMENT_ID),
        raw.attrs.get(n.AD_DEPLOYMENT_ID_DOTTED),
        raw.resource.get(n.AD_DEPLOYMENT_ID),
    )


def _canary_arm(raw: RawSpan) -> str | None:
    arm = _str(raw.attrs.get(n.AD_CANARY_ARM))
    return arm if arm in ("stable", "candidate", "shadow") else None


def _canary_share(raw: RawSpan) -> dict[str, JSON]:
    share = raw.attrs.get(n.AD_CANARY_SHARE)
    ok = isinstance(share, int | float) and not isinstance(share, bool)
    return {n.AD_CANARY_SHARE: share} if ok else {}


def _agent_of(group: list[tuple[RawSpan, Span]]) -> tuple[str | None, int | None, str | None]:
    """(name, version, digest) of the earliest agent span naming its agent, else the agent
    named by the earliest span carrying agent attributes (``gen_ai.agent.name`` on a model call,
    say), else nothing."""
    agents = [
        s for _, s in group if s.kind is SpanKind.AGENT and s.attributes.get(n.AGENT_NAME_ATTR)
    ]
    if agents:
        a = min(agents, key=lambda s: (s.start_ns, s.seq)).attributes
        return (
            _str(a.get(n.AGENT_NAME_ATTR)),
            _int(a.get(n.AGENT_VERSION_ATTR)),
            _str(a.get(n.AGENT_DIGEST_ATTR)),
        )
    named = [
        (s.start_ns, s.seq, i) for i, (r, s) in enumerate(group) if agent_name_of(r.attrs, r.name)
    ]
    if not named:
        return None, None, None
    raw = group[min(named)[2]][0]
    return agent_name_of(raw.attrs, raw.name), _int(raw.attrs.get(n.AGENT_VERSION)), None


def _provisional_run(group: list[tuple[RawSpan, Span]]) -> Run:
    """A stand-in run for a trace seen only through child spans (see the module docstring)."""
    first_raw, first = group[0]
    failed = [s for _, s in group if s.status is SpanStatus.ERROR]
    error = min(failed, key=lambda s: (s.start_ns, s.seq)).error if failed else None
    name, version, digest = _agent_of(group)
    attributes: dict[str, JSON] = {PROVISIONAL: True}
    attributes.update((k, v) for k, v in first_raw.resource.items() if k != PROVISIONAL)
    return Run(
        trace_id=first.trace_id,
        agent_name=name,
        agent_version=version,
        agent_digest=digest,
        env=_env(first_raw),
        deployment_id=_deployment_id(first_raw),
        canary_arm=_canary_arm(first_raw),
        start_ns=min(s.start_ns for _, s in group),
        end_ns=max(s.end_ns for _, s in group),
        status=SpanStatus.ERROR if failed else SpanStatus.UNSET,
        error=error,
        attributes=attributes,
    )


def _build(raws: list[RawSpan], rejected: list[RejectedSpan]) -> DecodeResult:
    seqs = _seqs(raws)
    by_id = {r.span_id: r for r in raws}
    spans = _name_bare_arguments(
        [_to_span(r, seq, by_id) for r, seq in zip(raws, seqs, strict=True)]
    )
    stamps: dict[str, tuple[RawSpan, Span]] = {}
    roots: dict[str, tuple[RawSpan, Span]] = {}
    members: dict[str, list[tuple[RawSpan, Span]]] = {}
    for raw, span in zip(raws, spans, strict=True):
        members.setdefault(span.trace_id, []).append((raw, span))
        if n.RUN_START_NS in raw.attrs and span.trace_id not in stamps:
            stamps[span.trace_id] = (raw, span)
        if span.parent_id is None and span.trace_id not in roots:
            roots[span.trace_id] = (raw, span)
    runs: list[Run] = []
    provisional: list[Run] = []
    for trace_id, group in members.items():
        if trace_id in stamps:
            found, into = _run_from_stamp(*stamps[trace_id]), runs
        elif trace_id in roots:
            root_raw, root = roots[trace_id]
            found, into = _derived_run(root_raw, root, [s for _, s in group]), runs
        else:
            found, into = _provisional_run(group), provisional
        session, user = session_and_user(r for r, _ in group)
        into.append(replace(found, session_id=session, user_id=user) if session or user else found)
    return DecodeResult(tuple(spans), tuple(runs), tuple(rejected), tuple(provisional))
