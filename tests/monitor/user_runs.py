"""Synthetic runs of an airline customer-service agent whose user lookup returns a map keyed by
ids (``payment_methods: {"credit_card_123": {...}, "gift_card_456": {...}}``), optional fields
and lists of varying length: the shape that made every null split raise tool API drift.

Users are a fixed population; a run serves one user drawn at random, so two samples of runs
are two groups of users from one distribution (a null split).
"""

from __future__ import annotations

import random
import zlib
from typing import Any

from agentdeck.core.behaviour.run_view import RunView
from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus

USERS = 400


def user_details(user: int, rename: tuple[str, str] | None = None) -> dict[str, Any]:
    r = random.Random(zlib.crc32(f"user-{user}".encode()))
    methods: dict[str, Any] = {}
    for _ in range(r.randint(1, 3)):
        kind = r.choice(["credit_card", "gift_card", "certificate"])
        pm_id = f"{kind}_{r.randint(1000, 9999999)}"
        pm: dict[str, Any] = {"source": kind, "id": pm_id}
        if kind == "credit_card":
            pm["brand"] = r.choice(["visa", "mastercard"])
            pm["last_four"] = f"{r.randint(0, 9999):04d}"
        else:
            pm["amount"] = r.randint(10, 500)
        methods[pm_id] = pm
    out: dict[str, Any] = {
        "user_id": f"user_{user}",
        "name": {"first_name": "A", "last_name": "B"},
        "email": f"u{user}@example.com",
        "payment_methods": methods,
        "saved_passengers": [
            {"first_name": "P", "last_name": "Q", "dob": "1990-01-01"}
            for _ in range(r.randint(0, 3))
        ],
        "reservations": [f"R{r.randint(10000, 99999)}" for _ in range(r.randint(0, 5))],
    }
    if r.random() < 0.4:
        out["membership"] = r.choice(["gold", "silver", "regular"])
    if r.random() < 0.2:
        out["address"] = {"city": "X", "zip": f"{r.randint(10000, 99999)}"}
    if rename is not None and rename[0] in out:
        out[rename[1]] = out.pop(rename[0])
    return out


def _span(tid: str, n: int, t: int, tool: str, args: Any, result: Any) -> Span:
    return Span(
        tid,
        f"{n + 1:016x}",
        f"{1:016x}",
        tool,
        SpanKind.TOOL,
        t,
        t + 1_000_000,
        seq=n,
        status=SpanStatus.OK,
        inputs={"args": args},
        outputs={"result": result},
        attributes={"tool.name": tool, "tool.args_valid": True},
    )


def generate(n: int, seed: int, rename: tuple[str, str] | None = None) -> list[RunView]:
    """``n`` runs, each looking up one random user and sometimes a reservation."""
    r = random.Random(seed)
    views = []
    for _ in range(n):
        tid = f"{r.getrandbits(128) | 1:032x}"
        user = r.randrange(USERS)
        details = user_details(user, rename)
        spans = [_span(tid, 1, 1_000, "get_user_details", {"user_id": f"user_{user}"}, details)]
        if details.get("reservations") and r.random() < 0.5:
            rid = r.choice(details["reservations"])
            flights = [{"flight": f"HAT{r.randint(100, 299)}"} for _ in range(r.randint(1, 2))]
            spans.append(
                _span(
                    tid,
                    2,
                    2_000_000,
                    "get_reservation_details",
                    {"id": rid},
                    {
                        "reservation_id": rid,
                        "cabin": r.choice(["basic_economy", "economy", "business"]),
                        "flights": flights,
                    },
                )
            )
        run = Run(
            trace_id=tid,
            agent_name="airline-bot",
            agent_version=1,
            agent_digest=None,
            env="production",
            deployment_id=None,
            start_ns=0,
            end_ns=5_000_000,
            status=SpanStatus.OK,
            error=None,
            input="help me with my booking",
            output="Done.",
            root_span_id=f"{1:016x}",
        )
        views.append(RunView.from_run(run, spans))
    return views
