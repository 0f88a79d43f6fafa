"""``agentdeck.init``: the tracing SDK's init, with the pinned-policy guard composed in.

This module sits above every layer (like the CLI), so it can hand the tracing SDK the policy
enforcement that the policy package provides, without tracing importing policy.
"""

from __future__ import annotations

from typing import Any

from agentdeck.policy.enforcer import default_guard
from agentdeck.tracing import sdk


def init(**kwargs: Any) -> None:
    """Configure the SDK; see :func:`agentdeck.tracing.sdk.init` for the options.

    Unless ``guard=`` is given, tool calls are checked against the policy pinned by the
    running agent's spec (``enforce_policies=False`` turns that off); ``approver=`` decides
    calls that need approval: an ``Approver``, a callback, ``"deny"`` (the default: denied
    with "approval required") or ``"store"``, an approval through the platform (the server's
    API when sending to one, else the store's queue) that ``agentdeck policy approve`` or the
    API grants, waiting up to ``approval_timeout_s`` (default 300); without ``approver=``,
    ``AGENTDECK_APPROVALS`` and ``AGENTDECK_APPROVAL_TIMEOUT_S`` may say the same. See
    :func:`agentdeck.policy.enforcer.approver_for`.
    """
    enforce = kwargs.pop("enforce_policies", True)
    approver = kwargs.pop("approver", None)
    approval_timeout_s = kwargs.pop("approval_timeout_s", None)
    if enforce and "guard" not in kwargs:
        kwargs["guard"] = default_guard(
            kwargs, approver=approver, approval_timeout_s=approval_timeout_s
        )
    sdk.init(**kwargs)
