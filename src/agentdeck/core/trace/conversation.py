"""A finished conversation in OpenAI chat format, parsed and checked: what an import records.

::

    {"messages": [{"role": "user", "content": "cancel my order", "timestamp": "2026-01-02T10:00:00Z"},
                  {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                   "function": {"name": "cancel_order", "arguments": "{\\"id\\": 7}"}}], "usage": {...}},
                  {"role": "tool", "tool_call_id": "c1", "content": "{\\"ok\\": true}"},
                  {"role": "assistant", "content": "Done."}],
     "usage": {"prompt_tokens": 120, "completion_tokens": 30},
     "outcome": 1, "metadata": {"task": "t-17"}}

:func:`parse_conversation` turns one such object into a :class:`Conversation` or raises
:class:`~agentdeck.core.errors.InputError` naming the field (``messages[3].tool_call_id``).
Messages are converted to agentdeck's chat form (:mod:`agentdeck.core.trace.chat_format`).
A timestamp is an ISO-8601 string (a zone is required) or seconds since the epoch; the
conversation's timing is known only when every message has one (``timestamps`` is then set).
``outcome`` is 0/1, a bool, or ``{"success", "score", "reason"}``. ``usage`` is the
conversation's total (OpenAI ``prompt_tokens``/``completion_tokens`` or ``input_tokens``/
``output_tokens``); an assistant message may carry its own ``usage``. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentdeck.core.errors import InputError
from agentdeck.core.trace.chat_format import chat_message, tool_def, usage_from_dict
from agentdeck.core.trace.model import TokenUsage
from agentdeck.core.types import JSON

__all__ = [
    "IMPORTED",
    "TIMING",
    "Conversation",
    "ConversationOutcome",
    "parse_conversation",
    "parse_timestamp",
    "timing_unknown",
]

IMPORTED = "agentdeck.imported"
"""Span and run attribute: recorded from history (an import), not live."""
TIMING = "agentdeck.timing"
"""``original`` (times from the source) or ``unknown`` (laid out at import: latencies mean
nothing, and latency statistics skip them)."""


def timing_unknown(attributes: Mapping[str, Any]) -> bool:
    """True for a span or run whose times were made up at import (no timestamps)."""
    return attributes.get(TIMING) == "unknown"


_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
MAX_MESSAGES = 100_000


@dataclass(frozen=True, slots=True)
class ConversationOutcome:
    success: bool
    score: float | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """One finished conversation: messages in agentdeck chat form, and what is known about it.

    ``timestamps`` holds one epoch-nanosecond time per message, or None when any is missing;
    ``usages`` one :class:`TokenUsage` (or None) per message (assistant messages only).
    """

    messages: tuple[dict[str, Any], ...]
    timestamps: tuple[int, ...] | None
    usages: tuple[TokenUsage | None, ...]
    usage: TokenUsage | None
    outcome: ConversationOutcome | None
    metadata: Mapping[str, JSON]
    tools: tuple[dict[str, Any], ...]


def parse_timestamp(value: Any, where: str) -> int:
    """Epoch nanoseconds from an ISO-8601 string with a zone, or epoch seconds (int/float)."""
    if isinstance(value, bool):
        raise InputError(f"{where}: a timestamp must be ISO-8601 or epoch seconds, not {value!r}")
    if isinstance(value, int | float):
        if not 0 <= value < 1e11:  # NaN fails this too
            raise InputError(f"{where}: epoch seconds out of range: {value!r}")
        return round(value * 1e9)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InputError(f"{where}: not an ISO-8601 timestamp: {value[:60]!r}") from None
        if dt.tzinfo is None:
            raise InputError(f"{where}: timestamp {value[:60]!r} has no time zone")
        return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000
    raise InputError(f"{where}: a timestamp must be ISO-8601 or epoch seconds, not {value!r}")


def _usage(value: Any, where: str) -> TokenUsage | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: usage must be an object, not {type(value).__name__}")
    try:
        return usage_from_dict(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from None


def _outcome(value: Any) -> ConversationOutcome | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return ConversationOutcome(value, 1.0 if value else 0.0)
    if isinstance(value, int | float):
        if value not in (0, 1):
            raise InputError(f"outcome: a number outcome must be 0 or 1, not {value!r}")
        return ConversationOutcome(bool(value), float(value))
    if isinstance(value, Mapping):
        success = value.get("success")
        if not isinstance(success, bool) and success not in (0, 1):
            raise InputError("outcome.success: must be true/false or 0/1")
        score = value.get("score")
        if score is not None and (
            isinstance(score, bool)
            or not isinstance(score, int | float)
            or not -1e300 < score < 1e300  # finite (NaN and huge integers fail this too)
        ):
            raise InputError(f"outcome.score: must be a finite number, not {score!r}")
        reason = value.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise InputError("outcome.reason: must be a string")
        return ConversationOutcome(bool(success), None if score is None else float(score), reason)
    raise InputError(f"outcome: must be 0/1, a bool or an object, not {type(value).__name__}")


def _check_message(m: Any, i: int, call_ids: set[str]) -> None:
    where = f"messages[{i}]"
    if not isinstance(m, Mapping):
        raise InputError(f"{where}: must be an object, not {type(m).__name__}")
    role = m.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        raise InputError(f"{where}.role: must be one of {sorted(_ROLES)}, not {str(role)[:40]!r}")
    calls = m.get("tool_calls")
    if calls is not None:
        if role != "assistant" or not isinstance(calls, list):
            raise InputError(f"{where}.tool_calls: must be a list on an assistant message")
        for j, c in enumerate(calls):
            fn = c.get("function") if isinstance(c, Mapping) else None
            if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
                raise InputError(f"{where}.tool_calls[{j}].function.name: missing or not a string")
            cid = c.get("id")
            if not isinstance(cid, str) or not cid:
                raise InputError(f"{where}.tool_calls[{j}].id: missing or not a string")
            if cid in call_ids:
                raise InputError(f"{where}.tool_calls[{j}].id: {cid!r} is already pending")
            call_ids.add(cid)
    if role == "tool":
        cid = m.get("tool_call_id")
        if not isinstance(cid, str) or cid not in call_ids:
            raise InputError(
                f"{where}.tool_call_id: {cid!r} answers no earlier unanswered assistant tool call"
            )
        call_ids.discard(cid)


def parse_conversation(
    obj: Any,
    *,
    timestamps: Sequence[Any] | None = None,
    usage: Any = None,
    outcome: Any = None,
    metadata: Mapping[str, Any] | None = None,
) -> Conversation:
    """Check and convert one conversation (an object with ``messages``, or a message list).

    Keyword arguments override the object's own fields. Raises :class:`InputError` naming the
    field at fault.
    """
    if isinstance(obj, list | tuple):
        obj = {"messages": list(obj)}
    if not isinstance(obj, Mapping):
        raise InputError(f"a conversation must be an object, not {type(obj).__name__}")
    raw = obj.get("messages")
    if not isinstance(raw, list) or not raw:
        raise InputError("messages: must be a non-empty list")
    if len(raw) > MAX_MESSAGES:
        raise InputError(f"messages: more than {MAX_MESSAGES} messages")
    call_ids: set[str] = set()
    for i, m in enumerate(raw):
        _check_message(m, i, call_ids)
    if timestamps is not None:
        if len(timestamps) != len(raw):
            raise InputError(
                f"timestamps: {len(timestamps)} given for {len(raw)} messages (one each)"
            )
        stamps: list[Any] = list(timestamps)
    else:
        stamps = [m.get("timestamp") for m in raw]
    times: tuple[int, ...] | None = None
    if all(s is not None for s in stamps):
        times = tuple(parse_timestamp(s, f"messages[{i}].timestamp") for i, s in enumerate(stamps))
        for i in range(1, len(times)):
            if times[i] < times[i - 1]:
                raise InputError(f"messages[{i}].timestamp: earlier than the message before it")
    else:
        for i, s in enumerate(stamps):  # partial timing is ignored, but must still be valid
            if s is not None:
                parse_timestamp(s, f"messages[{i}].timestamp")
    usages = tuple(_usage(m.get("usage"), f"messages[{i}].usage") for i, m in enumerate(raw))
    total = _usage(usage if usage is not None else obj.get("usage"), "usage")
    meta = metadata if metadata is not None else obj.get("metadata")
    if meta is not None and not isinstance(meta, Mapping):
        raise InputError(f"metadata: must be an object, not {type(meta).__name__}")
    tools = obj.get("tools") or ()
    if not isinstance(tools, list | tuple):
        raise InputError("tools: must be a list")
    return Conversation(
        messages=tuple(chat_message(m) for m in raw),
        timestamps=times,
        usages=usages,
        usage=total,
        outcome=_outcome(outcome if outcome is not None else obj.get("outcome")),
        metadata=dict(meta or {}),
        tools=tuple(tool_def(t) for t in tools),
    )
