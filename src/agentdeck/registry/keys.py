"""API keys: create, revoke, authenticate. The service behind ``agentdeck keys`` and the
server's auth (kept below both, so the CLI and the server share it without importing each other).

A key is ``ak_<id>_<secret>``: ``id`` (12 hex digits) finds the stored record, ``secret``
(32 random bytes, URL-safe base64) proves possession. Only ``sha256(secret)`` is stored.
A plain SHA-256 is the right hash here, not scrypt or PBKDF2: those slow a brute-force search
of *low-entropy* human passwords, while a 256-bit random secret cannot be searched at all, and a
key is checked on every ingest request, where a deliberately slow hash (tens of milliseconds)
would cap throughput. Digests are compared in constant time.

Scopes: ``ingest`` (send spans), ``read`` (every GET), ``deploy`` (register, promote,
rollback, mark), ``admin`` (keys, environments, gates); ``admin`` implies every scope.
Creating and revoking a key are recorded in the audit chain.

A key may be bound to agent name patterns (``support-*``; ``*`` and ``?`` wildcards, several
comma-separated): it then acts only on agents whose name matches one of them (registering,
deploying, the policies those agents pin, deciding their approvals), and its patterns are
recorded with its name as the actor of every audited action (``ci [agents=support-*]``).

A key belongs to one project (:mod:`agentdeck.core.access.projects`; ``default`` unless
created with another) and acts only there. An admin key of ``default`` created with
``all_projects`` may act in any project, chosen per request.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from agentdeck.core.access.projects import DEFAULT_PROJECT, check_project_name
from agentdeck.core.access.records import ApiKeyRecord
from agentdeck.core.errors import InputError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store.protocol import KeyStore

KEY_PREFIX = "ak"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@\-]{0,99}$")
_PATTERN = re.compile(r"^[A-Za-z0-9._\-*?]{1,100}$")


class Scope(StrEnum):
    INGEST = "ingest"
    READ = "read"
    DEPLOY = "deploy"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the key's id, name, scopes and agent name patterns (empty: any
    agent). :attr:`actor` is what the audit chain records."""

    key_id: str
    name: str
    scopes: frozenset[Scope]
    agents: tuple[str, ...] = ()
    project: str = DEFAULT_PROJECT
    all_projects: bool = False

    def allows(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes

    @property
    def actor(self) -> str:
        """The key's name, with its agent patterns when it is bound to some."""
        return f"{self.name} [agents={','.join(self.agents)}]" if self.agents else self.name

    def may_act_on(self, agent_name: str) -> bool:
        return not self.agents or any(fnmatch.fnmatchcase(agent_name, p) for p in self.agents)

    def in_project(self, project: str) -> Principal:
        """This principal acting in ``project`` (an all-projects key's choice; the caller
        checks that it may)."""
        return self if project == self.project else replace(self, project=project)


@dataclass(frozen=True)
class NewKey:
    """A freshly created key: ``token`` is shown once and never stored."""

    record: ApiKeyRecord
    token: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(values: Iterable[str], source: str = "scopes") -> tuple[str, ...]:
    """Validated, de-duplicated scope names in canonical order (``a,b`` strings are split)."""
    wanted: set[Scope] = set()
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if not name:
                continue
            try:
                wanted.add(Scope(name))
            except ValueError:
                known = ", ".join(s.value for s in Scope)
                raise InputError(f"{source}: unknown scope {name!r} (known: {known})") from None
    if not wanted:
        raise InputError(f"{source}: give at least one scope (ingest, read, deploy, admin)")
    return tuple(s.value for s in Scope if s in wanted)


def parse_agent_patterns(values: Iterable[str], source: str = "agents") -> tuple[str, ...]:
    """Validated, de-duplicated agent name patterns (``a,b`` strings are split), sorted."""
    found: set[str] = set()
    for value in values:
        for part in value.split(","):
            pattern = part.strip()
            if not pattern:
                continue
            if not _PATTERN.match(pattern):
                raise InputError(
                    f"{source}: {pattern!r} is not an agent name pattern "
                    "(letters, digits, . _ - and the wildcards * ?)"
                )
            found.add(pattern)
    patterns = tuple(sorted(found))
    if len(",".join(patterns)) > 80:  # the actor column holds name + patterns
        raise InputError(f"{source}: at most 80 characters of patterns in all")
    return patterns


def create_key(
    store: KeyStore,
    name: str,
    scopes: Iterable[str],
    actor: str,
    agents: Iterable[str] = (),
    *,
    project: str = DEFAULT_PROJECT,
    all_projects: bool = False,
) -> NewKey:
    """Create and store a key (hashed); the returned token is the only copy of the secret.
    ``agents``: name patterns that bind the key to those agents (none: every agent);
    ``project``: the project it belongs to (it must exist); ``all_projects``: an admin key of
    ``default`` that may act in every project."""
    if not _NAME.match(name):
        raise InputError(
            f"name: {name!r} is not a key name (letters, digits, . _ : @ -; at most 100)"
        )
    names = parse_scopes(scopes)
    patterns = parse_agent_patterns(agents)
    if patterns and Scope.ADMIN.value in names:
        raise InputError("agents: an admin key acts on everything; it cannot be bound to agents")
    check_project_name(project)
    if store.get_project(project) is None:
        raise InputError(
            f"project: no project {project!r} (create it first: agentdeck projects create)"
        )
    if all_projects and (project != DEFAULT_PROJECT or Scope.ADMIN.value not in names):
        raise InputError(
            "all_projects: only an admin key of the default project may act in every project"
        )
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        id=key_id,
        name=name,
        secret_hash=hash_secret(secret),
        scopes=names,
        created_at=datetime.now(UTC),
        created_by=actor,
        agents=patterns,
        project=project,
        all_projects=all_projects,
    )
    payload: dict[str, object] = {"id": key_id, "scopes": list(names)}
    if patterns:
        payload["agents"] = list(patterns)
    if all_projects:
        payload["all_projects"] = True
    store.put_api_key(record, AuditEvent(actor, "key.create", name, payload, project))
    return NewKey(record, f"{KEY_PREFIX}_{key_id}_{secret}")


def revoke_key(store: KeyStore, id_or_name: str, actor: str) -> ApiKeyRecord:
    return store.revoke_api_key(
        id_or_name, datetime.now(UTC), AuditEvent(actor, "key.revoke", id_or_name, {})
    )


def split_token(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed key, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def authenticate(store: KeyStore, token: str) -> Principal | None:
    """The principal a token stands for, or None (unknown, revoked or wrong secret)."""
    parts = split_token(token)
    if parts is None:
        return None
    record = store.get_api_key(parts[0])
    if record is None or record.revoked_at is not None:
        return None
    if not hmac.compare_digest(record.secret_hash, hash_secret(parts[1])):
        return None
    return principal_of(record)


def principal_of(record: ApiKeyRecord) -> Principal:
    return Principal(
        record.id,
        record.name,
        frozenset(Scope(s) for s in record.scopes),
        record.agents,
        record.project,
        record.all_projects,
    )
