"""Thumbs up/down on the run page: an htmx post that goes through the API's feedback path
(:func:`agentdeck.server.routers.feedback.give_feedback`: same checks, same audit entry, the
signed-in key's name as who gave it) and answers with the page's feedback fragment.

Like the approvals' decisions, the post needs htmx's ``HX-Request`` header besides the
SameSite=Strict session cookie (a plain cross-origin form cannot set it).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from agentdeck.core.errors import InputError
from agentdeck.server.body import read_body
from agentdeck.server.deps import ReadOrIngestKey, State
from agentdeck.server.project_scope import own_run
from agentdeck.server.routers.feedback import FeedbackBody, give_feedback
from agentdeck.server.ui.approvals import NotFromThePage
from agentdeck.server.ui.common import templates

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 16 * 1024
LABELS = ("thumbs_up", "thumbs_down")


async def feedback_form(request: Request) -> tuple[str, str | None]:
    """The (label, comment) of a thumbs post; refuses a post not made by the page."""
    if request.headers.get("hx-request") != "true":
        raise NotFromThePage("feedback is posted by the run page (HX-Request header)")
    body = await read_body(request, MAX_FORM_BYTES)
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    label = form.get("label", [""])[0]
    if label not in LABELS:
        raise InputError(f"form.label: expected thumbs_up or thumbs_down, got {label!r}")
    return label, form.get("comment", [""])[0].strip() or None


#: Declared after the key in the route, so a missing or weak key is refused first (401/403).
Form = Annotated[tuple[str, str | None], Depends(feedback_form)]


@router.post("/ui/runs/{run_id}/feedback", response_class=HTMLResponse)
def post_feedback(
    run_id: str, request: Request, state: State, principal: ReadOrIngestKey, form: Form
) -> HTMLResponse:
    label, comment = form
    tid = own_run(state.store, principal, run_id)  # another project's run: 404
    error, outcome_set = None, False
    try:
        fb = FeedbackBody(score=None, label=label, comment=comment, by=None, source="human")
        outcome_set = give_feedback(state, principal, tid, fb).outcome_set
    except (InputError, ValueError) as exc:  # e.g. a comment over the limit
        error = str(exc).splitlines()[0]
    return templates.TemplateResponse(
        request,
        "run_feedback.html",
        {
            "feedback": state.store.list_feedback(tid),
            "feedback_trace_id": tid,
            "feedback_error": error,
            "feedback_outcome_set": outcome_set,
        },
    )
