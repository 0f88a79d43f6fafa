"""A small deterministic in-memory shop: orders, customers, refunds, e-mails, help articles.

Order ``ORD-NNNN`` (1000 <= NNNN <= 1999) always has the same status, amount, items and
customer (seeded by its number), so eval cases can name real orders. The shop is also the
*tool provider*: ``lookup_order``'s response follows the API version it serves. The provider's
sandbox serves every version it has (callers get the version they pin); its production serves
only the versions it has rolled out there (``PROVIDER.production``), and callers pinning another
version get the newest one production has. lookup_order 2.x renames ``email`` to
``customer_email``; the demo's v2 pins it before the provider has rolled it out in production
(``PROVIDER.roll_out("2")`` would), which is why its canary is rolled back.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass, field
from typing import Any

FIRST = ["jane", "omar", "li", "sara", "tom", "ana", "raj", "eva", "max", "noor", "ivan", "mia"]
LAST = ["doe", "haddad", "wei", "berg", "novak", "silva", "patel", "kim", "roth", "ali"]
SKUS = ["MUG-01", "TEE-M", "LAMP-2", "BAG-7", "PEN-3", "CUP-9", "HAT-L"]
STATUSES = ["delivered"] * 12 + ["shipped"] * 4 + ["processing"] * 3 + ["cancelled"]


@dataclass(frozen=True)
class Order:
    order_id: str
    status: str
    amount: float
    currency: str
    email: str
    items: tuple[tuple[str, int], ...]


def order(order_id: str) -> Order | None:
    """The order with this id, or None when the shop has no such order."""
    try:
        n = int(order_id.removeprefix("ORD-"))
    except ValueError:
        return None
    if not order_id.startswith("ORD-") or not 1000 <= n <= 1999:
        return None
    rng = random.Random(n)
    items = tuple((rng.choice(SKUS), rng.randint(1, 3)) for _ in range(rng.randint(1, 3)))
    email = f"{rng.choice(FIRST)}.{rng.choice(LAST)}@example.com"
    status = rng.choice(STATUSES)
    return Order(order_id, status, round(rng.uniform(12, 480), 2), "EUR", email, items)


@dataclass
class Provider:
    """Which ``lookup_order`` API versions (major numbers) the provider serves where."""

    sandbox: set[str] = field(default_factory=lambda: {"1", "2"})
    production: set[str] = field(default_factory=lambda: {"1"})

    def roll_out(self, major: str) -> None:
        """Roll an API version out to production (the demo's provider-side change)."""
        self.production.add(major)

    def reset(self) -> None:
        self.sandbox, self.production = {"1", "2"}, {"1"}

    def serves(self, pinned: str | None, env: str | None) -> str:
        available = self.production if env == "production" else self.sandbox
        major = (pinned or "1").split(".", 1)[0]
        return major if major in available else max(available, key=int)


PROVIDER = Provider()


def order_response(o: Order, api: str) -> dict[str, Any]:
    """``lookup_order``'s response in API version ``api`` (major)."""
    body: dict[str, Any] = {
        "order_id": o.order_id,
        "status": o.status,
        "amount": o.amount,
        "currency": o.currency,
        "items": [{"sku": s, "qty": q} for s, q in o.items],
    }
    body["customer_email" if api == "2" else "email"] = o.email
    return body


KB = [
    (
        "KB-101",
        "Returns and refunds policy",
        "refund return policy days money back card store credit",
    ),
    (
        "KB-102",
        "Shipping times and carriers",
        "shipping delivery times carrier track days international",
    ),
    ("KB-103", "Tracking your order", "track tracking order status where package"),
    ("KB-104", "Damaged or defective items", "damaged broken defective item photo replace"),
    ("KB-105", "Store credit explained", "store credit voucher balance refund"),
    ("KB-106", "Warranty", "warranty guarantee repair year"),
    ("KB-107", "Changing or cancelling an order", "cancel change order address processing"),
    ("KB-108", "Payment methods", "payment card paypal invoice pay"),
]


def search(query: str, top_k: int = 3) -> list[dict[str, Any]]:
    words = {w.strip("?.,!").lower() for w in query.split()}
    scored = []
    for kb_id, title, keywords in KB:
        hits = len(words & set(keywords.split()))
        if hits:
            scored.append(
                {"id": kb_id, "title": title, "score": round(hits / (1 + len(words)) * 3, 3)}
            )
    scored.sort(key=lambda r: (-r["score"], r["id"]))
    return scored[:top_k]


class Ledger:
    """Refunds and e-mails the shop has accepted (thread-safe; ids are sequential)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.refunds: list[dict[str, Any]] = []
        self.emails: list[dict[str, Any]] = []

    def refund(self, order_id: str, amount: float, reason: str) -> str:
        with self._lock:
            rid = f"RF-{next(self._ids):05d}"
            self.refunds.append(
                {"refund_id": rid, "order_id": order_id, "amount": amount, "reason": reason}
            )
            return rid

    def email(self, to: str, subject: str) -> str:
        with self._lock:
            mid = f"MSG-{next(self._ids):05d}"
            self.emails.append({"message_id": mid, "to": to, "subject": subject})
            return mid


LEDGER = Ledger()
