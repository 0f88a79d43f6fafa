"""AgentSpec, ToolSpec and ModelSpec: the agent as a content-addressed artifact.

A spec is parsed from a mapping (the YAML file's content), validated against the published
JSON Schema ``agent.schema.json``, normalized, and hashed: the digest is the sha256 of the
RFC 8785 canonical JSON of :meth:`AgentSpec.to_dict`.

Normalization makes equal meaning give equal bytes:

- defaults are made explicit (``params``, ``runtime``, ``metadata`` = ``{}``; no tools = ``[]``);
- a prompt given as ``{file: path}`` is replaced by the file's text; line endings become ``\\n``;
- tools are ordered by name (a tool list is a set; duplicate names are refused);
- absent optional tool fields are omitted, never ``null``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from agentdeck.core.errors import SpecError
from agentdeck.core.spec.canonical import digest, text_digest
from agentdeck.core.spec.schemas import validate

PromptLoader = Callable[[str], str]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _freeze(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value) if value else {}


@dataclass(frozen=True)
class ModelSpec:
    """Model provider, exact model id, and its parameters."""

    provider: str
    id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "id": self.id, "params": dict(self.params)}


@dataclass(frozen=True)
class ToolSpec:
    """A tool the agent may call, with its pinned schemas."""

    name: str
    description: str = ""
    input_schema: Mapping[str, Any] | None = None
    output_schema: Mapping[str, Any] | None = None
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.input_schema is not None:
            out["input_schema"] = dict(self.input_schema)
        if self.output_schema is not None:
            out["output_schema"] = dict(self.output_schema)
        if self.version is not None:
            out["version"] = self.version
        return out

    @property
    def digest(self) -> str:
        """Digest of the tool's canonical definition (name, description, schemas, version)."""
        return digest(self.to_dict())


