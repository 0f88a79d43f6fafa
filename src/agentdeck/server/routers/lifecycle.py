"""Data lifecycle over HTTP: delete runs (admin), and export runs with spans as JSONL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from agentdeck.core.trace.query import RunQuery
from agentdeck.core.trace.search_plan import search_query
from agentdeck.server.deps import AdminKey, ReadKey, State
from agentdeck.tracing.analysis.queries import run_json
from agentdeck.tracing.lifecycle.erase import delete_runs, selection
from agentdeck.tracing.lifecycle.export import iter_pages
from agentdeck.tracing.sdk.wire import span_to_dict

router = APIRouter(tags=["lifecycle"])
_Q = Query(None, max_length=2000, description="A search query (docs/search.md).")


@router.delete(
    "/api/v1/runs",
    summary="Delete the project's runs by id, session, user or search query (all given must "
    "hold); audited with the project, counts and hashed ids, never the content",
)
def delete_matching_runs(
    state: State,
    principal: AdminKey,
    run_id: list[str] | None = Query(None, description="Run id or unique prefix (repeatable)."),
    session_id: str | None = Query(None, max_length=200),
    user_id: str | None = Query(None, max_length=200),
    q: str | None = _Q,
    dry_run: bool = Query(False, description="true: count what would be deleted, change nothing."),
) -> dict[str, Any]:
    sel = selection(state.store, run_ids=run_id or (), session=session_id, user=user_id, query=q,
                    source="query.q", project=principal.project)  # fmt: skip
    return delete_runs(state.store, sel, principal.actor, dry_run=dry_run).to_dict()


@router.get(
    "/api/v1/export",
    summary="Runs (newest first) with their spans as JSONL, filtered by a search query",
    response_class=StreamingResponse,
)
def export_runs(state: State, principal: ReadKey, q: str | None = _Q) -> StreamingResponse:
    query = search_query(RunQuery(project=principal.project), q, "query.q")
    store = state.store

    def lines() -> Iterator[bytes]:
        for chunk in iter_pages(store, query):
            out: list[bytes] = []
            for run, spans in chunk:
                out.append(orjson.dumps({"record": "run", **run_json(run)}))
                out.extend(orjson.dumps({"record": "span", **span_to_dict(s)}) for s in spans)
            yield b"\n".join(out) + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")
