"""Checks of the audit chain against what the database cannot forge: a signed checkpoint of
its head (kept outside the database), and the deployments table (every row against the entry
that recorded it).

A checkpoint is ``{seq, hash, at}`` of the chain head, signed with Ed25519 by a key that
never enters the database (signing and key files: :mod:`agentdeck.registry.audit_sign`). The
chain is append-only, so every checkpoint ever taken must still hold: entry ``seq`` exists and
has ``hash``. A rewrite with recomputed hashes changes ``hash``; a truncation or a wholesale
deletion removes entry ``seq``. What a checkpoint cannot show: changes after the newest one
(until the next), and a database owner who also holds the signing key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agentdeck.core.deploy.audit_chain import AuditEntry, AuditProblem
from agentdeck.core.deploy.model import Deployment, Health
from agentdeck.core.spec.canonical import canonical_json

CHECKPOINT_KIND = "agentdeck.audit.checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    """A signed chain head: ``public_key`` (raw Ed25519, hex) and ``signature`` (hex) over
    :func:`checkpoint_message`."""

    seq: int
    hash: str
    at: str
    public_key: str
    signature: str

    def message(self) -> bytes:
        return checkpoint_message(self.seq, self.hash, self.at)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": CHECKPOINT_KIND,
            "v": 1,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "public_key": self.public_key,
            "signature": self.signature,
        }


def checkpoint_message(seq: int, hash_: str, at: str) -> bytes:
    """The bytes a checkpoint's signature covers (RFC 8785 canonical JSON)."""
    return canonical_json({"kind": CHECKPOINT_KIND, "v": 1, "seq": seq, "hash": hash_, "at": at})


def check_checkpoint(entries: Sequence[AuditEntry], cp: Checkpoint) -> list[AuditProblem]:
    """Problems of the stored chain against one (signature-checked) checkpoint."""
    if cp.seq == 0:
        return []
    if not entries:
        return [
            AuditProblem(
                cp.seq,
                f"every audit entry is gone, but a checkpoint signed at {cp.at} covers "
                f"{cp.seq} entries (wholesale deletion)",
            )
        ]
    found = next((e for e in entries if e.seq == cp.seq), None)
    if found is None:
        last = max(e.seq for e in entries)
        return [
            AuditProblem(
                cp.seq,
                f"the log ends at entry {last}, but a checkpoint signed at {cp.at} covers "
                f"{cp.seq} entries (truncated)",
            )
        ]
    if found.hash != cp.hash:
        return [
            AuditProblem(
                cp.seq,
                f"entry {cp.seq} hashes to {found.hash[:12]}, but the checkpoint signed at "
                f"{cp.at} says {cp.hash[:12]} (the chain was rewritten)",
            )
        ]
    return []


_CREATE_ACTIONS = {f"deployment.{a}" for a in ("deploy", "promote", "rollback")}


def check_deployments(
    deployments: Iterable[Deployment],
    entries: Sequence[AuditEntry],
    heads: Iterable[tuple[str, str, str]] = (),
) -> list[AuditProblem]:
    """Every deployment row against the audit entry that recorded it (and its health against
    the last mark), every recorded deployment present, and each environment head (``agent,
    env, deployment id``) on the newest deployment of that history."""
    created: dict[str, AuditEntry] = {}
    health: dict[str, str] = {}
    for e in entries:
        dep = e.payload.get("deployment")
        if not isinstance(dep, str):
            continue
        if e.action in _CREATE_ACTIONS:
            created[dep] = e
        elif e.action == "deployment.mark":
            health[dep] = str(e.payload.get("health"))
    problems: list[AuditProblem] = []
    newest: dict[tuple[str, str], Deployment] = {}
    seen: set[str] = set()
    for d in deployments:
        seen.add(d.id)
        key = (d.agent_name, d.env)
        if key not in newest or d.seq > newest[key].seq:
            newest[key] = d
        entry = created.get(d.id)
        if entry is None:
            problems.append(
                AuditProblem(0, f"deployment {d.id} ({d.agent_name}@{d.env}) has no audit entry")
            )
            continue
        e = entry
        expected = {
            "subject": f"{d.agent_name}@{d.env}",
            "action": f"deployment.{d.action.value}",
            "actor": d.actor,
            "digest": d.agent_digest,
            "version": d.agent_version,
            "reason": d.reason,
            "forced": d.forced,
            "previous": d.previous_id,
            "policy_digest": d.policy_digest,
            "seq": d.seq,
        }
        recorded = {
            "subject": e.subject,
            "action": e.action,
            "actor": e.actor,
            **{k: e.payload[k] for k in list(expected)[3:] if k in e.payload},
        }
        differ = sorted(k for k, v in recorded.items() if expected[k] != v)
        if differ:
            problems.append(
                AuditProblem(
                    e.seq,
                    f"deployment {d.id} ({d.agent_name}@{d.env}) differs from its audit entry "
                    f"in {', '.join(differ)} (deployments table edited)",
                )
            )
        want_health = health.get(d.id, Health.UNKNOWN.value)
        if d.health.value != want_health:
            problems.append(
                AuditProblem(
                    e.seq,
                    f"deployment {d.id} ({d.agent_name}@{d.env}) is {d.health.value!r} but the "
                    f"audit chain says {want_health!r} (deployments table edited)",
                )
            )
    for dep_id, e in created.items():
        if dep_id not in seen:
            problems.append(
                AuditProblem(
                    e.seq, f"deployment {dep_id} ({e.subject}) is recorded but its row is gone"
                )
            )
    for agent, env, head_id in heads:
        top = newest.get((agent, env))
        if top is not None and head_id != top.id:
            problems.append(
                AuditProblem(
                    0,
                    f"{agent}@{env}: the live deployment is {head_id}, not the newest recorded "
                    f"one {top.id} (environment head edited)",
                )
            )
    return problems
