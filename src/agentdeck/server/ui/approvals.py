"""Approvals: tool calls a policy sent for a human's approval, with Approve/Reject buttons.

Listing goes through :func:`~agentdeck.policy.approvals.list_current`, so a request past its
deadline shows as expired, never as grantable. Deciding goes through
:func:`~agentdeck.policy.approvals.grant` / :func:`~agentdeck.policy.approvals.reject`, the
path ``agentdeck policy approve`` and the API take: the same compare-and-set, the same audit
entries, the signed-in key's name as the decider. A decision that comes too late (already
decided, or expired on the way) answers 409 with the row as it now stands and the reason, which
the page swaps in (htmx) instead of an error toast; other refusals (403, 404) go to the page's
error box.

The decide routes take a form body (htmx's default encoding) and need htmx's ``HX-Request``
header besides the SameSite=Strict session cookie: a plain cross-origin form cannot set it, so
a same-site page on another port cannot post a decision with the operator's cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qs

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from agentdeck.core.errors import AgentDeckError, ConflictError, UnresolvedReferenceError
from agentdeck.core.policy.records import ApprovalRecord
from agentdeck.policy import approvals
from agentdeck.server.agent_scope import require_approval
from agentdeck.server.auth import Principal, Scope
from agentdeck.server.body import read_body
from agentdeck.server.deps import DeployKey, ReadKey, ServerStore, State
from agentdeck.server.project_scope import agent_visible
from agentdeck.server.ui.common import render, templates

router = APIRouter(include_in_schema=False)
NAV = ("Approvals", "/ui/approvals", 55)
#: ``all`` (the default) lists pending requests first, then the decided ones, newest first.
TABS = ("all", "pending", "granted", "denied", "expired")
LIMIT = 200
ARGS_CHARS = 160
MAX_FORM_BYTES = 16 * 1024


class NotFromThePage(AgentDeckError):
    """A decision posted without htmx's header: not sent by the page (CSRF defence)."""

    http_status = 403


@dataclass(frozen=True)
class ApprovalRow:
    """One request as its table row shows it; ``error`` says why a decision was refused."""

    rec: ApprovalRecord
    args: str
    args_full: str
    waiting: str
    expires: str
    error: str | None = None


def span_text(seconds: float) -> str:
    """A duration for a human, two units at most: ``45s``, ``3m 12s``, ``2h 5m``, ``3d 4h``."""
    s = max(int(seconds), 0)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {s}s"
    return f"{s}s"


def args_text(args: object) -> str:
    """The arguments as compact JSON (the template escapes it)."""
    return orjson.dumps(args, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def row_of(rec: ApprovalRecord, now: datetime, error: str | None = None) -> ApprovalRow:
    full = args_text(rec.args)
    short = full if len(full) <= ARGS_CHARS else full[: ARGS_CHARS - 1] + "\u2026"
    if rec.status == "expired" or (rec.status == "pending" and now >= rec.expires_at):
        expires = "expired"
    elif rec.status == "pending":
        expires = "in " + span_text((rec.expires_at - now).total_seconds())
    else:
        expires = "-"
    waiting = span_text(((rec.decided_at or now) - rec.requested_at).total_seconds())
    return ApprovalRow(rec, short, full, waiting, expires, error)


def queue(store: ServerStore, status: str, now: datetime, project: str) -> list[ApprovalRecord]:
    """What the ``status`` tab lists of ``project``'s requests: for ``all``, every pending
    request (overdue ones expired first) before the decided ones, each part newest first."""
    if status != "all":
        return approvals.list_current(store, status, LIMIT, now, project)
    pending = approvals.list_current(store, "pending", LIMIT, now, project)
    seen = {r.id for r in pending}
    decided = [
        r
        for r in store.list_approvals(None, LIMIT, project=project)
        if r.id not in seen and r.status != "pending"
    ]
    return (pending + decided)[:LIMIT]


def pending_count(store: ServerStore, now: datetime, project: str) -> int:
    """``project``'s pending requests, counted among the first :data:`LIMIT` (the page shows
    ``200+`` past it): the store has no count query, and a listing bounded by the index is as
    cheap."""
    return len(approvals.list_current(store, "pending", LIMIT, now, project))


@router.get("/ui/approvals", response_class=HTMLResponse)
def approvals_page(
    request: Request, state: State, principal: ReadKey, status: str = "all"
) -> HTMLResponse:
    status = status if status in TABS else "all"
    now = datetime.now(UTC)
    found = queue(state.store, status, now, principal.project)
    rows = [row_of(r, now) for r in found]
    if status in ("all", "pending"):  # the listing holds every pending request (up to LIMIT)
        pending = sum(r.status == "pending" for r in found)
    else:
        pending = pending_count(state.store, now, principal.project)
    return render(
        request, "approvals.html", principal,
        rows=rows, status=status, tabs=TABS, pending=pending, limit=LIMIT,
    )  # fmt: skip


async def decision_reason(request: Request) -> str:
    """The optional ``reason`` of a decision form; refuses a post not made by the page."""
    if request.headers.get("hx-request") != "true":
        raise NotFromThePage("decisions are posted by the approvals page (HX-Request header)")
    body = await read_body(request, MAX_FORM_BYTES)
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return form.get("reason", [""])[0].strip()


#: Declared after the key in each route, so a missing or weak key is refused first (401/403).
Reason = Annotated[str, Depends(decision_reason)]


def _row_response(
    request: Request, principal: Principal, row: ApprovalRow, pending: int, status_code: int
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "approval_row.html",
        {
            "row": row,
            "can_deploy": principal.allows(Scope.DEPLOY),
            "pending": pending,
            "limit": LIMIT,
            "oob": True,
        },
        status_code=status_code,
    )


def _decide(
    request: Request, state: State, principal: Principal, approval_id: str, grant: bool, why: str
) -> HTMLResponse:
    decide = approvals.grant if grant else approvals.reject
    found = state.store.get_approval(approval_id)
    if found is not None and not agent_visible(state.store, principal, found.agent_name):
        # another project's request: not found, as a missing one (the API's answer too)
        raise UnresolvedReferenceError(approval_id, "no approval request with that id")
    require_approval(principal, state.store, approval_id)
    error = None
    try:
        rec = decide(state.store, approval_id, principal.actor, why)
    except ConflictError as exc:  # decided by someone else, or expired: show how it stands
        current = state.store.get_approval(approval_id)
        if current is None:  # pragma: no cover - a conflict implies the request exists
            raise
        rec, error = current, f"not {'granted' if grant else 'rejected'}: {exc}"
    now = datetime.now(UTC)
    row = row_of(rec, now, error)
    return _row_response(
        request,
        principal,
        row,
        pending_count(state.store, now, principal.project),
        409 if error else 200,
    )


@router.post("/ui/approvals/{approval_id}/approve", response_class=HTMLResponse)
def approve(
    approval_id: str, request: Request, state: State, principal: DeployKey, reason: Reason
) -> HTMLResponse:
    return _decide(request, state, principal, approval_id, True, reason)


@router.post("/ui/approvals/{approval_id}/reject", response_class=HTMLResponse)
def reject(
    approval_id: str, request: Request, state: State, principal: DeployKey, reason: Reason
) -> HTMLResponse:
    return _decide(request, state, principal, approval_id, False, reason)
