"""``GET /healthz``: the one route that needs no key (load balancers and probes call it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

router = APIRouter(tags=["health"])

PUBLIC_PATHS = frozenset({"/healthz"})


@router.get("/healthz", summary="Liveness probe (no key needed)")
def healthz() -> dict[str, Any]:
    return {"status": "ok"}
