"""Record a finished conversation (OpenAI chat format) as one run: ``agentdeck.record_conversation``.

::

    agentdeck.init(on_full="block")                 # bulk work: never drop
    rec = agentdeck.record_conversation(
        messages, agent="support-bot@production", outcome=1,
        timestamps=[...], usage={"prompt_tokens": 812, "completion_tokens": 96},
    )
    rec.trace_id, rec.invalid_calls, rec.policy_hits

The run gets an ``agent`` root span, one ``llm`` span per assistant message (its context
window is the messages before it; it links to the tool spans whose results it consumed) and one
``tool`` span per tool result (linked to the ``llm`` span that asked for it, ``tool.call_id``
set). These are the links the live SDK forms.

Timing: with a timestamp on every message the spans keep the original times (an ``llm`` span
runs from the message before it to the answer; a ``tool`` span from the call to its result),
marked ``agentdeck.timing = "original"``. Without them the spans are laid out 1 us apart from
now, marked ``agentdeck.timing = "unknown"``, and latency statistics skip them. Every span and
the run carry ``agentdeck.imported = true``.

Arguments are validated against the agent's pinned input schemas (``tool.args_valid``) and
the configured guard decides each call in *record-only* mode (``ToolCallInfo.record_only``):
an import never denies history; what the policy would have said is recorded as ``policy``
spans (at the call's time) and, on a call it would have refused, ``policy.would_deny`` and
``policy.rules`` on the tool span. The run's history (``RunState.calls``) grows call by call,
so rules over earlier calls see them.

Invalid input raises :class:`~agentdeck.core.errors.InputError` naming the field, before
anything is recorded; a telemetry failure after that is counted and swallowed (None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from agentdeck.core.errors import InputError, PolicyDenied
from agentdeck.core.spec.agent import AgentSpec, ResolvedAgent
from agentdeck.core.trace.chat_format import tool_def
from agentdeck.core.trace.conversation import IMPORTED, TIMING, Conversation, parse_conversation
from agentdeck.core.trace.model import Outcome, Run, Span, SpanKind, SpanLink, SpanStatus
from agentdeck.core.types import JSON
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.guard import CallOutcome, ToolCallInfo, ToolCallRecord
from agentdeck.tracing.sdk.recorder import ReplayedCall, RunRecord, Scope, time_ns
from agentdeck.tracing.sdk.validation import check

__all__ = [
    "IMPORTED",
    "TIMING",
    "ConversationRecord",
    "record_conversation",
    "record_parsed",
    "review_call",
]


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """What recording one conversation produced."""

    trace_id: str
    spans: int
    tool_calls: int
    invalid_calls: int
    policy_hits: int
    timing: str


@dataclass(frozen=True, slots=True)
class CallReview:
    """A recorded tool call, checked: its extra attributes and the policy's verdicts."""

    attributes: dict[str, JSON]
    invalid: bool
    policy_hits: int


