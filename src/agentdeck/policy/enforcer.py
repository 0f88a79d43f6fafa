"""Policy enforcement at the tool-call layer: the SDK's :class:`~agentdeck.tracing.sdk.guard.ToolGuard`.

Before every ``@tool`` call of a run, :class:`PolicyGuard`:

1. takes the policy pinned by the calling agent's spec (``policy: name@N``; never another
   version, never an unpinned one: an agent without a pin is not checked);
2. fetches that version once through a :class:`PolicySource` (the embedded registry, or the
   server's API) and compiles it once per digest (:class:`PolicyCache`);
3. decides the call with a :class:`RunEvaluator` kept per run, so the run's history is
   converted call by call rather than whole at every decision;
4. records the decision as a ``policy`` span, child of and linked to the tool span, naming
   the matched rules (outputs ``effect``, ``rules``, ``message``, ``explanation``);
5. acts: ``allow`` and ``warn`` let the tool run (a warning is logged and recorded);
   ``require_approval`` asks the :class:`~agentdeck.policy.approvals.Approver` and runs the
   tool only on a grant; ``deny`` raises :class:`PolicyDenied` into the agent's code.

Everything that goes wrong on the way (policy unavailable, context CEL cannot take, a rule
that errors) denies: the guard fails closed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from agentdeck.core.errors import InputError, PolicyDenied
from agentdeck.core.policy.context import PriorCall
from agentdeck.core.policy.evaluate import CompiledPolicy, Decision, PolicyCache, RunEvaluator
from agentdeck.core.policy.spec import Effect
from agentdeck.core.spec.refs import parse_ref
from agentdeck.core.trace.model import SpanKind, SpanStatus
from agentdeck.policy.approvals import (
    ApprovalOutcome,
    ApprovalRequest,
    Approver,
    CallbackApprover,
    DenyApprover,
    StoreApprover,
)
from agentdeck.policy.sources import (
    HttpPolicySource,
    LazyStoreSource,
    PolicySource,
    RegistryPolicySource,
)
from agentdeck.registry.spec_cache import DiskCache
from agentdeck.tracing.sdk.guard import ToolCallInfo
from agentdeck.tracing.sdk.recorder import emit_linked_span
from agentdeck.tracing.sdk.wire import to_json_data

if TYPE_CHECKING:
    from agentdeck.settings.env import ClientEnv

__all__ = [
    "HttpPolicySource",
    "PolicyGuard",
    "PolicySource",
    "RegistryPolicySource",
    "approver_for",
    "default_guard",
]

log = logging.getLogger("agentdeck.policy")


class _RunState:
    """Per (run, agent, policy): the evaluator and the run's history as policy values."""

    __slots__ = ("calls", "evaluator")

    def __init__(self, evaluator: RunEvaluator) -> None:
        self.evaluator = evaluator
        self.calls: list[PriorCall] = []


