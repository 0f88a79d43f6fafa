"""Reading an OTLP/HTTP trace request body into neutral span records.

Both flavours of OTLP/HTTP land here: binary protobuf (parsed by the upb-backed
``opentelemetry-proto`` classes) and OTLP/JSON (parsed by ``orjson`` and walked directly,
because ``google.protobuf.json_format`` would read trace and span ids as base64 while OTLP/JSON
writes them as hex, and because it is several times slower). Either way the result is a list
of :class:`RawSpan` plus the spans rejected with the part and reason, which
:mod:`otlp_decode` then maps to agentdeck spans.

Body-level problems (unknown content type, bad gzip, not protobuf, not JSON, a structure above
the span level of the wrong shape) raise :class:`OtlpDecodeError`; a bad span is rejected alone
(OTLP partial success).
"""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agentdeck.core.errors import InputError
from agentdeck.tracing.otlp.values import (
    JSON,
    ValueProblem,
    from_json_key_values,
    from_key_values,
    json_int,
)

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
_ZERO16 = bytes(16)
_ZERO8 = bytes(8)
_STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


class OtlpDecodeError(InputError):
    """An OTLP request that cannot be read at all; ``part`` names where (HTTP 400)."""

    def __init__(self, part: str, reason: str) -> None:
        self.part = part
        self.reason = reason
        super().__init__(f"{part}: {reason}")


class UnsupportedMediaType(OtlpDecodeError):
    """A content type or content encoding OTLP/HTTP does not define (HTTP 415)."""

    http_status = 415


@dataclass(frozen=True, slots=True)
class RejectedSpan:
    """A span left out of the result: ``path`` names it in the request, ``reason`` says why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(slots=True)
class RawSpan:
    """One OTLP span with ids as hex text and attributes as a dict; not yet interpreted."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attrs: dict[str, JSON]
    events: list[tuple[str, int, dict[str, JSON]]]
    links: list[tuple[str, str, dict[str, JSON]]]
    status_code: int
    status_message: str
    resource: dict[str, JSON]


def _path(r: int, s: int, i: int) -> str:
    return f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]"


# --- body ---------------------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    """``json`` or ``protobuf`` for an OTLP/HTTP content type (parameters ignored)."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if base in ("application/x-protobuf", "application/protobuf", "application/octet-stream"):
        return "protobuf"
    if base == "application/json":
        return "json"
    raise UnsupportedMediaType(
        "Content-Type", f"{content_type!r} is not application/x-protobuf or application/json"
    )


