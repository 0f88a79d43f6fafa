"""What a key bound to agent name patterns may act on, for the routes that act on an agent.

A bound key (``agentdeck keys create --agents 'support-*'``) may register and deploy (promote,
roll back, mark) only agents whose name matches; it may register a policy, or store a policy's
test results, only when every agent whose latest version pins that policy matches (a new policy
no agent pins yet is allowed: pinning it needs an agent registration, checked in turn); it may
decide only approval requests of matching agents. Reading is the ``read`` scope's business and
is not narrowed. Unbound keys act on every agent.
"""

from __future__ import annotations

from agentdeck.core.spec.refs import parse_ref
from agentdeck.registry.keys import Principal
from agentdeck.server.auth import AuthError, require_agent
from agentdeck.store.protocol import PolicyStore, RegistryStore

__all__ = ["require_agent", "require_agent_ref", "require_approval", "require_policy"]


def require_agent_ref(principal: Principal, ref: str) -> None:
    """Refuse a bound key acting on the agent an (unresolved) reference names."""
    if principal.agents:
        require_agent(principal, parse_ref(ref).name)


def require_policy(principal: Principal, store: RegistryStore, policy_name: str) -> None:
    """Refuse a bound key changing a policy that an agent outside its patterns pins."""
    if not principal.agents:
        return
    for name in store.list_agent_names():
        if principal.may_act_on(name):
            continue
        versions = store.list_agent_versions(name)
        if versions and versions[-1].spec.policy_name == policy_name:
            raise AuthError(
                403,
                f"API key {principal.name!r} may act only on agents matching "
                f"{', '.join(principal.agents)}; policy {policy_name!r} is pinned by {name!r}",
            )


def require_approval(principal: Principal, store: PolicyStore, approval_id: str) -> None:
    """Refuse a bound key deciding an approval request of an agent outside its patterns."""
    if not principal.agents:
        return
    rec = store.get_approval(approval_id)
    if rec is None:
        return  # the decision itself answers 404
    require_agent(principal, rec.agent_name or "")