class PolicyGuard:
    """Enforces each calling agent's pinned policy; see the module docstring."""

    def __init__(
        self,
        source: PolicySource,
        approver: Approver | None = None,
        *,
        cache: PolicyCache | None = None,
        max_runs: int = 1024,
        on_unresolved: str = "deny",
    ) -> None:
        if on_unresolved not in ON_UNRESOLVED_CHOICES:
            raise InputError(
                f"agentdeck.init: on_unresolved must be 'deny' or 'allow', not {on_unresolved!r}"
            )
        self.on_unresolved = on_unresolved
        self.source = source
        self.approver: Approver = approver if approver is not None else DenyApprover()
        self.cache = cache if cache is not None else PolicyCache()
        self._by_ref: dict[str, CompiledPolicy] = {}
        self._versions: dict[str, int | None] = {}
        self._cached_at: dict[str, datetime] = {}  # refs whose policy came from the disk cache
        self._runs: OrderedDict[tuple[str, str, str], _RunState] = OrderedDict()
        self._max_runs = max_runs
        self._lock = threading.Lock()

    # -- the ToolGuard seam ---------------------------------------------------------------

    def check(self, call: ToolCallInfo) -> None:
        agent = call.agent
        if agent is None and call.agent_error is not None:
            self._unresolved(call)  # the run names an agent nobody could resolve
            return
        ref = agent.spec.policy if agent is not None else None
        if agent is None or ref is None:
            return  # no pinned policy: nothing to enforce
        t0 = time.time_ns()
        try:
            compiled = self._compiled(ref)
        except Exception as exc:
            reason = f"policy {ref} unavailable (fail-closed): {type(exc).__name__}: {exc}"
            self._span(call, t0, ref, None, {"effect": "deny", "rules": [], "message": reason,
                                             "explanation": reason})  # fmt: skip
            raise PolicyDenied(call.tool, [], reason) from None
        decision = self._decide(call, compiled)
        version = self._versions.get(ref)
        out: dict[str, Any] = {
            "effect": decision.effect.value,
            "rules": [m.rule_id for m in decision.matched] + [e.rule_id for e in decision.errors],
            "message": decision.message,
            "explanation": decision.explanation,
        }
        if decision.effect is Effect.REQUIRE_APPROVAL and call.record_only:
            out["approval"] = {"granted": False, "reason": "record-only import: not asked"}
            self._span(call, t0, ref, decision, out, allowed=False)
            raise PolicyDenied(call.tool, list(decision.decisive_rules), decision.message)
        if decision.effect is Effect.REQUIRE_APPROVAL:
            outcome = self._ask(call, decision, version)
            out["approval"] = outcome.to_dict()
            self._span(call, t0, ref, decision, out, allowed=outcome.granted)
            if not outcome.granted:
                raise PolicyDenied(call.tool, list(decision.decisive_rules),
                                   f"{decision.message} ({outcome.reason})")  # fmt: skip
            return
        self._span(call, t0, ref, decision, out, allowed=decision.allowed)
        if decision.effect is Effect.DENY:
            raise PolicyDenied(call.tool, list(decision.decisive_rules), decision.message)
        if decision.effect is Effect.WARN:
            log.warning("agentdeck policy warning: tool %r: %s", call.tool, decision.message)

    # -- parts ----------------------------------------------------------------------------

    def _unresolved(self, call: ToolCallInfo) -> None:
        """A run whose agent could not be resolved: its pinned policy cannot be known, so the
        call is denied, unless ``on_unresolved="allow"`` (recorded on the decision's span, and
        by the SDK on every span of the run)."""
        t0 = time.time_ns()
        allow = self.on_unresolved == "allow"
        if allow:
            message = (f"agent not resolved ({call.agent_error}); allowed without a policy "
                       "(on_unresolved='allow')")  # fmt: skip
        else:
            message = (f"agent not resolved ({call.agent_error}): its pinned policy cannot be "
                       "known, so the call is denied (fail-closed; "
                       "agentdeck.init(on_unresolved='allow') opts out)")  # fmt: skip
        effect = "allow" if allow else "deny"
        out: dict[str, Any] = {"effect": effect, "rules": [], "message": message,
                               "explanation": message}  # fmt: skip
        emit_linked_span(
            call, name="policy (agent unresolved)", start_ns=t0, end_ns=time.time_ns(),
            kind=SpanKind.POLICY, inputs={"tool": call.tool, "step": call.step}, outputs=out,
            attributes={"policy.effect": out["effect"], "policy.rules": [],
                        "policy.allowed": allow, "policy.unresolved": True,
                        "agentdeck.policy.on_unresolved": self.on_unresolved,
                        "agentdeck.resolve.error": call.agent_error},
            status=SpanStatus.OK if allow else SpanStatus.ERROR,
            error=None if allow else message,
        )  # fmt: skip
        if not allow:
            raise PolicyDenied(call.tool, [], message)

    def _compiled(self, ref: str) -> CompiledPolicy:
        hit = self._by_ref.get(ref)
        if hit is not None:
            return hit
        detailed = getattr(self.source, "get_policy_detailed", None)
        if detailed is not None:
            policy, cached_at = detailed(ref)
            if cached_at is not None:
                self._cached_at[ref] = cached_at
        else:
            policy = self.source.get_policy(ref)
        compiled = self.cache.get(policy, ref)
        self._by_ref[ref] = compiled  # name@N never changes meaning
        self._versions[ref] = parse_ref(ref).version
        return compiled

    def _decide(self, call: ToolCallInfo, compiled: CompiledPolicy) -> Decision:
        agent = call.agent
        assert agent is not None
        if not compiled.has_rules_for(call.tool):
            return compiled.default_decision(
                call.tool
            )  # the run's history is caught up when needed
        key = (call.trace_id, agent.digest, compiled.digest)
        with self._lock:
            st = self._runs.get(key)
            if st is None:
                st = self._runs[key] = _RunState(
                    RunEvaluator(
                        compiled, agent.name, agent.version or None, agent.digest, call.env or ""
                    )
                )
                while len(self._runs) > self._max_runs:
                    self._runs.popitem(last=False)
            else:
                self._runs.move_to_end(key)
            history = call.run.calls
            for rec in history[len(st.calls) :]:  # only the calls new since the last decision
                st.calls.append(
                    PriorCall(rec.name, _json_args(rec.args), rec.outcome.value, rec.result)
                )
            calls = st.calls  # append-only: the evaluator reads only what is new
        return st.evaluator.decide(
            call.tool, _json_args(call.args), calls, dict(call.run.counts),
            tool_version=call.tool_version, step=call.step, elapsed_s=call.elapsed_s,
            now=datetime.now(UTC) if compiled.reads_now(call.tool) else None,
            cost_usd=call.run.spend.cost_usd, tokens=call.run.spend.tokens,
        )  # fmt: skip

    def _ask(self, call: ToolCallInfo, decision: Decision, version: int | None) -> ApprovalOutcome:
        agent = call.agent
        request = ApprovalRequest(
            tool=call.tool, args=dict(call.args), policy_name=decision.policy_name,
            policy_version=version, policy_digest=decision.policy_digest,
            rules=decision.decisive_rules, message=decision.message,
            explanation=decision.explanation,
            agent_name=agent.name if agent else None,
            agent_version=agent.version if agent and agent.version else None,
            agent_digest=agent.digest if agent else None, env=call.env,
            trace_id=call.trace_id, span_id=call.span_id,
        )  # fmt: skip
        try:
            return self.approver.approve(request)
        except Exception as exc:  # an approver that raises denies
            return ApprovalOutcome(False, type(self.approver).__name__,
                                   f"approver failed: {type(exc).__name__}: {exc}")  # fmt: skip

    def _span(self, call: ToolCallInfo, t0: int, ref: str, decision: Decision | None,
              outputs: Mapping[str, Any], allowed: bool = False) -> None:  # fmt: skip
        name, _, version = ref.partition("@")
        attrs: dict[str, Any] = {
            "policy.name": name,
            "policy.version": int(version) if version.isdigit() else version,
            "policy.effect": outputs["effect"],
            "policy.rules": list(outputs["rules"]),
            "policy.allowed": allowed,
        }
        if decision is not None:
            attrs["policy.digest"] = decision.policy_digest
        cached_at = self._cached_at.get(ref)
        if cached_at is not None:
            attrs["policy.source"] = "cache"
            attrs["policy.cached_at"] = cached_at.isoformat()
        emit_linked_span(
            call, name=f"policy {name}", start_ns=t0, end_ns=time.time_ns(), kind=SpanKind.POLICY,
            inputs={"tool": call.tool, "step": call.step}, outputs=dict(outputs),
            attributes=attrs, status=SpanStatus.OK if allowed else SpanStatus.ERROR,
            error=None if allowed else outputs["message"],
        )  # fmt: skip


