"""What a policy expression sees: one tool call with its context.

:class:`ToolCallContext` is the input of :meth:`agentdeck.core.policy.evaluate.CompiledPolicy.decide`.
It is built by the SDK before a tool runs, by ``policy test`` from a test case's ``call``
mapping, and by ``policy eval --call JSON`` (both through :meth:`ToolCallContext.from_dict`).

:meth:`ToolCallContext.variables` turns it into the CEL variables documented in
docs/policies.md::

    tool   {name, version}
    args   the call's arguments (JSON values)
    agent  {name, version, digest}
    env    the deployment environment's name ("" when unknown)
    run    {counts: {tool: n}, calls: [{tool, args, outcome, result}], elapsed_s, step,
            cost_usd, tokens}   (the run's LLM spend so far: USD of its priced calls, tokens)
    now    a CEL timestamp (absent when the caller gave none)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentdeck.core.errors import SpecError
from agentdeck.core.spelling import unknown as unknown_word

#: The root variables a ``when`` expression may read.
ROOT_VARIABLES: tuple[str, ...] = ("tool", "args", "agent", "env", "run", "now")

#: Outcomes recorded for earlier calls (free text is accepted; these are the SDK's words).
OUTCOMES: tuple[str, ...] = ("ok", "error", "denied")


class Deferred:
    """A value computed on first read, then kept (an earlier call's result as a policy sees
    it: the SDK decodes, bounds and redacts it only if a rule reads it). Thread-safe enough:
    two racing first reads compute the same value."""

    __slots__ = ("_done", "_fn", "_value")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._fn: Callable[[], Any] | None = fn
        self._value: Any = None
        self._done = False

    def get(self) -> Any:
        if not self._done:
            fn = self._fn
            if fn is not None:
                self._value = fn()
            self._done, self._fn = True, None
        return self._value


@dataclass(frozen=True)
class PriorCall:
    """An earlier tool call of the same run: which tool, with what arguments, how it ended,
    and what it returned (``None`` for a call that failed or was denied; a :class:`Deferred`
    is read when a rule reads it)."""

    tool: str
    args: Mapping[str, Any] = field(default_factory=dict)
    outcome: str = "ok"
    result: Any = None

    @property
    def result_value(self) -> Any:
        r = self.result
        return r.get() if isinstance(r, Deferred) else r

    def to_value(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "args": dict(self.args),
            "outcome": self.outcome,
            "result": self.result_value,
        }


@dataclass(frozen=True)
class ToolCallContext:
    """One tool call about to run, and the state of the run it belongs to.

    ``counts`` are calls per tool *before* this one; ``calls`` are those earlier calls in
    order; ``step`` is the index of this call in the run (0 for the first).
    """

    tool: str
    args: Mapping[str, Any] = field(default_factory=dict)
    tool_version: str | None = None
    agent_name: str = ""
    agent_version: int | None = None
    agent_digest: str = ""
    env: str = ""
    counts: Mapping[str, int] = field(default_factory=dict)
    calls: tuple[PriorCall, ...] = ()
    elapsed_s: float = 0.0
    step: int = 0
    now: datetime | None = None
    cost_usd: float = 0.0
    tokens: int = 0

    # -- the CEL view -------------------------------------------------------------------------

    def variables(
        self,
        zero_counts: Mapping[str, int] | None = None,
        roots: Collection[str] = ROOT_VARIABLES,
    ) -> dict[str, Any]:
        """The CEL variables for this call, as plain Python values.

        ``zero_counts`` (tool name -> 0) is merged under ``counts`` so that a policy can read
        ``run.counts["send_email"]`` before the first e-mail; the compiled policy passes the
        tool names it mentions. ``roots`` limits the work to the variables a policy reads.
        """
        out: dict[str, Any] = {}
        if "tool" in roots:
            out["tool"] = {"name": self.tool, "version": self.tool_version}
        if "args" in roots:
            out["args"] = dict(self.args)
        if "agent" in roots:
            out["agent"] = {
                "name": self.agent_name,
                "version": self.agent_version,
                "digest": self.agent_digest,
            }
        if "env" in roots:
            out["env"] = self.env
        if "run" in roots:
            out["run"] = {
                "counts": {**zero_counts, **self.counts} if zero_counts else dict(self.counts),
                "calls": [c.to_value() for c in self.calls],
                "elapsed_s": float(self.elapsed_s),
                "step": self.step,
                "cost_usd": float(self.cost_usd),
                "tokens": int(self.tokens),
            }
        if "now" in roots and self.now is not None:
            out["now"] = self.now
        return out

    # -- parsing ------------------------------------------------------------------------------

    @classmethod
    def from_dict(
        cls, data: Any, source: str = "<call>", field_prefix: str = ""
    ) -> ToolCallContext:
        """Build a context from a test case's ``call`` or ``--call JSON``.

        Accepted shape (only ``tool`` is required)::

            tool: issue_refund            # or {name: issue_refund, version: "1.2.0"}
            args: {order_id: A1, amount: 120}
            agent: {name: support-bot, version: 3, digest: "sha256:..."}
            env: production
            run:
              calls: [{tool: verify_identity, args: {...}, outcome: ok, result: {...}}]
              counts: {verify_identity: 1}   # derived from calls when omitted
              elapsed_s: 4.2
              step: 1                        # defaults to len(calls)
              cost_usd: 1.25                 # the run's LLM spend so far, USD (default 0)
              tokens: 12000                  # its tokens so far (default 0)
            now: "2025-01-31T12:00:00Z"

        Errors are :class:`SpecError` naming ``source`` and the field.
        """
        p = field_prefix

        def bad(where: str, reason: str) -> SpecError:
            return SpecError(source, f"{p}{where}" if p or where else None, reason)

        if not isinstance(data, Mapping):
            raise bad("", f"a call must be a mapping, got {type(data).__name__}")
        _known_keys(data, "", ROOT_VARIABLES, bad)
        tool, tool_version = _parse_tool(data.get("tool"), bad)
        args = _mapping(data.get("args"), "args", bad)
        agent = _mapping(data.get("agent"), "agent", bad)
        _known_keys(agent, "agent.", ("name", "version", "digest"), bad)
        agent_version = _parse_int(agent.get("version"), None, "agent.version", bad)
        env = _parse_env(data.get("env"), bad)
        run = _mapping(data.get("run"), "run", bad)
        _known_keys(
            run, "run.", ("calls", "counts", "elapsed_s", "step", "cost_usd", "tokens"), bad
        )
        calls = _parse_calls(run.get("calls") or [], bad)
        counts = _parse_counts(run.get("counts"), calls, bad)
        elapsed_s = _parse_seconds(run.get("elapsed_s", 0.0), bad)
        step = _parse_int(run.get("step", len(calls)), len(calls), "run.step", bad)
        cost_usd = _parse_number(run.get("cost_usd", 0.0), "run.cost_usd", bad)
        tokens = _parse_int(run.get("tokens", 0), 0, "run.tokens", bad)
        return cls(
            tool=tool,
            args=dict(args),
            tool_version=tool_version,
            agent_name=str(agent.get("name") or ""),
            agent_version=agent_version,
            agent_digest=str(agent.get("digest") or ""),
            env=env,
            counts=counts,
            calls=calls,
            elapsed_s=elapsed_s,
            step=step or 0,
            now=_parse_now(data.get("now"), bad),
            cost_usd=cost_usd,
            tokens=tokens or 0,
        )


# -- field parsers: each takes the raw value and ``bad(where, reason) -> SpecError`` ----------

_Bad = Callable[[str, str], SpecError]


def _parse_tool(raw: Any, bad: _Bad) -> tuple[str, str | None]:
    if isinstance(raw, str):
        return raw, None
    if isinstance(raw, Mapping) and isinstance(raw.get("name"), str):
        return raw["name"], _opt_str(raw.get("version"))
    raise bad("tool", "expected a tool name or a mapping with 'name'")


def _known_keys(data: Mapping[str, Any], prefix: str, known: Sequence[str], bad: _Bad) -> None:
    """Refuse a key the call format does not have, naming the nearest valid spelling."""
    extra = sorted(str(k) for k in set(data) - set(known))
    if extra:
        raise bad(f"{prefix}{extra[0]}", unknown_word("key", extra[0], known))


def _mapping(raw: Any, where: str, bad: _Bad) -> Mapping[str, Any]:
    """An optional mapping field (absent, null or empty: ``{}``)."""
    value = raw or {}
    if not isinstance(value, Mapping):
        raise bad(where, f"expected a mapping, got {type(value).__name__}")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_int(raw: Any, default: int | None, where: str, bad: _Bad) -> int | None:
    """An integer field; with ``default`` None, absent (None) is allowed."""
    if raw is None and default is None:
        return None
    if not _is_int(raw):
        raise bad(where, "expected an integer")
    return int(raw)


def _parse_env(raw: Any, bad: _Bad) -> str:
    env = raw or ""
    if not isinstance(env, str):
        raise bad("env", "expected the environment's name")
    return env


def _parse_counts(raw: Any, calls: tuple[PriorCall, ...], bad: _Bad) -> dict[str, int]:
    if raw is None:  # derived from the calls
        counts: dict[str, int] = {}
        for c in calls:
            counts[c.tool] = counts.get(c.tool, 0) + 1
        return counts
    if isinstance(raw, Mapping) and all(_is_int(v) for v in raw.values()):
        return {str(k): int(v) for k, v in raw.items()}
    raise bad("run.counts", "expected a mapping of tool name to integer")


def _parse_seconds(raw: Any, bad: _Bad) -> float:
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        raise bad("run.elapsed_s", "expected a number of seconds")
    return float(raw)


def _parse_number(raw: Any, where: str, bad: _Bad) -> float:
    if not isinstance(raw, int | float) or isinstance(raw, bool) or raw < 0:
        raise bad(where, "expected a number >= 0")
    return float(raw)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _parse_calls(raw: Any, bad: _Bad) -> tuple[PriorCall, ...]:
    if not isinstance(raw, list):
        raise bad("run.calls", "expected a list of earlier calls")
    out: list[PriorCall] = []
    for i, c in enumerate(raw):
        if isinstance(c, str):
            out.append(PriorCall(tool=c))
            continue
        if not isinstance(c, Mapping) or not isinstance(c.get("tool"), str):
            raise bad(f"run.calls[{i}]", "expected a tool name or a mapping with 'tool'")
        args = c.get("args") or {}
        if not isinstance(args, Mapping):
            raise bad(f"run.calls[{i}].args", "expected a mapping")
        outcome = c.get("outcome", "ok")
        if not isinstance(outcome, str):
            raise bad(f"run.calls[{i}].outcome", f"expected a string such as {', '.join(OUTCOMES)}")
        out.append(
            PriorCall(tool=c["tool"], args=dict(args), outcome=outcome, result=c.get("result"))
        )
    return tuple(out)


def _parse_now(raw: Any, bad: _Bad) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise bad("now", f"not an ISO 8601 timestamp: {raw!r}") from None
    else:
        raise bad("now", "expected an ISO 8601 timestamp")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
