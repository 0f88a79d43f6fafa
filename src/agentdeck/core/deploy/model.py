"""Environments, deployments and gate results: the domain of promotion and rollback."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from agentdeck.core.errors import UnknownEnvironmentError

DEFAULT_PATH: tuple[str, ...] = ("dev", "staging", "production")


class Action(StrEnum):
    DEPLOY = "deploy"  # into the first env of the path
    PROMOTE = "promote"
    ROLLBACK = "rollback"


class Health(StrEnum):
    UNKNOWN = "unknown"
    GOOD = "good"
    BAD = "bad"


@dataclass(frozen=True)
class PromotionPath:
    """The ordered environments an artifact moves through."""

    envs: tuple[str, ...] = DEFAULT_PATH

    def index(self, env: str) -> int:
        try:
            return self.envs.index(env)
        except ValueError:
            raise UnknownEnvironmentError(
                env, f"not on the promotion path {' -> '.join(self.envs)}"
            ) from None

    def previous(self, env: str) -> str | None:
        i = self.index(env)
        return self.envs[i - 1] if i > 0 else None


@dataclass(frozen=True)
class GateConfig:
    """Settings of the gates of one environment, kept in the store.

    ``settings`` is free-form per gate (e.g. ``{"eval": {"min_pass_rate": 0.95}}``);
    ``disabled`` names gates switched off for this env.
    """

    env: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    disabled: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deployment:
    """One append-only entry of an environment's history."""

    id: str
    agent_name: str
    env: str
    seq: int  # position in this (agent, env) history, 1-based
    agent_digest: str
    agent_version: int
    policy_digest: str | None
    action: Action
    actor: str
    reason: str
    at: datetime
    previous_id: str | None
    health: Health = Health.UNKNOWN
    forced: bool = False


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    reason: str
