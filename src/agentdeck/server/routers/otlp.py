"""``POST /v1/traces``: the OTLP/HTTP trace receiver (protobuf or JSON, gzip or not).

Spans are mapped by :func:`agentdeck.tracing.otlp.decode.decode_otlp` (GenAI semantic
conventions, OpenInference), redacted, and committed before the answer, with the runs derived
from root spans and, for traces seen only through child spans, provisional runs (created if the
trace has no run yet, widened by later spans, replaced whole when the root arrives: see
:mod:`agentdeck.tracing.otlp.decode` and :meth:`agentdeck.store.sql_traces.SqlTraces.write_batch`),
so that every trace is a run in listings, monitoring and root-cause analysis. As the OTLP
specification defines: 200 with an ``ExportTraceServiceResponse`` in the request's encoding,
whose ``partial_success`` counts the rejected spans and says why; 400 for a body that cannot be
read (nothing is stored); 413 past the size limit; 415 for another content type or encoding;
503 with ``Retry-After`` when the writer's queue is full. Error bodies are a ``google.rpc.Status``
(protobuf for a protobuf request; JSON ``{"code", "message", "error"}`` otherwise).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.concurrency import run_in_threadpool

from agentdeck.core.errors import AgentDeckError
from agentdeck.core.redaction.redact import Redactor
from agentdeck.server.body import PayloadTooLarge, read_body
from agentdeck.server.deps import IngestKey, State
from agentdeck.server.ingest_writer import IngestBusy
from agentdeck.server.project_scope import in_project
from agentdeck.server.validation import check_batch
from agentdeck.tracing.otlp.decode import (
    DecodeResult,
    OtlpDecodeError,
    UnsupportedMediaType,
    decode_otlp,
)
from agentdeck.tracing.otlp.wire import media_type

router = APIRouter(tags=["otlp"])

PROTOBUF = "application/x-protobuf"
_GRPC_CODE = {400: 3, 413: 8, 415: 3, 503: 14}  # INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAVAILABLE


def _decode(
    body: bytes, ctype: str | None, encoding: str | None, limit: int, redactor: Redactor
) -> DecodeResult:
    try:
        result = decode_otlp(body, ctype, encoding, max_body_bytes=limit)
    except UnsupportedMediaType:
        raise
    except OtlpDecodeError as exc:
        if exc.part == "request body" and ("past" in exc.reason or "larger than" in exc.reason):
            raise PayloadTooLarge(limit) from None
        raise
    check_batch(result.runs, result.spans, "request body")
    check_batch(result.provisional_runs, (), "request body.provisional")
    if not redactor.enabled:
        return result
    return DecodeResult(
        tuple(redactor.span(s) for s in result.spans),
        tuple(redactor.run(r) for r in result.runs),
        result.rejected,
        tuple(redactor.run(r) for r in result.provisional_runs),
    )


def _error(
    status: int, message: str, protobuf: bool, headers: dict[str, str] | None = None
) -> Response:
    code = _GRPC_CODE.get(status, 13)
    if protobuf:
        body = Status(code=code, message=message).SerializeToString()
        return Response(body, status, headers=headers, media_type=PROTOBUF)
    payload = {"code": code, "message": message, "error": message}
    return Response(orjson.dumps(payload), status, headers=headers, media_type="application/json")


@router.post(
    "/v1/traces",
    summary="OTLP/HTTP trace receiver (application/x-protobuf or application/json; gzip)",
    response_class=Response,
)
async def receive(request: Request, state: State, principal: IngestKey) -> Response:
    ctype = request.headers.get("content-type")
    encoding = request.headers.get("content-encoding")
    try:
        protobuf = media_type(ctype) == "protobuf"
    except UnsupportedMediaType as exc:
        return _error(415, str(exc), False)
    limit = state.settings.max_body_bytes
    try:
        body = await read_body(request, limit)
        result = await run_in_threadpool(_decode, body, ctype, encoding, limit, state.redactor)
        both = await run_in_threadpool(
            in_project, state.store, principal,
            [*result.runs, *result.provisional_runs], list(result.spans), "request body",
        )  # fmt: skip
        n = len(result.runs)
        await state.writer.write(both[:n], result.spans, both[n:])
    except IngestBusy as exc:
        return _error(503, str(exc), protobuf, {"Retry-After": str(exc.retry_after)})
    except AgentDeckError as exc:
        return _error(exc.http_status, str(exc), protobuf)
    reply = ExportTraceServiceResponse()
    if result.rejected:
        reply.partial_success.rejected_spans = result.rejected_count
        reply.partial_success.error_message = result.error_message()
    if protobuf:
        return Response(reply.SerializeToString(), 200, media_type=PROTOBUF)
    data: dict[str, object] = {}
    if result.rejected:
        data["partialSuccess"] = {
            "rejectedSpans": str(result.rejected_count),
            "errorMessage": result.error_message(),
        }
    return Response(orjson.dumps(data), 200, media_type="application/json")
