"""The hash-chained audit log: verify it, read it.

Verifying is server-wide (one chain for every project): it answers whether the chain holds,
the number of entries and where it breaks. A problem's text can name a deployment (agent and
environment), so for a key of another project than the default (and not all-projects) each
problem keeps its ``seq`` and says only that the chain breaks there.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.registry.audit import verify_audit
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.serialize import audit_entry_json

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/verify", summary="Verify the audit chain (every edit is detected)")
def verify(state: State, principal: ReadKey) -> dict[str, Any]:
    report = verify_audit(state.store)  # the deployments table too
    told = principal.project == DEFAULT_PROJECT or principal.all_projects
    return {
        "ok": report.ok,
        "entries": report.entries,
        "problems": [
            {"seq": p.seq, "problem": p.problem if told else REDACTED} for p in report.problems
        ],
    }


REDACTED = "the chain breaks here (the default project's admins see why: agentdeck audit verify)"


@router.get(
    "/log",
    summary="The newest audit entries of the request's project and the server-wide ones "
    "(project *), oldest first",
)
def log(
    state: State, principal: ReadKey, limit: int = Query(50, ge=1, le=10000)
) -> list[dict[str, Any]]:
    entries = state.store.audit_log(principal.project, limit)
    return [audit_entry_json(e) for e in entries]
