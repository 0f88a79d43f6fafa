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
Status comes from the OTLP status alone: UNSET and OK stay apart, and an ``exception`` event on
a span that did not end in ERROR is kept (``otel.events``) but is no failure. ``seq`` is
``agentdeck.seq`` when present, else the span's rank by start time within its trace in this
request.

A run is derived for each trace whose run stamp (``agentdeck.run.*``) or root span is in the
request; traces seen only through child spans (OTel exports children first, and a remote
parent never arrives) are listed in ``DecodeResult.traces_without_run`` for the caller to
attach to a run it already has or creates.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agentdeck.core.trace import Run, Span, SpanKind, SpanLink, SpanStatus
from agentdeck.tracing import otlp_names as n
from agentdeck.tracing.otlp_fields import (
    KIND_OF_LINK,
    agent_name_of,
    map_fields,
    span_kind,
)
from agentdeck.tracing.otlp_values import JSON, loads_or_raw
from agentdeck.tracing.otlp_wire import (
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
    """What one OTLP request holds, in agentdeck terms."""

    spans: tuple[Span, ...]
    runs: tuple[Run, ...]
    rejected: tuple[RejectedSpan, ...] = ()
    traces_without_run: tuple[str, ...] = ()

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
        name = agent_name_of(parent.attrs)
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
        error = raw.status_message or fields.exception or _str(attrs.get(n.ERROR_TYPE))
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
        name=raw.name,
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
    )


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
    a, res = root_raw.attrs, root_raw.resource
    version = agent_attrs.get(n.AGENT_VERSION_ATTR)
    return Run(
        trace_id=root.trace_id,
        agent_name=_str(agent_attrs.get(n.AGENT_NAME_ATTR)),
        agent_version=_int(version),
        agent_digest=_str(agent_attrs.get(n.AGENT_DIGEST_ATTR)),
        env=_first_str(
            a.get(n.AD_ENV),
            res.get(n.AD_ENV),
            res.get("deployment.environment.name"),
            res.get("deployment.environment"),
        ),
        deployment_id=_first_str(a.get(n.AD_DEPLOYMENT_ID), res.get(n.AD_DEPLOYMENT_ID)),
        start_ns=root.start_ns,
        end_ns=root.end_ns,
        status=root.status,
        error=root.error,
        input=root.inputs,
        output=root.outputs,
        root_span_id=root.span_id,
        attributes=dict(res),
    )


def _build(raws: list[RawSpan], rejected: list[RejectedSpan]) -> DecodeResult:
    seqs = _seqs(raws)
    by_id = {r.span_id: r for r in raws}
    spans = [_to_span(r, seq, by_id) for r, seq in zip(raws, seqs, strict=True)]
    stamps: dict[str, tuple[RawSpan, Span]] = {}
    roots: dict[str, tuple[RawSpan, Span]] = {}
    members: dict[str, list[Span]] = {}
    for raw, span in zip(raws, spans, strict=True):
        members.setdefault(span.trace_id, []).append(span)
        if n.RUN_START_NS in raw.attrs and span.trace_id not in stamps:
            stamps[span.trace_id] = (raw, span)
        if span.parent_id is None and span.trace_id not in roots:
            roots[span.trace_id] = (raw, span)
    runs: list[Run] = []
    without: list[str] = []
    for trace_id, group in members.items():
        if trace_id in stamps:
            runs.append(_run_from_stamp(*stamps[trace_id]))
        elif trace_id in roots:
            root_raw, root = roots[trace_id]
            runs.append(_derived_run(root_raw, root, group))
        else:
            without.append(trace_id)
    return DecodeResult(tuple(spans), tuple(runs), tuple(rejected), tuple(without))
