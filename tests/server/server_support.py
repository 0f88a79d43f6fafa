"""Helpers for the server tests: API keys of every scope (importable from any test module)."""

from __future__ import annotations

from dataclasses import dataclass

from agentdeck.registry.keys import create_key
from agentdeck.store import SqlStore

SCOPES = ("ingest", "read", "deploy", "admin")


@dataclass(frozen=True)
class Keys:
    """One key per scope, plus ``none_of(scope)``: a key with every scope but that one (and admin)."""

    tokens: dict[str, str]

    def __getitem__(self, scope: str) -> str:
        return self.tokens[scope]

    def header(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}


def make_keys(store: SqlStore) -> Keys:
    tokens = {s: create_key(store, f"{s}-key", [s], "test").token for s in SCOPES}
    for s in ("ingest", "read", "deploy"):
        others = [o for o in ("ingest", "read", "deploy") if o != s]
        tokens[f"not-{s}"] = create_key(store, f"not-{s}-key", others, "test").token
    return Keys(tokens)
