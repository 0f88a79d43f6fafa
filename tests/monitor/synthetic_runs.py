"""A generator of synthetic agent runs with known behaviour, for monitoring's known-answer tests.

The simulated support agent has four tools and three intents:

- ``faq``: ``search_kb(query)``, sometimes a second search, then an answer;
- ``order``: ``get_order(order_id)``, sometimes followed by ``search_kb``;
- ``refund``: ``get_order`` -> ``refund(order_id, amount)`` -> ``send_email(to, body)``.

An LLM span precedes every tool call and the final answer (with the full message list, the
offered tools and the pinned response model). Tool responses are a deterministic function of
the arguments, so equal arguments give equal responses unless a :class:`Scenario` says
otherwise. A :class:`Scenario` injects exactly one kind of change with a known size.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Any

from agentdeck.core.behaviour.run_view import RunView
from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ToolSpec
from agentdeck.core.trace.model import (
    LinkKind,
    Run,
    Span,
    SpanKind,
    SpanLink,
    SpanStatus,
    TokenUsage,
)

MODEL_ID = "gpt-4o-2024-08-06"

_STR = {"type": "string"}
SPEC = AgentSpec(
    name="support-bot",
    model=ModelSpec("openai", MODEL_ID),
    system_prompt="You are a support agent.",
    tools=(
        ToolSpec(
            "get_order",
            input_schema={
                "type": "object",
                "properties": {"order_id": _STR},
                "required": ["order_id"],
            },
            output_schema={
                "type": "object",
                "properties": {
                    "order": {
                        "type": "object",
                        "properties": {
                            "id": _STR,
                            "status": _STR,
                            "items": {"type": "array", "items": {"type": "object"}},
                        },
                        "required": ["id", "status"],
                    }
                },
                "required": ["order"],
            },
        ),
        ToolSpec(
            "refund",
            input_schema={
                "type": "object",
                "properties": {"order_id": _STR, "amount": {"type": "number"}},
                "required": ["order_id", "amount"],
            },
        ),
        ToolSpec(
            "search_kb",
            input_schema={"type": "object", "properties": {"query": _STR}, "required": ["query"]},
        ),
        ToolSpec(
            "send_email",
            input_schema={
                "type": "object",
                "properties": {"to": _STR, "body": _STR},
                "required": ["to", "body"],
            },
        ),
    ),
)
OFFERED_TOOLS = [
    {"name": t.name, "description": t.description, "input_schema": dict(t.input_schema or {})}
    for t in SPEC.tools
]

EN_WORDS = [
    "order",
    "refund",
    "delivery",
    "package",
    "late",
    "missing",
    "broken",
    "account",
    "password",
    "reset",
    "invoice",
    "shipping",
    "address",
    "change",
    "cancel",
    "subscription",
    "payment",
    "card",
    "charged",
    "twice",
    "help",
    "please",
    "where",
    "is",
    "my",
    "when",
    "will",
    "arrive",
    "need",
    "support",
    "thanks",
    "hello",
    "problem",
    "with",
    "item",
    "wrong",
    "size",
]
RU_WORDS = [
    "заказ",
    "возврат",
    "доставка",
    "посылка",
    "опоздание",
    "сломан",
    "аккаунт",
    "пароль",
    "счет",
    "адрес",
    "отмена",
    "подписка",
    "оплата",
    "карта",
    "помощь",
    "пожалуйста",
    "где",
    "мой",
    "когда",
    "придет",
    "проблема",
    "товар",
    "размер",
]
QUERIES = [f"how to {w} {v}" for w in EN_WORDS[:10] for v in EN_WORDS[10:14]]


@dataclass(frozen=True)
class Scenario:
    """One injected change (defaults: none).

    ``tool_switch_share``: share of runs whose searches go to ``search_web`` instead of
    ``search_kb``; ``renamed_field``: (tool, old key, new key) renamed inside every response
    of that tool (at any depth); ``input_scale``: multiplies the number of words in inputs;
    ``foreign_share``: share of runs whose input is Russian; ``rerank_share``: share of
    ``search_kb`` responses whose result list comes back in reverse order.
    """

    tool_switch_share: float = 0.0
    renamed_field: tuple[str, str, str] | None = None
    input_scale: float = 1.0
    foreign_share: float = 0.0
    rerank_share: float = 0.0


def _rename(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {(new if k == old else k): _rename(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, old, new) for v in value]
    return value


def _response(tool: str, args: dict[str, Any]) -> Any:
    r = random.Random(zlib.crc32(repr(sorted(args.items())).encode()))
    if tool in ("search_kb", "search_web"):
        n = r.randint(2, 4)
        return {
            "results": [
                {
                    "id": f"kb-{r.randint(1, 999)}",
                    "title": r.choice(QUERIES),
                    "score": round(1 - i / 10, 2),
                }
                for i in range(n)
            ],
            "total": n,
        }
    if tool == "get_order":
        items = [
            {"sku": f"sku-{r.randint(1, 99)}", "qty": r.randint(1, 3)}
            for _ in range(r.randint(1, 3))
        ]
        return {
            "order": {
                "id": args.get("order_id"),
                "status": r.choice(["shipped", "pending"]),
                "items": items,
            }
        }
    if tool == "refund":
        return {"refund_id": f"rf-{r.randint(1, 10**6)}", "status": "accepted"}
    return {"ok": True, "message_id": f"m-{r.randint(1, 10**6)}"}


class _Ids:
    def __init__(self, r: random.Random) -> None:
        self.r = r

    def trace(self) -> str:
        return f"{self.r.getrandbits(128) | 1:032x}"

    def span(self) -> str:
        return f"{self.r.getrandbits(64) | 1:016x}"


def generate_run(r: random.Random, scenario: Scenario = Scenario()) -> tuple[Run, list[Span]]:
    """One synthetic run and its spans."""
    ids = _Ids(r)
    tid = ids.trace()
    foreign = r.random() < scenario.foreign_share
    words = RU_WORDS if foreign else EN_WORDS
    n_words = max(1, round(r.randint(6, 18) * scenario.input_scale))
    text = " ".join(r.choice(words) for _ in range(n_words))
    messages: list[dict[str, Any]] = [{"role": "system", "content": SPEC.system_prompt}]
    if r.random() < 0.3:
        messages += [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}]
    messages.append({"role": "user", "content": text})
    intent = r.choices(["faq", "order", "refund"], weights=[5, 3, 2])[0]
    order_id = f"o-{r.randint(1, 300)}"
    search = "search_web" if r.random() < scenario.tool_switch_share else "search_kb"
    plan: list[tuple[str, dict[str, Any]]]
    if intent == "faq":
        plan = [(search, {"query": r.choice(QUERIES)})]
        if r.random() < 0.3:
            plan.append((search, {"query": r.choice(QUERIES)}))
    elif intent == "order":
        plan = [("get_order", {"order_id": order_id})]
        if r.random() < 0.4:
            plan.append((search, {"query": r.choice(QUERIES)}))
    else:
        amount = float(r.randint(5, 200))
        plan = [
            ("get_order", {"order_id": order_id}),
            ("refund", {"order_id": order_id, "amount": amount}),
            ("send_email", {"to": f"user{r.randint(1, 50)}@example.com", "body": "Refund issued."}),
        ]
    t = 1_000_000_000
    spans: list[Span] = []
    seq = 0
    root = ids.span()

    def llm_span() -> None:
        nonlocal t, seq
        dur = int(r.lognormvariate(19.5, 0.4))
        spans.append(
            Span(
                tid,
                ids.span(),
                root,
                "chat",
                SpanKind.LLM,
                t,
                t + dur,
                seq=seq,
                status=SpanStatus.OK,
                inputs={"messages": list(messages), "tools": OFFERED_TOOLS},
                outputs={"message": {"role": "assistant", "content": ""}},
                attributes={"llm.model": MODEL_ID, "llm.response_model": MODEL_ID},
                usage=TokenUsage(r.randint(300, 900), r.randint(20, 200)),
            )
        )
        t, seq = t + dur, seq + 1

    for tool, args in plan:
        llm_span()
        result = _response(tool, args)
        if tool == "search_kb" and r.random() < scenario.rerank_share:
            result = {**result, "results": list(reversed(result["results"]))}
        if scenario.renamed_field and scenario.renamed_field[0] == tool:
            result = _rename(result, scenario.renamed_field[1], scenario.renamed_field[2])
        failed = r.random() < 0.02
        dur = int(r.lognormvariate(17.5, 0.5))
        sid = ids.span()
        spans.append(
            Span(
                tid,
                ids.span(),
                root,
                f"policy:{tool}",
                SpanKind.POLICY,
                t,
                t + 1000,
                seq=seq,
                outputs={"effect": "allow", "rules": [], "message": None},
                links=(SpanLink(tid, sid, LinkKind.POLICY),),
            )
        )
        seq += 1
        spans.append(
            Span(
                tid,
                sid,
                root,
                tool,
                SpanKind.TOOL,
                t,
                t + dur,
                seq=seq,
                status=SpanStatus.ERROR if failed else SpanStatus.OK,
                error="timeout" if failed else None,
                inputs={"args": args},
                outputs=None if failed else {"result": result},
                attributes={"tool.name": tool, "tool.args_valid": r.random() >= 0.03},
            )
        )
        t, seq = t + dur, seq + 1
        messages.append({"role": "tool", "content": str(result)[:200]})
    llm_span()
    roll = r.random()
    status = SpanStatus.ERROR if roll < 0.03 else SpanStatus.OK
    output = None if roll < 0.07 else "Done."
    run = Run(
        trace_id=tid,
        agent_name=SPEC.name,
        agent_version=1,
        agent_digest=None,
        env="production",
        deployment_id=None,
        start_ns=1_000_000_000,
        end_ns=t,
        status=status,
        error="agent crashed" if status is SpanStatus.ERROR else None,
        input=text,
        output=output,
        root_span_id=root,
    )
    return run, spans


def generate_views(n: int, seed: int, scenario: Scenario = Scenario()) -> list[RunView]:
    """``n`` runs from ``seed`` under ``scenario``, as views."""
    r = random.Random(seed)
    out = []
    for _ in range(n):
        run, spans = generate_run(r, scenario)
        out.append(RunView.from_run(run, spans))
    return out
