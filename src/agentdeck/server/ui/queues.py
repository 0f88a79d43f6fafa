"""Review queues in the UI: the list, and a keyboard-driven page per queue.

``/ui/queues/{id}``: j/k move to the next/previous run, 1-9 choose a label, s skips, enter
submits (``static/agentdeck-review.js``). A run's panel is a fragment loaded as the reviewer
moves (``/ui/queues/{id}/items/{position}``), so a long queue loads one run at a time. Labels
and skips are posted by the page (``HX-Request`` header besides the SameSite=Strict session
cookie, as the run page's feedback) through the API's service path, answered in JSON.

The run page's "Add to suite" form (``run_dataset.html``) posts to ``/ui/runs/{id}/suite``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from agentdeck.core.errors import AgentDeckError, InputError
from agentdeck.evals.datasets.add_run import parse_expect, suite_names
from agentdeck.evals.review.queues import get_queue, label_run, queue_project, skip_run
from agentdeck.server.body import read_body
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.project_scope import own_run
from agentdeck.server.routers.datasets import AddRunBody, add_run
from agentdeck.server.ui.approvals import NotFromThePage
from agentdeck.server.ui.common import render, templates

router = APIRouter(include_in_schema=False)
NAV = ("Review", "/ui/queues", 47)
MAX_FORM_BYTES = 64 * 1024


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("hx-request") != "true":
        raise NotFromThePage("posted by the page only (HX-Request header)")
    body = await read_body(request, MAX_FORM_BYTES)
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in form.items()}


@router.get("/ui/queues", response_class=HTMLResponse)
def queues_page(request: Request, state: State, principal: ReadKey) -> HTMLResponse:
    queues = [q for q in state.store.list_queues() if queue_project(q) == principal.project]
    return render(request, "queues.html", principal, queues=queues)


@router.get("/ui/queues/{queue}", response_class=HTMLResponse)
def queue_page(queue: str, request: Request, state: State, principal: ReadKey) -> HTMLResponse:
    q = get_queue(state.store, queue, principal.project)
    items = state.store.queue_items(q.queue_id)
    start = next((i.position for i in items if str(i.status) == "pending"), 1)
    return render(request, "queue.html", principal, queue=q, items=items, start=start)


@router.get("/ui/queues/{queue}/items/{position}", response_class=HTMLResponse)
def item_fragment(
    queue: str, position: int, request: Request, state: State, principal: ReadKey
) -> HTMLResponse:
    q = get_queue(state.store, queue, principal.project)
    item = next((i for i in state.store.queue_items(q.queue_id) if i.position == position), None)
    if item is None:
        raise InputError(f"path.position: queue {q.name!r} has no item {position}")
    run = state.store.get_run(item.trace_id)
    labels = state.store.list_annotations(trace_id=item.trace_id, queue_id=q.queue_id, limit=20)
    return templates.TemplateResponse(
        request,
        "queue_item.html",
        {"queue": q, "item": item, "run": run, "given": labels},
    )


def _answer(fn: Any) -> JSONResponse:
    try:
        return JSONResponse(fn())
    except AgentDeckError as exc:
        status = exc.http_status if 400 <= exc.http_status < 500 else 400
        return JSONResponse({"error": str(exc).splitlines()[0]}, status)


@router.post("/ui/queues/{queue}/label")
async def post_label(queue: str, request: Request, state: State, principal: ReadKey) -> Any:
    form = await _form(request)

    def act() -> dict[str, Any]:
        q = get_queue(state.store, queue, principal.project)
        scores = {k[6:]: v for k, v in form.items() if k.startswith("score.") and v.strip()}
        receipt = label_run(
            state.store, q, form.get("run_id", ""), form.get("label", ""), by=principal.actor,
            scores=scores, comment=form.get("comment", "").strip() or None, where="form.",
        )  # fmt: skip
        return {"status": "labelled", "label": receipt.annotation.label,
                "outcome_set": receipt.outcome_set}  # fmt: skip

    return _answer(act)


@router.post("/ui/queues/{queue}/skip")
async def post_skip(queue: str, request: Request, state: State, principal: ReadKey) -> Any:
    form = await _form(request)

    def act() -> dict[str, Any]:
        q = get_queue(state.store, queue, principal.project)
        skip_run(state.store, q, form.get("run_id", ""))
        return {"status": "skipped"}

    return _answer(act)


@router.get("/ui/runs/{run_id}/suite", response_class=HTMLResponse)
def suite_form(run_id: str, request: Request, state: State, principal: ReadKey) -> HTMLResponse:
    tid = own_run(state.store, principal, run_id)
    return _suite_fragment(request, state, principal.project, tid, None, None)


def _suite_fragment(
    request: Request,
    state: Any,
    project: str,
    tid: str,
    message: str | None,
    error: str | None,
) -> HTMLResponse:
    run = state.store.get_run(tid)
    return templates.TemplateResponse(
        request,
        "run_dataset_form.html",
        {
            "dataset_trace_id": tid,
            "suites": [n for n, _ in suite_names(state.store, project)],
            "sampled_out": bool(state.store.sampled_out([tid])),
            "outcome": str(run.outcome) if run and run.outcome else None,
            "dataset_message": message,
            "dataset_error": error,
        },
    )


@router.post("/ui/runs/{run_id}/suite", response_class=HTMLResponse)
async def post_suite(run_id: str, request: Request, state: State, principal: ReadKey) -> Any:
    form = await _form(request)
    tid = own_run(state.store, principal, run_id)
    message = error = None
    try:
        text = form.get("expect", "").strip()
        expect = parse_expect(text, "form.") if text else None
        body = AddRunBody(run_id=tid, expect=dict(expect) if expect else None,
                          case_id=form.get("case_id", "").strip() or None)  # fmt: skip
        added = add_run(state, principal, form.get("suite", "").strip(), body)
        message = f"added as case {added['case']['id']} of suite {added['suite']}"
    except (AgentDeckError, ValueError) as exc:
        error = str(exc).splitlines()[0].replace("body.", "form.")
    return _suite_fragment(request, state, principal.project, tid, message, error)
