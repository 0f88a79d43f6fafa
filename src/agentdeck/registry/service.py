"""The registry: register agent and policy versions, and the one resolver of references."""

from __future__ import annotations

from typing import Protocol

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.errors import SpecError, UnresolvedReferenceError
from agentdeck.core.policy.spec import PolicySet
from agentdeck.core.spec.agent import AgentSpec, CanarySplit, ResolvedAgent
from agentdeck.core.spec.artifacts import AgentVersion, AuditEvent, PolicyVersion
from agentdeck.core.spec.diff import AgentDiff, diff_specs
from agentdeck.core.spec.refs import Ref, parse_ref
from agentdeck.store.protocol import DeploymentStore, RegistryStore


class RegistryServiceStore(RegistryStore, DeploymentStore, Protocol):
    """What :class:`Registry` reads and writes: versions, and env heads for ``name@ENV``."""


DEFAULT_ACTOR = "cli"


class Registry:
    """Registers versions and resolves references; every caller (SDK, CLI, API, UI) uses it."""

    def __init__(self, store: RegistryServiceStore) -> None:
        self.store = store

    # -- agents ------------------------------------------------------------------------------

    def register_agent(
        self,
        spec: AgentSpec,
        actor: str = DEFAULT_ACTOR,
        source: str = "spec",
        project: str = DEFAULT_PROJECT,
    ) -> tuple[AgentVersion, bool]:
        """Register ``spec`` in ``project``; identical content returns the existing version and
        ``False``.

        A spec that pins a policy version that is not registered (in ``project``) is refused
        (nothing written); so is a name another project owns (:class:`OwnedElsewhere`).
        """
        if spec.policy is not None:
            name, version = spec.policy_name, spec.policy_version
            assert name is not None and version is not None
            owner = self.store.policy_project(name)
            if owner != project or self.store.get_policy_version(name, version) is None:
                known = [
                    p.version
                    for p in (self.store.list_policy_versions(name) if owner == project else [])
                ]
                hint = (
                    f"registered versions: {', '.join(map(str, known))}"
                    if known
                    else "no version of it is registered"
                )
                raise SpecError(
                    source, "policy", f"pins {spec.policy!r}, which does not exist ({hint})"
                )
        return self.store.put_agent_version(
            spec,
            actor,
            AuditEvent(
                actor,
                "agent.register",
                spec.name,
                {"prompt_digest": spec.prompt_digest, "policy": spec.policy},
                project,
            ),
            project,
        )

    def versions(self, name: str) -> list[AgentVersion]:
        found = self.store.list_agent_versions(name)
        if not found:
            raise UnresolvedReferenceError(name, "no agent of that name is registered")
        return found

    def get(self, ref: str | Ref) -> AgentVersion:
        """The agent version ``ref`` names (``name``, ``name@N``, ``name@sha256:...``, ``name@ENV``)."""
        r = parse_ref(ref) if isinstance(ref, str) else ref
        if r.version is not None:
            found = self.store.get_agent_version(r.name, r.version)
            if found is None:
                raise UnresolvedReferenceError(str(r), self._missing_version_hint(r.name))
            return found
        if r.digest is not None:
            matches = self.store.get_agent_by_digest(r.digest, r.name)
            if not matches:
                raise UnresolvedReferenceError(str(r), "no version of this agent has that digest")
            if len(matches) > 1:
                raise UnresolvedReferenceError(
                    str(r), "digest prefix is ambiguous; give more hex digits"
                )
            return matches[0]
        if r.env is not None:
            head = self.store.head(r.name, r.env)
            if head is None:
                self._check_env(r)
                raise UnresolvedReferenceError(
                    str(r), f"nothing of {r.name!r} is deployed in {r.env!r}"
                )
            found = self.store.get_agent_version(r.name, head.agent_version)
            if found is None:  # pragma: no cover - deployments only reference registered versions
                raise UnresolvedReferenceError(
                    str(r), "deployed version is missing from the registry"
                )
            return found
        versions = self.store.list_agent_versions(r.name)
        if not versions:
            raise UnresolvedReferenceError(str(r), "no agent of that name is registered")
        return versions[-1]

    def resolve(self, ref: str | Ref) -> ResolvedAgent:
        """Resolve to the exact artifact, with the env and deployment for ``name@ENV``."""
        r = parse_ref(ref) if isinstance(ref, str) else ref
        av = self.get(r)
        env = deployment_id = None
        split = None
        if r.env is not None:
            head = self.store.head(r.name, r.env)
            env, deployment_id = r.env, head.id if head else None
            split = self._canary_split(r.name, r.env, deployment_id)
        return ResolvedAgent(av.name, av.version, av.digest, av.spec, env, deployment_id, split)

    def _canary_split(self, name: str, env: str, head_id: str | None) -> CanarySplit | None:
        """The live canary on ``name@env`` as a split of its runs (None: none, a shadow, or
        one started on an earlier head)."""
        active = getattr(self.store, "active_canary", None)
        canary = active(name, env) if active is not None else None
        if canary is None or canary.shadow or canary.stable_deployment_id != head_id:
            return None
        cand = self.store.get_agent_version(name, canary.candidate_version)
        if cand is None or canary.share <= 0:
            return None
        resolved = ResolvedAgent(cand.name, cand.version, cand.digest, cand.spec, env, canary.id)
        return CanarySplit(canary.id, canary.share, canary.config.key, resolved)

    def diff(self, a: str, b: str) -> AgentDiff:
        va, vb = self.get(a), self.get(b)
        return diff_specs(va.spec, vb.spec, a, b)

    def _missing_version_hint(self, name: str) -> str:
        versions = self.store.list_agent_versions(name)
        if not versions:
            return "no agent of that name is registered"
        return f"no such version (latest is {versions[-1].version})"

    def _check_env(self, r: Ref) -> None:
        path = self.store.get_promotion_path()
        if r.env not in path and not self.store.list_agent_versions(r.name):
            raise UnresolvedReferenceError(str(r), "no agent of that name is registered")
        if r.env not in path:
            raise UnresolvedReferenceError(
                str(r), f"{r.env!r} is neither a version nor an environment ({' -> '.join(path)})"
            )

    # -- policies ----------------------------------------------------------------------------

    def register_policy(
        self,
        policy: PolicySet,
        actor: str = DEFAULT_ACTOR,
        source: str = "policy",
        project: str = DEFAULT_PROJECT,
    ) -> tuple[PolicyVersion, bool]:
        """Register a policy set in ``project`` after compiling every rule (errors name the
        rule and column); a name another project owns is refused (:class:`OwnedElsewhere`)."""
        from agentdeck.core.policy.evaluate import compile_policy

        compile_policy(policy, source)
        return self.store.put_policy_version(
            policy,
            actor,
            AuditEvent(
                actor,
                "policy.register",
                policy.name,
                {"rules": len(policy.rules)},
                project,
            ),
            project,
        )

    def get_policy(self, ref: str) -> PolicyVersion:
        r = parse_ref(ref)
        if r.env is not None:
            raise UnresolvedReferenceError(
                ref, "policies are referenced as name@N or name@sha256:..."
            )
        if r.digest is not None:
            found = self.store.get_policy_by_digest(r.digest)
            if found is None or found.name != r.name:
                raise UnresolvedReferenceError(ref, "no version of this policy has that digest")
            return found
        if r.version is not None:
            p = self.store.get_policy_version(r.name, r.version)
            if p is None:
                raise UnresolvedReferenceError(ref, "no such policy version")
            return p
        versions = self.store.list_policy_versions(r.name)
        if not versions:
            raise UnresolvedReferenceError(ref, "no policy of that name is registered")
        return versions[-1]

    def policy_for(self, spec: AgentSpec) -> PolicyVersion | None:
        """The policy version pinned by ``spec`` (never an unpinned one)."""
        if spec.policy is None:
            return None
        return self.get_policy(spec.policy)