def record_conversation(
    messages: Sequence[Mapping[str, Any]] | Mapping[str, Any],
    *,
    agent: str | AgentSpec | ResolvedAgent | None = None,
    outcome: bool | int | Mapping[str, Any] | None = None,
    timestamps: Sequence[Any] | None = None,
    usage: Mapping[str, Any] | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ConversationRecord | None:
    """Record one finished conversation as a run of ``agent`` (see the module docstring).

    ``messages`` is an OpenAI chat message list (or an object with ``messages`` and the other
    fields); ``timestamps`` one per message (ISO-8601 with a zone, or epoch seconds);
    ``usage`` the conversation's token total; ``outcome`` 0/1, a bool or ``{"success",
    "score", "reason"}``; ``tools`` the tool definitions offered; ``metadata`` becomes run
    attributes ``metadata.<key>``. Returns None before ``agentdeck.init``.
    """
    try:  # captured now: the caller may change its lists afterwards
        data = orjson.loads(orjson.dumps(messages, default=str))
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise InputError(f"messages: not JSON data: {exc}") from None
    conv = parse_conversation(data, timestamps=timestamps, usage=usage, outcome=outcome,
                              metadata=metadata)  # fmt: skip
    if tools is not None:
        conv = replace(conv, tools=tuple(tool_def(t) for t in orjson.loads(orjson.dumps(tools))))
    return record_parsed(conv, agent)


def record_parsed(
    conv: Conversation, agent: str | AgentSpec | ResolvedAgent | None
) -> ConversationRecord | None:
    """Record an already parsed conversation (the importer's path). Never raises."""
    cfg = rec.config
    if cfg is None:
        return None
    try:
        return _record(cfg, conv, agent)
    except Exception as exc:
        rec.internal_error("record_conversation", exc)
        return None


def review_call(
    cfg: rec.Config, scope: Scope, name: str, args: Any, span_id: str, start: int, end: int,
    elapsed_s: float,
) -> CallReview:  # fmt: skip
    """Validate a recorded call's ``args`` and have the guard decide it, record-only."""
    attrs: dict[str, JSON] = {}
    entry = scope.tools.get(name)
    if entry is not None and entry.version is not None:
        attrs["tool.version"] = entry.version
    errors: list[str] | None = None
    validated = False
    if args is None:
        pass  # not recorded (another producer's span): nothing to validate
    elif not isinstance(args, dict):
        errors, validated = [f"arguments are not a JSON object: {str(args)[:80]!r}"], True
    elif entry is not None and entry.validator is not None:
        errors, validated = check(entry.validator, args), True
    if validated:
        attrs["tool.args_valid"] = errors is None
        if errors:
            attrs["tool.args_errors"] = list(errors)
    hits = 0
    run_rec = scope.run
    guard = cfg.guard
    call_args = args if isinstance(args, dict) else {}
    if guard is not None:
        info = ToolCallInfo(
            tool=name, tool_version=entry.version if entry else None,
            tool_spec=entry.spec if entry else None, args=call_args, agent=scope.agent,
            env=scope.env, run=run_rec.state, step=next(run_rec.tool_steps), elapsed_s=elapsed_s,
            trace_id=run_rec.trace_id, span_id=span_id, agent_error=scope.resolve_error,
            record_only=True,
        )  # fmt: skip
        handle = ReplayedCall(run_rec.trace_id, span_id, name, scope, start, end)
        prev = rec.current.get()
        token = rec.current.set(handle)
        denied: PolicyDenied | None = None
        try:
            guard.check(info)
        except PolicyDenied as exc:
            denied = exc
        except Exception as exc:  # a broken guard: recorded as the denial it would have been
            denied = PolicyDenied(name, [], f"policy guard failed: {rec.describe_error(exc)}")
        finally:
            rec.reset(token, prev)
        hits = sum(1 for d in handle.decisions if d.get("effect") not in (None, "allow"))
        if denied is not None:
            hits = max(hits, 1)
            attrs["policy.would_deny"] = True
            attrs["policy.rules"] = list(denied.rules)
            attrs["policy.message"] = str(denied)
        run_rec.state.record(ToolCallRecord(name, call_args, CallOutcome.OK, span_id))
    return CallReview(attrs, errors is not None, hits)


def _result(content: Any) -> JSON:
    """A tool message's content: parsed when it is a JSON object or array string."""
    if isinstance(content, str) and content[:1] in ("{", "["):
        try:
            parsed: JSON = orjson.loads(content)
            return parsed
        except orjson.JSONDecodeError:
            return content
    return content


def _record(
    cfg: rec.Config, conv: Conversation, agent: str | AgentSpec | ResolvedAgent | None
) -> ConversationRecord:
    res = rec.resolve_agent(agent, cfg)
    a = res.agent
    if res.error is not None:
        rec.log.warning("agentdeck: imported run of %r not resolved: %s", agent, res.error)
    env = (a.env if a is not None else None) or cfg.env
    trace_id, root_id = rec.new_trace_id(), rec.new_span_id()
    run_rec = RunRecord(trace_id)
    scope = Scope(run_rec, a, env, root_id, res.error, res.stamp(cfg.on_unresolved))
    msgs = conv.messages
    known = conv.timestamps is not None
    base = time_ns()
    times = conv.timestamps or tuple(base + i * 1000 for i in range(len(msgs)))
    mark: dict[str, JSON] = {IMPORTED: True, TIMING: "original" if known else "unknown"}
    stamp: dict[str, JSON] = {**(scope.stamp or {}), **mark}
    scope.stamp = stamp  # spans a guard emits for the run's calls carry it too
    spec = a.spec if a is not None else None
    meta_model = conv.metadata.get("model")
    model = meta_model if isinstance(meta_model, str) else (spec.model.id if spec else None)
    provider = spec.model.provider if spec else None
    next(run_rec.seq)  # 0: the root
    spans: list[Span] = []
    asked: dict[str, tuple[str, str, Any, int]] = {}  # call id -> llm span, tool, args, time
    fresh: list[str] = []
    calls = invalid = hits = 0
    for i, m in enumerate(msgs):
        role = m.get("role")
        if role == "assistant":
            sid = rec.new_span_id()
            links = tuple(SpanLink(trace_id, t) for t in fresh)
            fresh = []
            attrs: dict[str, JSON] = {"llm.provider": provider, "llm.model": model,
                                      "llm.response_model": model, **stamp}  # fmt: skip
            spans.append(Span(
                trace_id, sid, root_id, f"chat {model}" if model else "chat", SpanKind.LLM,
                times[i - 1] if i else times[i], times[i], next(run_rec.seq), SpanStatus.OK,
                None, {"messages": list(msgs[:i]), "tools": list(conv.tools)},
                {"message": m}, attrs, links, conv.usages[i],
            ))  # fmt: skip
            for c in m.get("tool_calls") or ():
                asked[str(c["id"])] = (sid, str(c["name"]), c.get("arguments"), times[i])
        elif role == "tool":
            cid = str(m.get("tool_call_id"))
            llm_sid, name, args, t_call = asked.pop(cid)
            sid = rec.new_span_id()
            seq = next(run_rec.seq)
            review = review_call(cfg, scope, name, args, sid, t_call, times[i],
                                 (t_call - times[0]) / 1e9 if known else 0.0)  # fmt: skip
            calls += 1
            invalid += review.invalid
            hits += review.policy_hits
            attrs = {"tool.name": name, "tool.call_id": cid, **review.attributes, **stamp}
            spans.append(Span(
                trace_id, sid, root_id, name, SpanKind.TOOL, t_call, times[i], seq,
                SpanStatus.OK, None, {"args": args}, {"result": _result(m.get("content"))},
                attrs, (SpanLink(trace_id, llm_sid),),
            ))  # fmt: skip
            fresh.append(sid)
    run_attrs = _run_attributes(agent, a, env, scope, stamp, conv)
    first_user = next((m.get("content") for m in msgs if m.get("role") == "user"), None)
    answer = next((m.get("content") for m in reversed(msgs) if m.get("role") == "assistant"), None)
    name = a.name if a else (agent.split("@", 1)[0] if isinstance(agent, str) else "run")
    end = times[-1]
    spans.insert(0, Span(
        trace_id, root_id, None, name, SpanKind.AGENT, times[0], end, 0, SpanStatus.OK, None,
        {"input": first_user}, {"output": answer}, dict(run_attrs), (), conv.usage,
    ))  # fmt: skip
    for s in spans:
        cfg.exporter.submit(s)
    oc = conv.outcome
    cfg.exporter.submit(Run(
        trace_id=trace_id, agent_name=name if (a or isinstance(agent, str)) else None,
        agent_version=a.version if a and a.version else None,
        agent_digest=a.digest if a else None, env=env,
        deployment_id=a.deployment_id if a else None, start_ns=times[0], end_ns=end,
        status=SpanStatus.OK, input=first_user, output=answer, root_span_id=root_id,
        attributes=run_attrs,
        outcome=None if oc is None else (Outcome.SUCCESS if oc.success else Outcome.FAILURE),
        outcome_score=oc.score if oc else None, outcome_reason=oc.reason if oc else None,
    ))  # fmt: skip
    return ConversationRecord(trace_id, len(spans), calls, invalid, hits, str(stamp[TIMING]))


def _run_attributes(
    agent: Any, a: ResolvedAgent | None, env: str | None, scope: Scope,
    stamp: dict[str, JSON], conv: Conversation,
) -> dict[str, JSON]:  # fmt: skip
    out: dict[str, JSON] = {f"metadata.{k}": v for k, v in conv.metadata.items()}
    if isinstance(agent, str):
        out["agent.ref"] = agent
    if a is not None:
        out.update({"agent.name": a.name, "agent.digest": a.digest})
        if a.version:
            out["agent.version"] = a.version
    if env is not None:
        out["agent.env"] = env
    if scope.resolve_error is not None:
        out["agent.resolve_error"] = scope.resolve_error
    out.update(stamp)
    return out