def inflate(body: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """The body with its ``Content-Encoding`` (gzip, or deflate as some clients send) undone,
    refusing to inflate past ``max_bytes`` (a compression bomb stops there)."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        if len(body) > max_bytes:
            raise OtlpDecodeError("request body", f"larger than {max_bytes} bytes")
        return body
    if encoding not in ("gzip", "deflate"):
        raise UnsupportedMediaType(
            "Content-Encoding", f"{content_encoding!r} is not gzip or identity"
        )
    inflater = zlib.decompressobj(wbits=47 if encoding == "gzip" else 15)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise OtlpDecodeError("request body", f"not valid {encoding} data ({exc})") from None
    if len(out) > max_bytes:
        raise OtlpDecodeError("request body", f"inflates past {max_bytes} bytes")
    if not inflater.eof:
        raise OtlpDecodeError("request body", f"truncated {encoding} data")
    return out


def parse_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, RuntimeError, ValueError) as exc:  # upb raises DecodeError
        raise OtlpDecodeError(
            "request body", f"not a valid OTLP ExportTraceServiceRequest protobuf ({exc})"
        ) from None
    return request


# --- protobuf ------------------------------------------------------------------------------


def raw_spans_from_proto(
    request: ExportTraceServiceRequest,
) -> tuple[list[RawSpan], list[RejectedSpan]]:
    """Every span of a parsed request, or its rejection."""
    spans: list[RawSpan] = []
    rejected: list[RejectedSpan] = []
    for ri, rs in enumerate(request.resource_spans):
        resource = from_key_values(rs.resource.attributes)
        for si, ss in enumerate(rs.scope_spans):
            for pi, sp in enumerate(ss.spans):
                tid = sp.trace_id
                sid = sp.span_id
                parent = sp.parent_span_id
                problem: tuple[str, str] | None = None
                if len(tid) != 16 or tid == _ZERO16:
                    problem = ("traceId", f"expected 16 bytes, not all zero (got {len(tid)})")
                elif len(sid) != 8 or sid == _ZERO8:
                    problem = ("spanId", f"expected 8 bytes, not all zero (got {len(sid)})")
                elif parent and len(parent) != 8:
                    problem = ("parentSpanId", f"expected 8 bytes or none (got {len(parent)})")
                elif sp.end_time_unix_nano < sp.start_time_unix_nano:
                    problem = ("endTimeUnixNano", "before startTimeUnixNano")
                links: list[tuple[str, str, dict[str, JSON]]] = []
                for li, link in enumerate(sp.links):
                    if len(link.trace_id) != 16 or len(link.span_id) != 8:
                        problem = problem or (f"links[{li}]", "traceId/spanId of the wrong length")
                        break
                    links.append(
                        (link.trace_id.hex(), link.span_id.hex(), from_key_values(link.attributes))
                    )
                if problem is not None:
                    rejected.append(RejectedSpan(f"{_path(ri, si, pi)}.{problem[0]}", problem[1]))
                    continue
                events = (
                    [(e.name, e.time_unix_nano, from_key_values(e.attributes)) for e in sp.events]
                    if sp.events
                    else []
                )
                status = sp.status
                spans.append(
                    RawSpan(
                        tid.hex(),
                        sid.hex(),
                        parent.hex() if parent and parent != _ZERO8 else None,
                        sp.name,
                        sp.start_time_unix_nano,
                        sp.end_time_unix_nano,
                        from_key_values(sp.attributes),
                        events,
                        links,
                        status.code,
                        status.message,
                        resource,
                    )
                )
    return spans, rejected


# --- JSON ---------------------------------------------------------------------------------


def _get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def _list(obj: dict[str, Any], camel: str, snake: str, path: str) -> list[Any]:
    value = _get(obj, camel, snake)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueProblem(f"{path}.{camel}", "expected a list")
    return value


def _json_id(value: Any, size: int, path: str) -> str | None:
    """A trace (16 bytes) or span (8 bytes) id: hex as OTLP/JSON specifies; base64, as the
    generic protobuf JSON mapping writes it, is accepted too (the lengths differ)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueProblem(path, "expected a hex string")
    raw = b""
    try:
        if len(value) == size * 2:
            raw = bytes.fromhex(value)
        elif len(value) == 4 * ((size + 2) // 3):
            raw = base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != size:
        raise ValueProblem(path, f"expected {size * 2} hex digits, got {value[:40]!r}")
    return None if raw == bytes(size) else raw.hex()


def _required_id(value: Any, size: int, path: str) -> str:
    hex_id = _json_id(value, size, path)
    if hex_id is None:
        raise ValueProblem(path, "missing or all zero")
    return hex_id


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueProblem(path, "expected an object")
    return value


def raw_spans_from_json(body: bytes) -> tuple[list[RawSpan], list[RejectedSpan]]:
    """Every span of an OTLP/JSON body, or its rejection."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise OtlpDecodeError("request body", f"not valid JSON ({exc})") from None
    try:
        doc = _object(doc, "request body")
        resource_spans = _list(doc, "resourceSpans", "resource_spans", "")
    except ValueProblem as exc:
        raise OtlpDecodeError(exc.path.lstrip(".") or "request body", exc.reason) from None
    spans: list[RawSpan] = []
    rejected: list[RejectedSpan] = []
    for ri, rs in enumerate(resource_spans):
        rpath = f"resourceSpans[{ri}]"
        try:
            rs = _object(rs, rpath)
            res = _get(rs, "resource", "resource") or {}
            resource = from_json_key_values(
                _object(res, f"{rpath}.resource").get("attributes") or [],
                f"{rpath}.resource.attributes",
            )
            scope_spans = _list(rs, "scopeSpans", "scope_spans", rpath)
            for si, ss in enumerate(scope_spans):
                ss = _object(ss, f"{rpath}.scopeSpans[{si}]")
                span_list = _list(ss, "spans", "spans", f"{rpath}.scopeSpans[{si}]")
                for pi, sp in enumerate(span_list):
                    path = _path(ri, si, pi)
                    try:
                        spans.append(_json_span(sp, resource, path))
                    except ValueProblem as exc:
                        rejected.append(RejectedSpan(exc.path, exc.reason))
        except ValueProblem as exc:
            raise OtlpDecodeError(exc.path, exc.reason) from None
    return spans, rejected


def _json_span(sp: Any, resource: dict[str, JSON], path: str) -> RawSpan:
    sp = _object(sp, path)
    trace_id = _required_id(_get(sp, "traceId", "trace_id"), 16, f"{path}.traceId")
    span_id = _required_id(_get(sp, "spanId", "span_id"), 8, f"{path}.spanId")
    parent_id = _json_id(_get(sp, "parentSpanId", "parent_span_id"), 8, f"{path}.parentSpanId")
    name = sp.get("name", "")
    if not isinstance(name, str):
        raise ValueProblem(f"{path}.name", "expected a string")
    start = json_int(
        _get(sp, "startTimeUnixNano", "start_time_unix_nano") or 0, f"{path}.startTimeUnixNano"
    )
    end = json_int(
        _get(sp, "endTimeUnixNano", "end_time_unix_nano") or 0, f"{path}.endTimeUnixNano"
    )
    if end < start:
        raise ValueProblem(f"{path}.endTimeUnixNano", "before startTimeUnixNano")
    attrs = from_json_key_values(sp.get("attributes") or [], f"{path}.attributes")
    events = []
    for ei, ev in enumerate(_list(sp, "events", "events", path)):
        epath = f"{path}.events[{ei}]"
        ev = _object(ev, epath)
        ename = ev.get("name", "")
        events.append(
            (
                ename if isinstance(ename, str) else str(ename),
                json_int(_get(ev, "timeUnixNano", "time_unix_nano") or 0, f"{epath}.timeUnixNano"),
                from_json_key_values(ev.get("attributes") or [], f"{epath}.attributes"),
            )
        )
    links = []
    for li, link in enumerate(_list(sp, "links", "links", path)):
        lpath = f"{path}.links[{li}]"
        link = _object(link, lpath)
        ltrace = _required_id(_get(link, "traceId", "trace_id"), 16, f"{lpath}.traceId")
        lspan = _required_id(_get(link, "spanId", "span_id"), 8, f"{lpath}.spanId")
        links.append(
            (
                ltrace,
                lspan,
                from_json_key_values(link.get("attributes") or [], f"{lpath}.attributes"),
            )
        )
    status = _object(sp.get("status") or {}, f"{path}.status")
    code = status.get("code", 0)
    if isinstance(code, str):
        code = _STATUS_NAMES.get(code, 0)
    if not isinstance(code, int) or isinstance(code, bool):
        raise ValueProblem(f"{path}.status.code", "expected an integer or a STATUS_CODE_* name")
    message = status.get("message", "")
    return RawSpan(
        trace_id,
        span_id,
        parent_id,
        name,
        start,
        end,
        attrs,
        events,
        links,
        code,
        message if isinstance(message, str) else str(message),
        resource,
    )
