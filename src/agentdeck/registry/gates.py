"""Deployment gates: a pluggable list of checks an artifact must pass to enter an environment.

A gate is any object with a ``name`` and ``check(ctx) -> GateResult``. The registry ships the
promotion-path gate; evals, policy tests and monitoring register theirs (the CLI and server
compose the list). Each env's settings for a gate come from the store
(``GateConfig.settings[gate.name]``); a gate listed in ``GateConfig.disabled`` is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from agentdeck.core.deploy.model import GateConfig, GateResult, Health
from agentdeck.core.errors import InputError
from agentdeck.core.spec.artifacts import AgentVersion
from agentdeck.core.spelling import unknown
from agentdeck.store.protocol import Store


@dataclass(frozen=True)
class GateContext:
    """What a gate sees: the candidate, the target env, its settings, and the store."""

    candidate: AgentVersion
    env: str
    previous_env: str | None
    settings: Mapping[str, Any]
    store: Store


class Gate(Protocol):
    name: str

    def check(self, ctx: GateContext) -> GateResult: ...


class PreviousEnvGate:
    """The artifact (this exact digest) was deployed in the previous env and not marked bad."""

    name = "previous-env"
    settings_keys: frozenset[str] = frozenset()

    def check(self, ctx: GateContext) -> GateResult:
        if ctx.previous_env is None:
            return GateResult(self.name, True, "first environment on the path")
        seen = [
            d
            for d in ctx.store.deployments_of_digest(ctx.candidate.digest)
            if d.env == ctx.previous_env
        ]
        if not seen:
            return GateResult(
                self.name, False, f"{ctx.candidate.ref} was never deployed in {ctx.previous_env!r}"
            )
        if all(d.health is Health.BAD for d in seen):
            return GateResult(
                self.name, False, f"{ctx.candidate.ref} was marked bad in {ctx.previous_env!r}"
            )
        return GateResult(self.name, True, f"deployed in {ctx.previous_env!r}")


def default_gates() -> list[Gate]:
    return [PreviousEnvGate()]


# Sections of an env's settings that are no gate: each is checked by the capability that
# reads it (the canary plan, ingest sampling, data retention).
ENV_SECTIONS: frozenset[str] = frozenset({"canary", "sampling", "retention"})


def check_gate_config(gates: Sequence[Gate], config: GateConfig) -> None:
    """Refuse a gate or a gate setting no gate knows, naming the nearest valid spelling.

    A gate declares the keys it reads as ``settings_keys``; one without it takes any key.
    The sections of :data:`ENV_SECTIONS` are left to the capability that reads them."""
    known: dict[str, frozenset[str] | None] = {
        g.name: getattr(g, "settings_keys", None) for g in gates
    }
    known.update({section: None for section in ENV_SECTIONS})
    for name in config.disabled:
        if name not in known:
            raise InputError(f"--disable {name}: {unknown('gate', name, known)}")
    for name, values in config.settings.items():
        if name not in known:
            first = next(iter(values), "") if isinstance(values, Mapping) else ""
            where = f"{name}.{first}" if first else name
            raise InputError(f"{where}: {unknown('gate', name, known)}")
        keys = known[name]
        if not isinstance(values, Mapping):
            raise InputError(f"{name}: gate settings must be key: value pairs")
        if keys is None:
            continue
        for key in values:
            if key not in keys:
                raise InputError(f"{name}.{key}: {unknown(f'{name} setting', str(key), keys)}")


def run_gates(
    gates: Sequence[Gate], ctx: GateContext, disabled: Sequence[str] = ()
) -> list[GateResult]:
    """Run every enabled gate; a gate that raises fails with its error as the reason."""
    results: list[GateResult] = []
    for gate in gates:
        if gate.name in disabled:
            continue
        try:
            results.append(gate.check(ctx))
        except Exception as exc:  # a broken gate must block, not crash or pass
            results.append(GateResult(gate.name, False, f"gate error: {type(exc).__name__}: {exc}"))
    return results
