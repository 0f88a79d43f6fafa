"""The hash-chained audit log: verify it, read it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from agentdeck.registry.audit import verify_audit
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.serialize import audit_entry_json

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/verify", summary="Verify the audit chain (every edit is detected)")
def verify(state: State, _: ReadKey) -> dict[str, Any]:
    report = verify_audit(state.store)  # the deployments table too
    return {
        "ok": report.ok,
        "entries": report.entries,
        "problems": [{"seq": p.seq, "problem": p.problem} for p in report.problems],
    }


@router.get("/log", summary="The newest audit entries, oldest first")
def log(state: State, _: ReadKey, limit: int = Query(50, ge=1, le=10000)) -> list[dict[str, Any]]:
    entries = state.store.audit_entries()[-limit:]
    return [audit_entry_json(e) for e in entries]