@dataclass(frozen=True)
class AgentSpec:
    """A normalized agent spec. Immutable; identified by :attr:`digest`."""

    name: str
    model: ModelSpec
    system_prompt: str = ""
    tools: tuple[ToolSpec, ...] = ()
    policy: str | None = None
    runtime: Mapping[str, Any] = field(default_factory=dict)
    entrypoint: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The normalized spec as plain JSON data: what is hashed and stored."""
        out: dict[str, Any] = {
            "name": self.name,
            "model": self.model.to_dict(),
            "system_prompt": self.system_prompt,
            "tools": [t.to_dict() for t in self.tools],
            "runtime": dict(self.runtime),
            "metadata": dict(self.metadata),
        }
        if self.policy is not None:
            out["policy"] = self.policy
        if self.entrypoint is not None:
            out["entrypoint"] = self.entrypoint
        return out

    @property
    def digest(self) -> str:
        return digest(self.to_dict())

    @property
    def prompt_digest(self) -> str:
        return text_digest(self.system_prompt)

    def tool(self, name: str) -> ToolSpec | None:
        for t in self.tools:
            if t.name == name:
                return t
        return None

    @property
    def policy_name(self) -> str | None:
        return self.policy.split("@", 1)[0] if self.policy else None

    @property
    def policy_version(self) -> int | None:
        return int(self.policy.split("@", 1)[1]) if self.policy else None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AgentSpec:
        """Rebuild from :meth:`to_dict` output (stored, already normalized)."""
        m = data["model"]
        return cls(
            name=data["name"],
            model=ModelSpec(m["provider"], m["id"], _freeze(m.get("params"))),
            system_prompt=data.get("system_prompt", ""),
            tools=tuple(
                ToolSpec(
                    name=t["name"],
                    description=t.get("description", ""),
                    input_schema=t.get("input_schema"),
                    output_schema=t.get("output_schema"),
                    version=t.get("version"),
                )
                for t in data.get("tools", [])
            ),
            policy=data.get("policy"),
            runtime=_freeze(data.get("runtime")),
            entrypoint=data.get("entrypoint"),
            metadata=_freeze(data.get("metadata")),
        )


def _normalize_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_agent_spec(data: Any, source: str, load_prompt: PromptLoader | None = None) -> AgentSpec:
    """Validate ``data`` (a parsed YAML document) and return the normalized spec.

    ``load_prompt`` reads a prompt file named in ``system_prompt: {file: ...}``; the caller
    supplies it so that this module stays free of I/O. Errors name ``source`` and the field.
    """
    if not isinstance(data, Mapping):
        raise SpecError(
            source, None, f"expected a mapping at the top level, got {type(data).__name__}"
        )
    validate("agent", data, source)
    prompt_raw = data.get("system_prompt", "")
    if isinstance(prompt_raw, Mapping):
        path = prompt_raw["file"]
        if load_prompt is None:
            raise SpecError(source, "system_prompt.file", "prompt files are not allowed here")
        try:
            prompt = load_prompt(path)
        except OSError as exc:
            raise SpecError(
                source, "system_prompt.file", f"cannot read {path!r}: {exc.strerror or exc}"
            ) from None
    else:
        prompt = prompt_raw
    tools: list[ToolSpec] = []
    seen: set[str] = set()
    for i, t in enumerate(data.get("tools") or []):
        if t["name"] in seen:
            raise SpecError(source, f"tools[{i}].name", f"duplicate tool name {t['name']!r}")
        seen.add(t["name"])
        tools.append(
            ToolSpec(
                name=t["name"],
                description=_normalize_text(t.get("description", "")).strip(),
                input_schema=t.get("input_schema"),
                output_schema=t.get("output_schema"),
                version=t.get("version"),
            )
        )
    tools.sort(key=lambda t: t.name)
    m = data["model"]
    return AgentSpec(
        name=data["name"],
        model=ModelSpec(provider=m["provider"], id=m["id"], params=_freeze(m.get("params"))),
        system_prompt=_normalize_text(prompt),
        tools=tuple(tools),
        policy=data.get("policy"),
        runtime=_freeze(data.get("runtime")),
        entrypoint=data.get("entrypoint"),
        metadata=_freeze(data.get("metadata")),
    )


# -- lint ----------------------------------------------------------------------------------

_DATED = re.compile(r"(\d{4}-\d{2}-\d{2}|\d{8}|@\d{3,}|-\d{3,}$|-\d{4}$|:\d+$)")
_FLOATING = re.compile(r"(latest|preview$|-exp$)")


@dataclass(frozen=True)
class LintFinding:
    """One problem ``agentdeck lint`` reports: the field, a code, and the explanation."""

    field: str
    code: str
    message: str


def is_pinned_model_id(model_id: str) -> bool:
    """True for an exact, dated or numbered model id; false for a floating alias like ``gpt-4o``."""
    if _FLOATING.search(model_id):
        return False
    return bool(_DATED.search(model_id))


def lint_agent_spec(spec: AgentSpec) -> list[LintFinding]:
    """Findings for an unpinned model alias, tools without schemas, and no policy."""
    out: list[LintFinding] = []
    if not is_pinned_model_id(spec.model.id):
        out.append(
            LintFinding(
                "model.id",
                "unpinned-model",
                f"{spec.model.id!r} looks like a floating alias; pin an exact dated model id",
            )
        )
    for i, t in enumerate(spec.tools):
        if t.input_schema is None:
            out.append(
                LintFinding(
                    f"tools[{i}].input_schema",
                    "tool-without-schema",
                    f"tool {t.name!r} has no input_schema",
                )
            )
        if t.output_schema is None:
            out.append(
                LintFinding(
                    f"tools[{i}].output_schema",
                    "tool-without-output-schema",
                    f"tool {t.name!r} has no output_schema: responses cannot be checked for drift",
                )
            )
    if spec.policy is None:
        out.append(LintFinding("policy", "no-policy", "no policy pinned: tool calls run unchecked"))
    return out


@dataclass(frozen=True)
class ResolvedAgent:
    """What a reference resolved to: the exact artifact, and the deployment that put it there.

    Produced by the registry's one resolver; the SDK stamps runs with it.
    """

    name: str
    version: int
    digest: str
    spec: AgentSpec
    env: str | None = None
    deployment_id: str | None = None
    canary: CanarySplit | None = None


@dataclass(frozen=True)
class CanarySplit:
    """A canary in progress on the env a reference resolved through: ``share`` percent of
    runs (assigned by a stable hash of ``key``: session, user or run, see
    :mod:`agentdeck.core.spec.arms`) go to ``candidate``; the rest to the stable agent that
    holds this split. ``canary_id`` is the candidate arm's deployment id. ``shadow``: every
    run goes to ``candidate`` as a shadow run (the server's shadow pass, never a user's run)."""

    canary_id: str
    share: float
    key: str
    candidate: ResolvedAgent
    shadow: bool = False
