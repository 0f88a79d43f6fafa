"""Synthetic customer messages for the demo's production traffic (seeded, so reproducible).

Mostly refund requests for delivered orders (some asking for the original payment method, a few
with a wrong e-mail or above the approval limit), then order-status and help-center questions.
"""

from __future__ import annotations

import random

from support_bot import shop

DELIVERED = [
    f"ORD-{n}"
    for n in range(1000, 2000)
    if (o := shop.order(f"ORD-{n}")) and o.status == "delivered"
]
OTHER = [
    f"ORD-{n}"
    for n in range(1000, 2000)
    if (o := shop.order(f"ORD-{n}")) and o.status != "delivered"
]
QUESTIONS = [
    "How many days do I have to return an item?",
    "Do you ship internationally, and how long does delivery take?",
    "Which payment methods do you accept?",
    "How does store credit work?",
    "Is there a warranty on lamps?",
    "Can I change the address of my order?",
]
ITEMS = ["mug", "lamp", "t-shirt", "bag", "pen set", "hat"]
DEFECTS = ["arrived broken", "is damaged", "is defective", "came broken"]


def customer_message(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.62:
        order_id = rng.choice(DELIVERED)
        o = shop.order(order_id)
        assert o is not None
        email = o.email if rng.random() > 0.08 else "someone.else@example.com"
        amount = (
            rng.choice([15, 20, 25, 30, 40, 45, 60, 75, 80, 95])
            if rng.random() > 0.12
            else rng.choice([150, 220, 300])
        )
        amount = min(amount, int(o.amount))
        to_card = " Refund to my card please." if rng.random() < 0.3 else ""
        return (
            f"Hi, the {rng.choice(ITEMS)} from {order_id} {rng.choice(DEFECTS)}. "
            f"I'd like a refund of {amount} EUR.{to_card} My email is {email}"
        )
    if kind < 0.84:
        order_id = rng.choice(OTHER + DELIVERED[:40])
        return rng.choice(
            [
                f"Where is my order {order_id}?",
                f"What's the status of {order_id}?",
                f"Has {order_id} shipped yet?",
            ]
        )
    return rng.choice(QUESTIONS)
