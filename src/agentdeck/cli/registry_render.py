"""How ``versions``, ``show`` and ``policy versions`` print (text; ``--json`` is
:mod:`agentdeck.records.versions_json`). The full commands (:mod:`.registry_cmds`,
:mod:`.policy_cmds`) and the fast read path (:mod:`.registry_fast`) both print through here.
No Typer here; Rich loads when a table is built."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agentdeck.cli.console import console, escape, fmt_time, short

if TYPE_CHECKING:
    from agentdeck.core.spec.artifacts import AgentVersion, PolicyVersion

__all__ = ["print_agent_version", "print_agent_versions", "print_policy_versions"]


def print_agent_versions(name: str, versions: Sequence[AgentVersion]) -> None:
    """``versions NAME``: one row a version."""
    from rich.table import Table

    t = Table(title=f"{name}: versions")
    for col in ("version", "digest", "model", "tools", "policy", "created", "by"):
        t.add_column(col)
    for v in versions:
        t.add_row(
            str(v.version),
            short(v.digest),
            v.spec.model.id,
            str(len(v.spec.tools)),
            v.spec.policy or "-",
            fmt_time(v.created_at),
            v.created_by,
        )
    console.print(t)


def print_agent_version(av: AgentVersion) -> None:
    """``show REF``: the version's fields, its tools, and its prompt."""
    from rich.table import Table

    s = av.spec
    console.print(f"[bold]{av.ref}[/]  {av.digest}")
    console.print(f"  created {fmt_time(av.created_at)} by {escape(av.created_by)}")
    console.print(f"  model    {s.model.provider}/{s.model.id} {dict(s.model.params) or ''}")
    console.print(f"  policy   {s.policy or '-'}")
    console.print(f"  entry    {s.entrypoint or '-'}")
    console.print(f"  prompt   {short(s.prompt_digest)} ({len(s.system_prompt)} chars)")
    t = Table(title="tools")
    for col in ("name", "version", "input fields", "output schema", "digest"):
        t.add_column(col)
    for tool in s.tools:
        fields = ", ".join(sorted((tool.input_schema or {}).get("properties", {})))
        t.add_row(
            tool.name,
            tool.version or "-",
            fields or "-",
            "yes" if tool.output_schema else "no",
            short(tool.digest),
        )
    console.print(t)
    if s.system_prompt:
        from rich.syntax import Syntax

        console.print(Syntax(s.system_prompt, "markdown", word_wrap=True))


def print_policy_versions(name: str, versions: Sequence[PolicyVersion]) -> None:
    """``policy versions NAME``: one row a version."""
    from rich.table import Table

    t = Table(title=f"{name}: policy versions")
    for col in ("version", "digest", "rules", "tests", "default", "created"):
        t.add_column(col)
    for p in versions:
        t.add_row(
            str(p.version),
            short(p.digest),
            str(len(p.policy.rules)),
            str(len(p.policy.tests)),
            p.policy.default_effect.value,
            fmt_time(p.created_at),
        )
    console.print(t)