def _json_args(args: Mapping[str, Any]) -> Mapping[str, Any]:
    """Arguments as the JSON values policies see (tuples as lists, datetimes and decimals as
    the trace records them...), so an argument of a Python type CEL has no value for does
    not fail the decision closed."""
    data = to_json_data(args)
    return data if isinstance(data, Mapping) else {}


#: What ``agentdeck.init(on_unresolved=...)`` may name; "deny" is the default.
ON_UNRESOLVED_CHOICES = ("deny", "allow")

#: What ``agentdeck.init(approver=...)`` (or ``AGENTDECK_APPROVALS``) may name.
APPROVER_CHOICES = ("deny", "store")

ApproverOption = Approver | str | Callable[[ApprovalRequest], "bool | ApprovalOutcome"] | None


def default_guard(
    init_kwargs: Mapping[str, Any],
    *,
    approver: ApproverOption = None,
    approval_timeout_s: float | None = None,
    on_unresolved: str = "deny",
    disk: DiskCache | None = None,
    fetch_timeout_s: float | None = 2.0,
) -> PolicyGuard:
    """The guard ``agentdeck.init`` installs, reading the same options as the tracing init.

    The policy comes from: the ``sink`` if it is a store; else the resolver's registry; else
    the server at ``endpoint`` (or ``AGENTDECK_ENDPOINT``) with ``api_key``; else the embedded
    store, opened on first use. The last two keep pinned policies in the on-disk cache
    ``disk`` (see :mod:`agentdeck.policy.cached_source`), waiting at most ``fetch_timeout_s``
    for a policy not cached yet. ``approver`` is an :class:`Approver`, a callback, ``"deny"``
    or ``"store"`` (else ``AGENTDECK_APPROVALS``; else deny): see :func:`approver_for`.
    ``on_unresolved`` is what happens to calls of a run whose agent cannot be resolved.
    """
    sink = init_kwargs.get("sink")
    source: PolicySource
    if sink is not None and hasattr(sink, "get_policy_version"):
        from agentdeck.registry.service import Registry

        source = RegistryPolicySource(Registry(sink))
    elif hasattr(init_kwargs.get("resolver"), "get_policy"):
        source = RegistryPolicySource(init_kwargs["resolver"])
    elif hasattr(getattr(init_kwargs.get("resolver"), "registry", None), "get_policy"):
        source = RegistryPolicySource(init_kwargs["resolver"].registry)
    elif sink is None and (endpoint := init_kwargs.get("endpoint") or _client().endpoint):
        source = HttpPolicySource(endpoint, _api_key(init_kwargs))
    else:
        source = LazyStoreSource()
    chosen = approver_for(approver, approval_timeout_s, init_kwargs, source)
    if disk is not None and isinstance(source, HttpPolicySource | LazyStoreSource):
        from agentdeck.policy.cached_source import CachedPolicySource

        source = CachedPolicySource(source, disk, timeout=fetch_timeout_s)
    return PolicyGuard(source, chosen, on_unresolved=on_unresolved)


