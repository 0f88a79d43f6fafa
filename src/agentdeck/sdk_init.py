"""``agentdeck.init``: the tracing SDK's init, with the pinned-policy guard composed in.

This module sits above every layer (like the CLI), so it can hand the tracing SDK the policy
enforcement that the policy package provides, without tracing importing policy.

``init`` never raises a telemetry or store error into the agent's code: a wrong option name
(``TypeError``) or value (:class:`~agentdeck.core.errors.InputError`) is the programmer's and
raises; anything else (an unreachable or misconfigured store, an unwritable directory...) is
reported once in the log and by ``agentdeck.stats().init_error``, and the SDK runs on a
fallback: spans go to the spill (or are counted as lost), and every run naming an agent is
unresolvable, so its guarded tool calls are denied (unless ``on_unresolved="allow"``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from agentdeck.core.errors import InputError, StoreError
from agentdeck.core.policy.spec import PolicySet
from agentdeck.core.spec.agent import ResolvedAgent
from agentdeck.core.trace.model import Run, Span
from agentdeck.policy.approvals import DenyApprover
from agentdeck.policy.enforcer import PolicyGuard, default_guard
from agentdeck.registry.spec_cache import default_cache
from agentdeck.sdk_otlp import otlp_destination
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk import recorder as rec

log = logging.getLogger("agentdeck")

DEFAULT_RESOLVE_TIMEOUT_S = 2.0


def init(**kwargs: Any) -> None:
    """Configure the SDK; see :func:`agentdeck.tracing.sdk.api.init` for the options.

    ``otlp_endpoint`` (an OTLP/HTTP collector's URL; else ``OTEL_EXPORTER_OTLP_ENDPOINT`` and
    friends) and ``otlp_headers`` send the spans to that collector too, with GenAI names and
    resource attributes; ``otlp_only=True`` sends them there alone (see
    :mod:`agentdeck.sdk_otlp`).

    Unless ``guard=`` is given, tool calls are checked against the policy pinned by the
    running agent's spec (``enforce_policies=False`` turns that off); a run whose agent cannot
    be resolved has its tool calls denied unless ``on_unresolved="allow"``. Resolution waits at
    most ``resolve_timeout_s`` (default 2) for the server or store and keeps the last resolved
    specs and pinned policies on disk under ``cache_dir`` (see docs/policies.md).
    ``approver=`` decides calls that need approval: an ``Approver``, a callback, ``"deny"``
    (the default: denied with "approval required") or ``"store"``, an approval through the
    platform (the server's API when sending to one, else the store's queue) that
    ``agentdeck policy approve`` or the API grants, waiting up to ``approval_timeout_s``
    (default 300); without ``approver=``, ``AGENTDECK_APPROVALS`` and
    ``AGENTDECK_APPROVAL_TIMEOUT_S`` may say the same. See
    :func:`agentdeck.policy.enforcer.approver_for`.
    """
    enforce = kwargs.pop("enforce_policies", True)
    approver = kwargs.pop("approver", None)
    approval_timeout_s = kwargs.pop("approval_timeout_s", None)
    otlp = {k: kwargs.pop(k) for k in ("otlp_endpoint", "otlp_headers", "otlp_only") if k in kwargs}
    # The programmer's mistakes raise: unknown option names, wrong option values.
    inspect.signature(sdk.init).bind(**kwargs)
    _add_otlp(kwargs, **otlp)
    on_unresolved = kwargs.get("on_unresolved", "deny")
    timeout = kwargs.setdefault("resolve_timeout_s", DEFAULT_RESOLVE_TIMEOUT_S)
    sdk.check_resolution_options(on_unresolved, timeout)
    guard: PolicyGuard | None = None
    try:
        if enforce and "guard" not in kwargs:
            disk = default_cache(kwargs.get("cache_dir"), _policy_source_key(kwargs))
            guard = default_guard(
                kwargs, approver=approver, approval_timeout_s=approval_timeout_s,
                on_unresolved=on_unresolved, disk=disk, fetch_timeout_s=timeout,
            )  # fmt: skip
            kwargs["guard"] = guard
        sdk.init(**kwargs)
    except InputError as exc:
        if str(exc).startswith("agentdeck.init"):
            raise  # a wrong option value
        _fall_back(exc, kwargs, guard, enforce)
    except Exception as exc:
        _fall_back(exc, kwargs, guard, enforce)


def _add_otlp(
    kwargs: dict[str, Any],
    otlp_endpoint: str | None = None,
    otlp_headers: Mapping[str, str] | None = None,
    otlp_only: bool = False,
) -> None:
    """Add the OTLP collector (:mod:`agentdeck.sdk_otlp`) to the destinations: beside the
    agentdeck one, or as the only one with ``otlp_only`` (an error without a collector)."""
    destination = otlp_destination(otlp_endpoint, otlp_headers, kwargs.get("env"))
    if otlp_only:
        if destination is None:
            raise InputError(
                "agentdeck.init: otlp_only needs otlp_endpoint or OTEL_EXPORTER_OTLP_ENDPOINT"
            )
        if kwargs.get("sink") is not None:
            raise InputError("agentdeck.init: otlp_only and sink are exclusive")
        kwargs["sink"] = destination
    elif destination is not None:
        kwargs["also"] = (*kwargs.get("also", ()), destination)


def _policy_source_key(kwargs: dict[str, Any]) -> str:
    from agentdeck.settings.env import ClientEnv, read

    endpoint = kwargs.get("endpoint") or read(ClientEnv).endpoint
    if kwargs.get("sink") is None and endpoint:
        return str(endpoint)
    return sdk.embedded_source()


def _fall_back(
    exc: BaseException, kwargs: dict[str, Any], guard: PolicyGuard | None, enforce: bool
) -> None:
    """Install the SDK in its failed-init mode and report why, once."""
    from agentdeck.core.extras import missing_extra

    missing = missing_extra(exc)
    reason = f"agentdeck.init failed: {missing or f'{type(exc).__name__}: {exc}'}"
    if enforce and kwargs.get("guard") is None:
        guard = PolicyGuard(_Unavailable(reason), DenyApprover(),
                            on_unresolved=kwargs.get("on_unresolved", "deny"))  # fmt: skip
    fallback = {k: kwargs[k] for k in ("env", "spill_dir", "queue_size", "batch_size",
                                       "schedule_delay", "invalid_args", "on_unresolved",
                                       "resolve_timeout_s", "also") if k in kwargs}  # fmt: skip
    guard_arg = kwargs.get("guard") or guard
    try:
        sdk.init(sink=_Unavailable(reason), resolver=_Unavailable(reason), guard=guard_arg,
                 **fallback)  # fmt: skip
    except Exception as again:
        reason += f" (and the fallback too: {type(again).__name__}: {again})"
    rec.init_error = reason
    log.error(
        "%s; runs naming an agent are unresolvable (guarded tool calls %s); spans are spilled",
        reason, "allowed" if kwargs.get("on_unresolved") == "allow" else "denied",
    )  # fmt: skip


class _Unavailable:
    """What a failed init leaves in place of the sink, the resolver and the policy source:
    every use fails with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        raise StoreError(self.reason)

    def resolve(self, ref: str) -> ResolvedAgent:
        raise StoreError(f"{ref}: {self.reason}")

    def get_policy(self, ref: str) -> PolicySet:
        raise StoreError(f"{ref}: {self.reason}")
