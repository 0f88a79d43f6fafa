"""Promotion, rollback, history and ``at``: the deployment service.

Every change appends a :class:`Deployment` by compare-and-set on the env head, so concurrent
promotions and rollbacks on one env serialize into a linear history (a loser re-reads the head
and tries again), and each change is audited in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from agentdeck.core.access.projects import DEFAULT_PROJECT, SERVER_WIDE
from agentdeck.core.deploy.canary import canary_config
from agentdeck.core.deploy.model import (
    Action,
    Deployment,
    GateConfig,
    GateResult,
    Health,
    PromotionPath,
)
from agentdeck.core.errors import (
    ConflictError,
    GateBlocked,
    InputError,
    UnknownEnvironmentError,
    UnresolvedReferenceError,
)
from agentdeck.core.spec.artifacts import AgentVersion, AuditEvent
from agentdeck.core.trace.lifecycle import retention_days
from agentdeck.registry.gates import (
    Gate,
    GateContext,
    check_gate_config,
    default_gates,
    run_gates,
)
from agentdeck.registry.service import DEFAULT_ACTOR, Registry
from agentdeck.store.protocol import Store

MAX_CAS_RETRIES = 50


@dataclass(frozen=True)
class PromotionResult:
    deployment: Deployment
    gates: tuple[GateResult, ...]


class Deployments:
    def __init__(
        self, store: Store, registry: Registry | None = None, gates: Sequence[Gate] | None = None
    ) -> None:
        self.store = store
        self.registry = registry or Registry(store)
        self.gates: list[Gate] = list(gates) if gates is not None else default_gates()

    def project_of(self, name: str) -> str:
        """The project whose audit log shows ``name``'s deployments: the agent's owner (the
        default project for a name no project registered)."""
        return self.store.agent_project(name) or DEFAULT_PROJECT

    # -- environments ------------------------------------------------------------------------

    def path(self) -> PromotionPath:
        return PromotionPath(self.store.get_promotion_path())

    def set_path(self, envs: Sequence[str], actor: str = DEFAULT_ACTOR) -> PromotionPath:
        if len(envs) < 1 or len(set(envs)) != len(envs):
            raise InputError("promotion path: give one or more distinct environment names")
        for e in envs:
            if (
                not e.replace("-", "").replace("_", "").isalnum()
                or not e[0].isalpha()
                or e != e.lower()
            ):
                raise UnknownEnvironmentError(
                    e, "environment names are lowercase letters, digits, - and _"
                )
        self.store.set_promotion_path(
            list(envs),
            AuditEvent(actor, "env.path", "environments", {"path": list(envs)}, SERVER_WIDE),
        )
        return PromotionPath(tuple(envs))

    def gate_config(self, env: str) -> GateConfig:
        self.path().index(env)
        return self.store.get_gate_config(env)

    def set_gate_config(self, config: GateConfig, actor: str = DEFAULT_ACTOR) -> None:
        """Store an env's gate settings; an unknown gate or setting is refused (InputError)."""
        self.path().index(config.env)
        check_gate_config(self.gates, config)
        if "canary" in config.settings:  # checked now, not when a canary starts
            canary_config(config.settings["canary"], f"gates of {config.env}: canary")
        retention_days(config.settings, config.env)  # retention.days: 1..36500 or unset
        self.store.set_gate_config(
            config,
            AuditEvent(
                actor,
                "env.gates",
                config.env,
                {"settings": dict(config.settings), "disabled": list(config.disabled)},
                SERVER_WIDE,
            ),
        )

    # -- promote / rollback --------------------------------------------------------------------

    def check_gates(self, candidate: AgentVersion, env: str) -> list[GateResult]:
        path = self.path()
        path.index(env)
        cfg = self.store.get_gate_config(env)
        ctx = GateContext(candidate, env, path.previous(env), cfg.settings, self.store)
        return run_gates(self.gates, ctx, cfg.disabled)

    def promote(
        self,
        ref: str,
        to_env: str,
        actor: str = DEFAULT_ACTOR,
        *,
        force: bool = False,
        reason: str = "",
    ) -> PromotionResult:
        """Deploy ``ref`` into ``to_env`` after its gates pass (or ``force`` with a ``reason``)."""
        if force and not reason.strip():
            raise InputError("--force needs --reason: say why the gates are overridden")
        path = self.path()
        path.index(to_env)
        candidate = self.registry.get(ref)
        results = self.check_gates(candidate, to_env)
        failures = [(r.name, r.reason) for r in results if not r.passed]
        if failures and not force:
            raise GateBlocked(to_env, failures)
        action = Action.DEPLOY if path.previous(to_env) is None else Action.PROMOTE
        why = reason or f"promote {candidate.ref} to {to_env}"
        if failures:
            why = f"{why} [forced past: {', '.join(n for n, _ in failures)}]"
        dep = self._append(candidate, to_env, action, actor, why, forced=bool(failures))
        return PromotionResult(dep, tuple(results))

    def rollback(
        self,
        name: str,
        env: str,
        actor: str = DEFAULT_ACTOR,
        *,
        to_ref: str | None = None,
        reason: str = "",
    ) -> Deployment:
        """Put back the previous known-good deployment (or ``to_ref``), marking the current one bad."""
        self.path().index(env)
        for _ in range(MAX_CAS_RETRIES):
            head = self.store.head(name, env)
            if head is None:
                raise UnresolvedReferenceError(
                    f"{name}@{env}", "nothing is deployed there to roll back"
                )
            if to_ref is not None:
                target = self.registry.get(to_ref)
                if target.name != name:
                    raise UnresolvedReferenceError(to_ref, f"is not a version of {name!r}")
            else:
                target = self._previous_good(name, env, head)
            why = reason or f"rollback from {name}@{head.agent_version} to {target.ref}"
            retire = None
            if head.health is not Health.BAD:
                retire = (
                    head.id,
                    AuditEvent(
                        actor,
                        "deployment.mark",
                        f"{name}@{env}",
                        {"deployment": head.id, "health": "bad", "by": "rollback"},
                        self.project_of(name),
                    ),
                )
            try:
                return self._append_once(
                    target, env, Action.ROLLBACK, actor, why, head, forced=False, retire=retire
                )
            except ConflictError:
                continue
        raise ConflictError(f"{name}@{env}: too much concurrent change; try again")

    def rollback_target(self, name: str, env: str) -> AgentVersion | None:
        """The version a plain ``rollback`` of ``name`` in ``env`` would put back (the previous
        known-good deployment), or None when there is none (or nothing is deployed)."""
        self.path().index(env)
        head = self.store.head(name, env)
        return self._known_good_before(name, env, head) if head is not None else None

    def _known_good_before(self, name: str, env: str, head: Deployment) -> AgentVersion | None:
        for d in reversed(self.store.history(name, env)):
            if d.agent_digest != head.agent_digest and d.health is not Health.BAD:
                found = self.store.get_agent_version(name, d.agent_version)
                if found is not None:
                    return found
        return None

    def _previous_good(self, name: str, env: str, head: Deployment) -> AgentVersion:
        found = self._known_good_before(name, env, head)
        if found is not None:
            return found
        raise UnresolvedReferenceError(
            f"{name}@{env}", "no earlier known-good deployment to roll back to; use --to REF"
        )

    def _append(
        self,
        candidate: AgentVersion,
        env: str,
        action: Action,
        actor: str,
        reason: str,
        *,
        forced: bool,
        dep_id: str | None = None,
    ) -> Deployment:
        for _ in range(MAX_CAS_RETRIES):
            head = self.store.head(candidate.name, env)
            try:
                return self._append_once(
                    candidate, env, action, actor, reason, head, forced=forced, dep_id=dep_id
                )
            except ConflictError:
                continue
        raise ConflictError(f"{candidate.name}@{env}: too much concurrent change; try again")

    def _append_once(
        self,
        candidate: AgentVersion,
        env: str,
        action: Action,
        actor: str,
        reason: str,
        head: Deployment | None,
        *,
        forced: bool,
        retire: tuple[str, AuditEvent] | None = None,
        dep_id: str | None = None,
    ) -> Deployment:
        policy = self.registry.policy_for(candidate.spec)
        dep = Deployment(
            id=dep_id or uuid.uuid4().hex,
            agent_name=candidate.name,
            env=env,
            seq=(head.seq if head else 0) + 1,
            agent_digest=candidate.digest,
            agent_version=candidate.version,
            policy_digest=policy.digest if policy else None,
            action=action,
            actor=actor,
            reason=reason,
            at=datetime.now(UTC),
            previous_id=head.id if head else None,
            forced=forced,
        )
        audit = AuditEvent(
            actor,
            f"deployment.{action.value}",
            f"{candidate.name}@{env}",
            {
                "deployment": dep.id,
                "version": candidate.version,
                "digest": candidate.digest,
                "reason": reason,
                "forced": forced,
                "previous": dep.previous_id,
                "policy_digest": dep.policy_digest,
                "seq": dep.seq,
            },
            self.project_of(candidate.name),
        )
        self.store.append_deployment(dep, head.seq if head else 0, audit, retire)
        return dep

    # -- queries -------------------------------------------------------------------------------

    def history(self, name: str, env: str) -> list[Deployment]:
        self.path().index(env)
        return self.store.history(name, env)

    def at(self, name: str, env: str, when: datetime) -> Deployment | None:
        """The deployment in force in ``env`` at ``when`` (None if nothing was deployed yet)."""
        self.path().index(env)
        return self.store.deployment_at(name, env, when.astimezone(UTC))

    def mark(
        self,
        name: str,
        env: str,
        health: Health,
        actor: str = DEFAULT_ACTOR,
        deployment_id: str | None = None,
    ) -> Deployment:
        """Mark the current (or a given) deployment of ``name`` in ``env`` good or bad."""
        self.path().index(env)
        dep = self.store.deployment(deployment_id) if deployment_id else self.store.head(name, env)
        if dep is None or dep.agent_name != name or dep.env != env:
            raise UnresolvedReferenceError(f"{name}@{env}", "no such deployment")
        self.store.set_health(
            dep.id,
            health,
            AuditEvent(
                actor,
                "deployment.mark",
                f"{name}@{env}",
                {"deployment": dep.id, "health": health.value},
                self.project_of(name),
            ),
        )
        updated = self.store.deployment(dep.id)
        assert updated is not None
        return updated
