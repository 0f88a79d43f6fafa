"""Policy commands: register, versions, show, check, test, eval, coverage, simulate, and the
approval queue (approvals, approve, reject)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from agentdeck.cli.common import (
    ActorOpt,
    DbOpt,
    JsonOpt,
    ProjectOpt,
    actor_name,
    console,
    err_console,
    escape,
    fmt_time,
    get_store,
    parse_time_ns,
    print_json,
    project_in,
)
from agentdeck.cli.policy_render import coverage_json, print_coverage, print_simulation
from agentdeck.core.errors import InputError, UnresolvedReferenceError

if TYPE_CHECKING:  # the policy engine (CEL), the registry and the store load inside commands
    from agentdeck.core.policy.records import ApprovalRecord
    from agentdeck.core.policy.spec import PolicySet

app = typer.Typer(no_args_is_help=True, add_completion=False)
FileArg = Annotated[Path, typer.Argument(help="Policy file (policy.yaml).", show_default=False)]


@app.command(
    "register",
    help="Register a policy file as a new immutable version (every rule compiled first).",
)
def register_cmd(
    file: FileArg,
    db: DbOpt = None,
    actor: ActorOpt = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.registry.specfile import load_policy_spec

    policy = load_policy_spec(file)  # a bad file is refused before the store is even imported
    from agentdeck.registry.service import Registry

    store = get_store(db)
    pv, created = Registry(store).register_policy(
        policy, actor_name(actor), source=str(file), project=project_in(store, project)
    )
    if json:
        from agentdeck.records.versions_json import policy_version_json

        print_json({**policy_version_json(pv), "created": created})
        return
    verb = "registered" if created else "unchanged, already registered as"
    console.print(f"[green]{verb}[/] [bold]{pv.ref}[/]  {pv.digest}", soft_wrap=True)  # copyable


@app.command("versions", help="List the registered versions of a policy set.")
def versions_cmd(
    name: Annotated[str, typer.Argument(help="Policy name.")],
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    versions = get_store(db).list_policy_versions(name)
    if json:
        from agentdeck.records.versions_json import policy_version_json

        print_json([policy_version_json(p) for p in versions])
        return
    from agentdeck.cli.registry_render import print_policy_versions

    print_policy_versions(name, versions)


@app.command("show", help="Show a policy version's rules.")
def show_cmd(
    ref: Annotated[str, typer.Argument(help="name@N or name.")],
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.registry.service import Registry

    pv = Registry(get_store(db)).get_policy(ref)
    if json:
        from agentdeck.records.versions_json import policy_version_json

        print_json(policy_version_json(pv, policy=True))
        return
    console.print(
        f"[bold]{pv.ref}[/] {pv.digest}  default effect: {pv.policy.default_effect.value}"
    )
    from rich.table import Table

    t = Table()
    for col in ("rule", "effect", "when", "message"):
        t.add_column(col)
    for r in pv.policy.rules:
        t.add_row(r.id, r.effect.value, escape(r.when), escape(r.message))
    console.print(t)


# -- check, test, eval, coverage ----------------------------------------------------------------

PolicyRefArg = Annotated[
    str, typer.Argument(help="A policy file, or a registered policy (name@N, name).")
]
AgentOpt = Annotated[
    str | None,
    typer.Option("--agent", help="Agent version (name@N, name@ENV, ...) the calls come from."),
]


def _is_file(ref: str) -> bool:
    return Path(ref).exists() or ref.endswith((".yaml", ".yml", ".json"))


def _load(ref: str, db: str | None) -> tuple[PolicySet, str]:
    """A policy from a file (no database needed) or from the registry."""
    from agentdeck.registry.service import Registry
    from agentdeck.registry.specfile import load_policy_spec

    if _is_file(ref):
        return load_policy_spec(Path(ref)), ref
    pv = Registry(get_store(db)).get_policy(ref)
    return pv.policy, pv.ref


@app.command(
    "check", help="Compile every rule of a policy file; errors name the rule id and column."
)
def check_cmd(file: FileArg, json: JsonOpt = False) -> None:
    from agentdeck.core.policy.evaluate import check_policy
    from agentdeck.registry.specfile import load_policy_spec

    policy = load_policy_spec(file)
    problems = check_policy(policy, str(file))
    if json:
        print_json(
            {
                "ok": not problems,
                "name": policy.name,
                "digest": policy.digest,
                "rules": len(policy.rules),
                "problems": [{"field": p.field, "message": str(p)} for p in problems],
            }
        )
    elif problems:
        for p in problems:
            err_console.print(f"error: {p}", markup=False, soft_wrap=True)
    else:
        console.print(
            f"[green]ok[/] {escape(policy.name)}: {len(policy.rules)} rules compiled, "
            f"{len(policy.tests)} test cases  {policy.digest}"
        )
    if problems:
        raise typer.Exit(2)


@app.command(
    "test",
    help="Run a policy's test cases; with --agent, for that agent version, and store the result "
    "(the policy-tests gate reads it).",
)
def test_cmd(
    ref: PolicyRefArg,
    agent: AgentOpt = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.policy.testing import record_policy_tests, run_tests_for_agent
    from agentdeck.registry.service import Registry

    policy, source = _load(ref, db)
    av = Registry(get_store(db)).get(agent) if agent else None
    tests = run_tests_for_agent(policy, source, av)
    if av is not None:
        tests = record_policy_tests(get_store(db), source, tests, actor_name(actor))
    if json:
        print_json(tests.to_dict())
    else:
        from rich.table import Table

        t = Table(title=f"{policy.name}: {len(tests.results)} test cases")
        for col in ("", "case", "expected", "got", "detail"):
            t.add_column(col)
        for r in tests.results:
            rules = ", ".join(m.rule_id for m in r.decision.matched)
            t.add_row(
                "[green]pass[/]" if r.passed else "[red]FAIL[/]",
                escape(r.name),
                r.expected.value,
                r.decision.effect.value,
                escape(r.reason or rules),
            )
        console.print(t)
        verdict = "[green]all passed[/]" if tests.passed else f"[red]{tests.failed} failed[/]"
        where = f" for {av.ref} (stored)" if av is not None else ""
        console.print(f"{verdict}{where}")
    if not tests.passed:
        raise typer.Exit(1)


def _parse_call(text: str) -> Any:
    raw = text
    if text.startswith("@"):
        try:
            raw = Path(text[1:]).read_text("utf-8")
        except OSError as exc:
            raise InputError(f"--call: cannot read {text[1:]}: {exc.strerror or exc}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"--call: not JSON: {exc}") from None


@app.command("eval", help="Decide one tool call against a policy and explain the decision.")
def eval_cmd(
    ref: PolicyRefArg,
    call: Annotated[
        str,
        typer.Option(
            "--call",
            help='The call as JSON ({"tool": ..., "args": {...}, "run": {...}}) or @file.',
        ),
    ],
    agent: AgentOpt = None,
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.core.policy.context import ToolCallContext
    from agentdeck.core.policy.evaluate import compile_policy
    from agentdeck.policy.testing import agent_defaults
    from agentdeck.registry.service import Registry

    data = _parse_call(call)
    policy, source = _load(ref, db)
    if agent and isinstance(data, dict):
        data = {**agent_defaults(Registry(get_store(db)).get(agent)), **data}
    ctx = ToolCallContext.from_dict(data, "--call")
    decision = compile_policy(policy, source).decide(ctx)
    if json:
        print_json(decision.to_dict())
        return
    colour = {"allow": "green", "warn": "yellow", "require_approval": "yellow"}.get(
        decision.effect.value, "red"
    )
    console.print(f"[{colour}]{decision.effect.value}[/]: {escape(decision.message)}")
    console.print(escape(decision.explanation))


@app.command(
    "coverage",
    help="The agent's tools and argument fields that no rule of its pinned policy mentions.",
)
def coverage_cmd(
    agent_ref: Annotated[str, typer.Argument(help="Agent version: name@N, name@ENV, name.")],
    since: Annotated[
        str | None,
        typer.Option("--since", help="An earlier agent version: also list what is new since it."),
    ] = None,
    policy_ref: Annotated[
        str | None,
        typer.Option("--policy", help="Check this policy instead of the pinned one."),
    ] = None,
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.core.policy.coverage import policy_coverage
    from agentdeck.registry.service import Registry

    reg = Registry(get_store(db))
    av = reg.get(agent_ref)
    if policy_ref is not None:
        policy, pref = _load(policy_ref, db)
    else:
        pinned = reg.policy_for(av.spec)
        if pinned is None:
            raise InputError(f"{av.ref} pins no policy; pass --policy REF to check one")
        policy, pref = pinned.policy, pinned.ref
    old = reg.get(since) if since else None
    report = policy_coverage(policy, av.spec, old.spec if old else None)
    if json:
        print_json(coverage_json(report, av.ref, pref, old.ref if old else None))
        return
    print_coverage(report, av.ref, pref, old.ref if old else None)


# -- simulate -------------------------------------------------------------------------------

#: Runs from which simulate shows a progress bar.
_PROGRESS_FROM = 20


@app.command(
    "simulate",
    help="Decide the tool calls of recorded runs under a policy version and compare with the "
    "decisions recorded: what pinning it would change. Nothing is written.",
)
def simulate_cmd(
    ref: PolicyRefArg,
    agent: Annotated[str, typer.Option("--agent", help="Agent name whose runs to simulate.")],
    version: Annotated[
        int | None, typer.Option("--version", help="Only runs of this agent version number.")
    ] = None,
    env: Annotated[str | None, typer.Option("--env", help="Only runs of this environment.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Runs started at or after (ISO 8601, -2h, now).")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Runs started before.")] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", min=1, max=100_000, help="At most this many runs, newest first."),
    ] = 1000,
    changed_only: Annotated[
        bool,
        typer.Option("--changed-only", help="List only calls whose decision changes."),
    ] = False,
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.core.policy.evaluate import compile_policy
    from agentdeck.core.trace.query import RunQuery
    from agentdeck.policy.simulate import select_runs, simulate_runs

    query = RunQuery(
        agent_name=agent, agent_version=version, env=env,
        since_ns=parse_time_ns(since, "--since") if since else None,
        until_ns=parse_time_ns(until, "--until") if until else None,
        limit=limit,
    )  # fmt: skip
    policy, source = _load(ref, db)
    compiled = compile_policy(policy, source)  # a file that does not compile: exit 2 here
    store = get_store(db)
    runs, skipped = select_runs(store, query)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("simulating {task.description}"), BarColumn(), MofNCompleteColumn(),
        console=err_console.rich(), transient=True, disable=json or len(runs) < _PROGRESS_FROM,
    ) as bar:  # fmt: skip
        task = bar.add_task(source, total=len(runs))
        sim = simulate_runs(store, compiled, runs, label=source, skipped_replays=skipped,
                            progress=lambda n: bar.advance(task, n))  # fmt: skip
    if json:
        out = sim.to_dict(changed_only=changed_only)
        out["selection"] = {"agent": agent, "version": version, "env": env, "since": since,
                            "until": until, "limit": limit}  # fmt: skip
        print_json(out)
        return
    print_simulation(sim, agent, changed_only)


# -- approvals ------------------------------------------------------------------------------

IdArg = Annotated[str, typer.Argument(help="The approval request's id (apr_...).")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (recorded and audited).")]


def _approval_json(r: Any) -> dict[str, Any]:
    from agentdeck.records.serialize import approval_json

    return approval_json(r)


@app.command(
    "approvals",
    help="List tool calls waiting for (or given) approval; requests past their deadline are "
    "expired first, so none shows as pending once it can no longer be granted.",
)
def approvals_cmd(
    status: Annotated[
        str,
        typer.Option("--status", help="pending, granted, denied, expired, or all."),
    ] = "pending",
    db: DbOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.policy import approvals

    allowed = approvals.APPROVAL_STATUSES
    if status not in allowed:
        raise InputError(f"--status: {status!r} is not one of {', '.join(allowed)}")
    store = get_store(db)
    found = approvals.list_current(store, status, project=project_in(store, project))
    if json:
        print_json([_approval_json(a) for a in found])
        return
    from rich.table import Table

    t = Table(title=f"approval requests ({status})")
    for col in ("id", "status", "tool", "args", "agent", "rules", "requested"):
        t.add_column(col)
    for a in found:
        t.add_row(
            a.id,
            a.status,
            a.tool,
            escape(orjson.dumps(a.args).decode()[:60]),
            f"{a.agent_name}@{a.agent_version}" if a.agent_name else "",
            ", ".join(a.rules),
            fmt_time(a.requested_at),
        )
    console.print(t)


def _decide(
    decide: Callable[[Any, str, str, str], ApprovalRecord],
    verb: str,
    approval_id: str,
    reason: str,
    db: str | None,
    actor: str | None,
    json: bool,
    project: str | None,
) -> None:
    from agentdeck.cli.scope import agent_visible

    store = get_store(db)
    in_project = project_in(store, project)
    found = store.get_approval(approval_id)
    if found is not None and not agent_visible(store, in_project, found.agent_name):
        raise UnresolvedReferenceError(approval_id, "no approval request with that id")
    rec = decide(store, approval_id, actor_name(actor), reason)
    if json:
        print_json(_approval_json(rec))
        return
    console.print(f"{verb} {rec.id}: {rec.tool} ({', '.join(rec.rules)})")


@app.command("approve", help="Grant a pending approval request: the waiting tool call runs.")
def approve_cmd(
    approval_id: IdArg,
    reason: ReasonOpt = "",
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.policy import approvals

    _decide(approvals.grant, "[green]granted[/]", approval_id, reason, db, actor, json, project)


@app.command("reject", help="Reject a pending approval request: the waiting tool call is denied.")
def reject_cmd(
    approval_id: IdArg,
    reason: ReasonOpt = "",
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.policy import approvals

    _decide(approvals.reject, "[red]rejected[/]", approval_id, reason, db, actor, json, project)
