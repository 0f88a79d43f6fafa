"""A deterministic scripted model: reads the conversation and decides tool calls as a real
tool-calling model would, for refunds, order status and help-center questions.

No network, no key. What it does depends only on the conversation and on the agent spec it is
built for, so a run can be reproduced. Variation between similar requests (whether it checks
the help center first, how many articles it asks for) is seeded by the customer's message.

Version differences come from the spec, as they would with a real model:

- the system prompt: a prompt that says "offer store credit first" makes it offer store credit
  for refunds on delivered orders (unless the customer already asked for the original payment
  method), instead of refunding straight away;
- the pinned ``lookup_order`` output schema: the model reads the customer's address from the
  field that schema names (``email`` in 1.x, ``customer_email`` in 2.x). When the response does
  not have that field it does what models do with a missing value: it leaves the argument out.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.trace.model import TokenUsage
from agentdeck.core.trace.model_call import ModelResponse, ToolCall

ORDER = re.compile(r"\bORD-\d{4,}\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
AMOUNT = re.compile(r"(\d+(?:\.\d{1,2})?)\s*(?:eur|euros?|€)", re.I)
REFUND = re.compile(r"refund|money back|broken|damaged|defective|reimburse", re.I)
STATUS = re.compile(r"where is|status|track|arriv|shipped yet|delivered yet", re.I)
ORIGINAL_PAYMENT = re.compile(
    r"original payment|to my card|no store credit|not store credit|card please", re.I
)
APPROVAL_LIMIT = 100.0


def _seed(text: str) -> random.Random:
    return random.Random(
        int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
    )


def _email_field(spec: AgentSpec | None) -> str:
    tool = spec.tool("lookup_order") if spec else None
    props = (tool.output_schema or {}).get("properties", {}) if tool else {}
    return next((k for k in props if "email" in k), "email")


class _Conversation:
    """What the model reads off the message list: the request and the tool results so far."""

    def __init__(self, messages: list[dict[str, Any]]) -> None:
        users = [m for m in messages if m.get("role") == "user"]
        self.text = " ".join(str(m.get("content") or "") for m in users)
        self.last = str(users[-1].get("content") or "") if users else ""
        self.results: dict[str, list[Any]] = {}
        for m in messages:
            if m.get("role") == "tool":
                try:
                    value = json.loads(m.get("content") or "null")
                except (TypeError, ValueError):
                    value = {"error": "unreadable tool result"}
                self.results.setdefault(str(m.get("name")), []).append(value)

    def result(self, tool: str) -> Any:
        got = self.results.get(tool)
        return got[-1] if got else None

    def done(self, tool: str) -> bool:
        return tool in self.results


def _failed(value: Any) -> str | None:
    return value.get("error") if isinstance(value, dict) and "error" in value else None


class ScriptedModel:
    """A :class:`~agentdeck.core.trace.model_call.ModelClient` that follows a support playbook."""

    def __init__(self, spec: AgentSpec | None = None) -> None:
        self.spec = spec
        prompt = (spec.system_prompt if spec else "").lower()
        self.store_credit_first = "store credit first" in prompt
        self.email_field = _email_field(spec)
        self.model_id = spec.model.id if spec else "scripted"
        self._calls = 0

    # -- the ModelClient protocol ----------------------------------------------------------

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], params: dict[str, Any]
    ) -> ModelResponse:
        convo = _Conversation(messages)
        offered = {t.get("name") for t in tools}
        content, calls = self._decide(convo, offered)
        prompt_chars = sum(len(str(m.get("content") or "")) for m in messages)
        usage = TokenUsage(
            prompt_chars // 4 + 40 * len(tools), len(content or "") // 4 + 12 * len(calls)
        )
        step = sum(1 for m in messages if m.get("role") == "assistant")
        tool_calls = [
            ToolCall(f"call_{step}_{i}", name, args) for i, (name, args) in enumerate(calls)
        ]
        return ModelResponse.assistant(content, tool_calls, model=self.model_id, usage=usage)

    # -- the playbook ------------------------------------------------------------------------

    def _decide(
        self, c: _Conversation, offered: set[Any]
    ) -> tuple[str | None, list[tuple[str, dict[str, Any]]]]:
        order_id = next(iter(ORDER.findall(c.text)), None)
        if REFUND.search(c.last) or (REFUND.search(c.text) and ORIGINAL_PAYMENT.search(c.last)):
            return self._refund(c, order_id)
        if order_id and STATUS.search(c.text):
            return self._status(c, order_id)
        return self._kb(c, offered)

    def _kb(
        self, c: _Conversation, offered: set[Any]
    ) -> tuple[str | None, list[tuple[str, dict[str, Any]]]]:
        if not c.done("search_kb") and "search_kb" in offered:
            rng = _seed(c.last)
            query = re.sub(r"\s+", " ", c.last).strip()[:120] or "help"
            return None, [("search_kb", {"query": query, "top_k": rng.choice([3, 3, 5])})]
        found = (c.result("search_kb") or {}).get("results") or []
        if not found:
            return "I could not find an article about that; a colleague will get back to you.", []
        return f'Our help center covers this in "{found[0]["title"]}" ({found[0]["id"]}).', []

    def _status(
        self, c: _Conversation, order_id: str
    ) -> tuple[str | None, list[tuple[str, dict[str, Any]]]]:
        if not c.done("lookup_order"):
            return None, [("lookup_order", {"order_id": order_id})]
        order = c.result("lookup_order")
        if _failed(order):
            return f"I could not find order {order_id}. Could you check the number?", []
        status = order.get("status")
        if status == "shipped" and not c.done("search_kb") and _seed(c.last).random() < 0.3:
            return None, [("search_kb", {"query": "shipping delivery times", "top_k": 3})]
        return f"Order {order_id} is {status}.", []

    def _refund(
        self, c: _Conversation, order_id: str | None
    ) -> tuple[str | None, list[tuple[str, dict[str, Any]]]]:
        if order_id is None:
            return "I can help with a refund. What is your order number (ORD-...)?", []
        if not c.done("lookup_order"):
            return None, [("lookup_order", {"order_id": order_id})]
        order = c.result("lookup_order")
        if _failed(order):
            return f"I could not find order {order_id}. Could you check the number?", []
        status = order.get("status")
        if status == "cancelled":
            return f"Order {order_id} was cancelled and has already been refunded in full.", []
        if status != "delivered":
            return (
                f"Order {order_id} is {status}; a refund is possible once it has been delivered.",
                [],
            )
        amount_total = float(order.get("amount", 0))
        asked = AMOUNT.search(c.text)
        amount = min(float(asked.group(1)), amount_total) if asked else amount_total
        if self.store_credit_first and not ORIGINAL_PAYMENT.search(c.text):
            return (
                f"I'm sorry about order {order_id}. I can offer you {amount:.2f} EUR in store credit "
                "right away, or a refund to your original payment method if you prefer.",
                [],
            )
        claimed = next(iter(EMAIL.findall(c.text)), None)
        if claimed is None:
            return (
                "To refund this order I need to verify your identity: what e-mail address is on the order?",
                [],
            )
        if not c.done("verify_identity"):
            return None, [("verify_identity", {"order_id": order_id, "email": claimed})]
        verified = c.result("verify_identity")
        if _failed(verified) or not verified.get("verified"):
            return (
                "I could not verify that e-mail address for this order, so I cannot refund it.",
                [],
            )
        if amount > APPROVAL_LIMIT:
            return (
                f"A refund of {amount:.2f} EUR needs a supervisor's approval; I have escalated your "
                "request and you will hear from us within a day.",
                [],
            )
        if not c.done("issue_refund"):
            reason = (
                "damaged item"
                if re.search(r"broken|damaged|defective", c.text, re.I)
                else "customer request"
            )
            return None, [
                (
                    "issue_refund",
                    {"order_id": order_id, "amount": round(amount, 2), "reason": reason},
                )
            ]
        refund = c.result("issue_refund")
        if _failed(refund):
            return (
                f"I could not issue the refund: {_failed(refund)}. A colleague will follow up.",
                [],
            )
        if not c.done("send_email"):
            args: dict[str, Any] = {
                "subject": f"Your refund for {order_id}",
                "body": f"We refunded {amount:.2f} EUR ({refund.get('refund_id')}).",
            }
            to = order.get(self.email_field)
            if to is not None:
                args = {"to": to, **args}
            return None, [("send_email", args)]
        sent = c.result("send_email")
        note = "" if not _failed(sent) else " I could not send the confirmation e-mail, sorry."
        return (
            f"I refunded {amount:.2f} EUR to your original payment method ({refund.get('refund_id')}).{note}",
            [],
        )
