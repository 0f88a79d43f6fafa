"""``POST /api/v1/ingest``: batches from the agentdeck SDK's ``HttpSink`` (the wire format of
:mod:`agentdeck.tracing.sdk.wire`, JSON, optionally gzip), redacted, then committed before the
answer. Idempotent by span id: a re-sent batch stores nothing twice."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from agentdeck.core.errors import InputError
from agentdeck.core.redaction.redact import Redactor
from agentdeck.core.trace.model import Run, Span, is_span_id, is_trace_id
from agentdeck.registry.keys import Principal
from agentdeck.server.body import PayloadTooLarge, read_body
from agentdeck.server.deps import IngestKey, State
from agentdeck.server.project_scope import IngestStore, in_project
from agentdeck.server.validation import check_batch
from agentdeck.tracing.otlp.wire import OtlpDecodeError, inflate
from agentdeck.tracing.sdk.wire import batch_from_bytes

router = APIRouter(tags=["ingest"])


def prepare_batch(
    body: bytes,
    encoding: str | None,
    limit: int,
    redactor: Redactor,
    scope: tuple[IngestStore, Principal] | None = None,
) -> tuple[list[Run], list[Span]]:
    """Parse, check ids, and redact a wire batch (runs in a worker thread); with ``scope``,
    stamp its runs with the principal's project (:func:`in_project`)."""
    try:
        data = inflate(body, encoding, limit)
    except OtlpDecodeError as exc:
        if "past" in exc.reason or "larger than" in exc.reason:
            raise PayloadTooLarge(limit) from None
        raise InputError(f"{exc.part}: {exc.reason}") from None
    runs, spans = batch_from_bytes(data, "body")
    for i, s in enumerate(spans):
        if not is_trace_id(s.trace_id) or not is_span_id(s.span_id):
            raise InputError(f"body.spans[{i}]: trace_id/span_id are not W3C hex ids")
        if s.parent_id is not None and not is_span_id(s.parent_id):
            raise InputError(f"body.spans[{i}].parent_id: not a 16-hex-digit span id")
    for i, r in enumerate(runs):
        if not is_trace_id(r.trace_id):
            raise InputError(f"body.runs[{i}].trace_id: not a 32-hex-digit trace id")
    check_batch(runs, spans, "body")
    if redactor.enabled:
        spans = [redactor.span(s) for s in spans]
        runs = [redactor.run(r) for r in runs]
    if scope is not None:
        runs = in_project(scope[0], scope[1], runs, spans)
    return runs, spans


@router.post(
    "/api/v1/ingest",
    status_code=202,
    summary="Ingest a batch of runs and spans from the agentdeck SDK (idempotent by span id)",
)
async def ingest(request: Request, state: State, principal: IngestKey) -> dict[str, Any]:
    limit = state.settings.max_body_bytes
    body = await read_body(request, limit)
    runs, spans = await run_in_threadpool(
        prepare_batch,
        body,
        request.headers.get("content-encoding"),
        limit,
        state.redactor,
        (state.store, principal),
    )
    await state.writer.write(runs, spans)
    return {"accepted_runs": len(runs), "accepted_spans": len(spans)}