def approver_for(
    option: ApproverOption,
    timeout_s: float | None,
    init_kwargs: Mapping[str, Any],
    source: PolicySource,
) -> Approver:
    """The approver ``agentdeck.init`` asked for: an :class:`Approver` as is; a callable as a
    :class:`CallbackApprover`; ``"deny"`` (the default) as :class:`DenyApprover`; ``"store"``
    as an approval through the platform, waiting up to ``timeout_s`` (else
    ``AGENTDECK_APPROVAL_TIMEOUT_S``, else 300 s): the server's API
    (:class:`~agentdeck.policy.approvals_http.HttpApprover`) when policies come from the
    server, else the store's queue (:class:`StoreApprover`). Without an option,
    ``AGENTDECK_APPROVALS`` names one; so approvals through the platform are only ever on
    when asked for."""
    if option is None:
        from agentdeck.settings.env import PolicyEnv, read

        option = read(PolicyEnv).approvals or "deny"
        where = "AGENTDECK_APPROVALS"
    else:
        where = "agentdeck.init: approver"
    if isinstance(option, Approver):
        return option
    if callable(option):
        return CallbackApprover(option)
    if option == "deny":
        return DenyApprover()
    if option != "store":
        raise InputError(
            f"{where} must be an Approver, a callable or one of {', '.join(APPROVER_CHOICES)}; "
            f"got {option!r}"
        )
    timeout = _approval_timeout(timeout_s)
    if isinstance(source, HttpPolicySource):
        from agentdeck.policy.approvals_http import HttpApprover

        return HttpApprover(source.endpoint, _api_key(init_kwargs), timeout=timeout)
    store = _approval_store(init_kwargs)
    return StoreApprover(store, timeout=timeout) if store is not None else (
        _LazyStoreApprover(timeout)
    )  # fmt: skip


def _client() -> ClientEnv:
    from agentdeck.settings.env import ClientEnv, read

    return read(ClientEnv)


def _api_key(init_kwargs: Mapping[str, Any]) -> str | None:
    key = _client().api_key
    return init_kwargs.get("api_key") or (key.get_secret_value() if key is not None else None)


def _approval_timeout(timeout_s: float | None) -> float:
    if timeout_s is None:
        from agentdeck.settings.env import PolicyEnv, read

        return read(PolicyEnv).approval_timeout_s  # checked positive, named on error
    raw: Any = timeout_s
    where = "agentdeck.init: approval_timeout_s"
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InputError(f"{where}: expected seconds, got {raw!r}") from None
    if not value > 0:
        raise InputError(f"{where}: must be positive, got {raw!r}")
    return value


def _approval_store(init_kwargs: Mapping[str, Any]) -> Any:
    """The store the policy comes from, to queue approvals in: the ``sink`` if it is a store,
    else the one behind the resolver's registry; ``None`` means the embedded default."""
    resolver = init_kwargs.get("resolver")
    registry = resolver if hasattr(resolver, "store") else getattr(resolver, "registry", None)
    for candidate in (init_kwargs.get("sink"), getattr(registry, "store", None)):
        if candidate is not None and hasattr(candidate, "put_approval"):
            return candidate
    return None


class _LazyStoreApprover:
    """:class:`StoreApprover` on the embedded store, opened on the first approval (so that an
    agent whose calls never need one never opens it)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._inner: StoreApprover | None = None
        self._lock = threading.Lock()

    def approve(self, request: ApprovalRequest) -> ApprovalOutcome:
        try:
            with self._lock:
                if self._inner is None:
                    from agentdeck.store import open_store

                    self._inner = StoreApprover(open_store(), timeout=self.timeout)
        except Exception as exc:
            return ApprovalOutcome(
                False, "store", f"approval store unavailable: {type(exc).__name__}: {exc}"
            )
        return self._inner.approve(request)
