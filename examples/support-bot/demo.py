"""The agentdeck demo: the life of the support-bot agent, told with the real CLI commands.

Runs on the embedded SQLite store at .agentdeck/demo.db (recreated each time), so it never
touches your own .agentdeck/agentdeck.db. Each step prints the command it runs, then its output.
Production traffic is generated in-process: customer messages (support_bot/traffic.py) through
the agent's entrypoint with the tracing SDK, the pinned policy enforced, and online evaluators
scoring a sample of the runs as they are stored. v2 goes to production as a canary, judged
between batches of that traffic as ``agentdeck serve`` would, and rolled back on its own. The
model is the deterministic scripted one (support_bot/scripted.py) unless an OpenAI-compatible
key and base URL are set.
"""

from __future__ import annotations

import math
import os
import random
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DB = Path(os.environ.get("AGENTDECK_DEMO_DB") or ROOT / ".agentdeck" / "demo.db").resolve()
URL = f"sqlite:///{DB}"

console = Console(highlight=False)
RUNS_PER_PHASE = int(os.environ.get("DEMO_RUNS", "300"))
BATCH = 50  # canary conversations between two judgements
# The canary's id salts the hash that puts each conversation on an arm: this one rolls v2 back
# after 250 conversations (other ids: 350-450, docs/canary.md).
CANARY_ID = "b8a1abcd1a6916c74da4f9fc3c6da5d7"
MANUAL_ROLLBACK = "rollback support-bot --env production --to support-bot@1 --reason 'by hand'"


def agentdeck(cmd: str, expect: int = 0) -> int:
    """Run one agentdeck command in-process, echoing it as a user would type it."""
    from rich.markup import escape

    from agentdeck.cli.main import main

    console.print(f"[bold cyan]$ agentdeck {escape(cmd)}[/]", soft_wrap=True)
    try:
        main(shlex.split(cmd))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    if code != expect:
        console.print(f"[red]demo: expected exit {expect}, got {code}[/]")
        sys.exit(1)
    console.print()
    return code


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _hhmm(ns: int) -> str:
    return time.strftime("%H:%M", time.gmtime(ns / 1e9))


def step(title: str, story: str) -> None:
    console.print(Rule(f"[bold]{title}"))
    console.print(Panel(story, border_style="dim"))


def traffic(
    ref: str,
    n: int,
    seed: int,
    *,
    hours: tuple[int, int] | None,
) -> dict[str, Any]:
    """``n`` customer conversations with ``ref`` (resolved through the registry, so the runs
    are stamped with the production deployment, and a canary there splits them by
    conversation), with a progress bar, stamped as if they had come in over the simulated
    ``hours`` (start, end in ns; demo_clock.py; ``None``: as they run). Returns what
    happened: the runs that told of a failed e-mail, the runs per version, the flagged runs."""
    from demo_clock import SimulatedHours, spread
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from support_bot.traffic import customer_message

    from agentdeck.core.evals.match import Schema
    from agentdeck.evals.online import (
        ArgumentCheck,
        Completion,
        EvaluatingSink,
        ExpectedTool,
        OnlineEvaluation,
    )
    from agentdeck.registry.resolver import CachingResolver
    from agentdeck.registry.service import Registry
    from agentdeck.sdk_init import init
    from agentdeck.store import open_store
    from agentdeck.tracing.replay.entrypoint import run_entrypoint
    from agentdeck.tracing.sdk import api as sdk

    store = open_store(URL)
    clock = SimulatedHours(store)
    online = OnlineEvaluation(
        [
            Completion(),
            ExpectedTool("verify_identity", when_input=r"refund", name="identity-checked"),
            ArgumentCheck(
                "send_email",
                {"to": Schema({"type": "string", "pattern": "@example\\.com$"})},
                name="email-recipient",
            ),
        ],
        sample_rate=0.5,
    )
    init(
        sink=EvaluatingSink(clock, online),  # type: ignore[arg-type]  # the store, re-timed
        resolver=CachingResolver(Registry(store)),
        env="production",
    )
    agent = Registry(store).resolve(ref)
    split = agent.canary
    label = f"production traffic on {agent.name}@{agent.version}"
    if split is not None:
        label += f" and @{split.candidate.version} ({split.share:g} %)"
    rng = random.Random(seed)
    starts = spread(n, *hours, random.Random(seed + 1000)) if hours is not None else None
    failed: list[str] = []
    ran: list[str] = []
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:  # fmt: skip
        task = bar.add_task(label, total=n)
        for i in range(n):
            if starts is not None:
                clock.start_run(starts[i])
            session = f"conv-{seed}-{i}"  # one conversation: the canary's arm goes by it
            result = run_entrypoint(agent, customer_message(rng), paths=[HERE], session_id=session)
            ran.append(result.trace_id)
            if isinstance(result.output, str) and "could not send" in result.output:
                failed.append(result.trace_id)
            bar.advance(task)
    sdk.shutdown()
    # What the runs record: the store counted each run's failed tool calls as it stored them.
    from agentdeck.store import RunQuery

    mine = set(ran)
    versions: dict[int, int] = {}
    for r in store.find_runs(RunQuery(agent_name=agent.name, limit=10 * n)):
        if r.trace_id in mine:
            versions[r.agent_version] = versions.get(r.agent_version, 0) + 1
    flagged = {
        kind: {r.trace_id for r in store.find_runs(query) if r.trace_id in mine}
        for kind, query in (
            ("with_errors", RunQuery(agent_name=agent.name, has_errors=True, limit=10 * n)),
            ("denied", RunQuery(agent_name=agent.name, denied=True, limit=10 * n)),
        )
    }
    store.close()
    return {"failed": failed, "versions": versions, **flagged}


def main() -> None:
    started = time.perf_counter()
    DB.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    os.environ["AGENTDECK_DATABASE_URL"] = URL
    os.environ.setdefault("AGENTDECK_ACTOR", "demo:alice")
    started_in = Path.cwd()  # the closing hints are typed from here
    os.chdir(HERE)
    sys.path.insert(0, str(HERE))
    from demo_clock import timeline
    from support_bot import shop

    shop.PROVIDER.reset()
    day_start, _, day_end = timeline(time.time_ns())

    step(
        "1. Register",
        "The refund policy (with a $2 model budget per run) and version 1 of the support agent "
        "become immutable, content-addressed artifacts.",
    )
    agentdeck("policy register policy.yaml")
    agentdeck("lint agent.v1.yaml")
    agentdeck("register agent.v1.yaml")
    agentdeck("register agent.v1.yaml")  # identical content: same version, nothing new

    step(
        "2. Evaluate and promote v1",
        "Staging and production ask for eval results of the exact digest. "
        "The suite (evals/suite.yaml) stubs the money and e-mail tools and checks the actions, not only the answer.",
    )
    agentdeck("env gates staging --set eval.min_pass_rate=0.85")
    agentdeck(
        "env gates production --set eval.min_pass_rate=0.85 "
        '--set \'eval.must_pass=["refund-wrong-email","refund-above-approval-limit"]\''
    )
    agentdeck("promote support-bot@1 --to dev")
    console.print("[dim]No eval result for this digest yet: the eval gate refuses staging.[/]")
    agentdeck("promote support-bot@1 --to staging", expect=1)
    agentdeck("eval evals/suite.yaml --agent support-bot@1")
    agentdeck("promote support-bot@1 --to staging")
    agentdeck("promote support-bot@1 --to production")
    agentdeck("mark support-bot --env production good")

    step(
        "3. Production traffic on v1",
        f"{RUNS_PER_PHASE} customer conversations. Every run is traced; the policy is "
        "enforced before each tool call; online evaluators score half of the runs as they are stored.",
    )
    console.print(
        f"[dim]Simulated hours: the runs are stamped {_hhmm(day_start)}-{_hhmm(day_end)} UTC "
        "(the monitors page draws them as the day's traffic before v2).[/]"
    )
    traffic("support-bot@production", RUNS_PER_PHASE, seed=1, hours=(day_start, day_end))
    agentdeck("scores support-bot --version 1")
    agentdeck("baseline create v1-production --agent support-bot@1 --env production")

    step(
        "4. Version 2",
        "A new prompt (offer store credit first), a warmer temperature, and lookup_order pinned "
        "to the provider's announced API 2.0, whose response renames email to customer_email.",
    )
    agentdeck("register agent.v2.yaml")
    agentdeck("diff support-bot@1 support-bot@2")
    console.print(
        "[dim]The provider's sandbox already serves lookup_order 2.0, so v2 evaluates cleanly; "
        "the store-credit offer changes one case:[/]"
    )
    agentdeck("eval evals/suite.yaml --agent support-bot@2 --compare support-bot@1")
    console.print("[dim]Skipping staging is refused by the previous-env gate:[/]")
    agentdeck("promote support-bot@2 --to production", expect=1)
    agentdeck("promote support-bot@2 --to dev")
    agentdeck("promote support-bot@2 --to staging")

    seen, moment = canary_of_v2()

    step(
        "6. Monitoring",
        "v2's runs compared with v1's production baseline: behavioural drift, named. The alert "
        "rules fire; online scores show the broken e-mails; cost and diff by version.",
    )
    agentdeck(
        "monitor --agent support-bot@2 --env production --window 12h --baseline v1-production"
    )
    agentdeck("monitor --rules alerts.yaml")
    agentdeck("alerts")
    agentdeck("scores support-bot --version 2")
    console.print(
        "[dim]The same twelve hours on the web UI (agentdeck serve): "
        "http://127.0.0.1:8600/ui/monitors?window=12h[/]"
    )
    agentdeck("cost --by version --agent support-bot --env production")  # what each version spent
    agentdeck("diff support-bot@1 support-bot@2")  # ends with the cost per run of each

    step(
        "7. Rolled back on its own",
        "The judge's decisions are audited deployment events: `canary status` keeps the "
        "evidence, `history` lists the canary's start and its rollback beside the deployments, "
        "`at` answers what was running while v2 had its share, and the audit chain verifies.",
    )
    agentdeck("canary status support-bot --env production")
    agentdeck("history support-bot --env production")
    agentdeck(f"at support-bot --env production --time {moment}")
    agentdeck("audit verify")
    console.print(
        "[dim]Without a canary, the manual way is one command (`--to` names the version; "
        f"without it, the last known-good one): agentdeck {MANUAL_ROLLBACK}[/]",
        soft_wrap=True,
    )
    console.print()

    elapsed = time.perf_counter() - started
    bad = seen["failed"][0] if seen["failed"] else "RUN_ID"
    if seen["failed"]:
        step(
            "8. The bad answer becomes a test",
            "A reviewer marks a v2 run whose confirmation e-mail failed. The run becomes a case of "
            "a stored suite: its message, the tool responses it got (as fixtures), and what should "
            "have happened. v1 passes it; v2 fails it until fixed.",
        )
        agentdeck(f"feedback {bad} --label thumbs_down --comment 'confirmation e-mail never sent'")
        agentdeck(
            f"suite add-run {bad} --suite prod-regressions "
            "--expect '{calls: [send_email], output: {not_contains: could not send}}'"
        )
        agentdeck("eval prod-regressions --agent support-bot@1")
        agentdeck("eval prod-regressions --agent support-bot@2", expect=1)

    elapsed = time.perf_counter() - started
    console.print(Rule("[bold]Explore further"))
    cli = _typed_from(started_in, Path(sys.executable).parent / "agentdeck")
    policy = _typed_from(started_in, HERE / "policy.yaml")
    console.print(f"The demo's store is {_shown(DB)} ({elapsed:.1f} s). Point the CLI at it:\n")
    hints = [
        f"export AGENTDECK_DATABASE_URL={URL}",
        f"{cli} runs --agent support-bot --env production",
        f"{cli} runs --agent support-bot --has-errors   # runs with a failed tool call",
        f"{cli} trace {bad}   # a v2 run whose confirmation e-mail failed",
        f"{cli} rca {bad}",
        f"{cli} diff support-bot@1 support-bot@2",
        f"{cli} history support-bot --env production",
        f"{cli} canary status support-bot --env production   # the canary's judgement",
        f"{cli} {MANUAL_ROLLBACK}   # the manual way",
        f"{cli} policy simulate {policy} --agent support-bot   # edit the rules: what would change",
        f"{cli} keys create --name me --scope admin   # the UI and API need a key",
        f"{cli} serve   # the web UI on http://127.0.0.1:8600/ui",
    ]
    for hint in hints:  # never wrapped, so that each line can be copied and run as printed
        console.print(f"  {hint}", soft_wrap=True, markup=False)


def _typed_from(cwd: Path, path: Path) -> str:
    """``path`` as typed from ``cwd``: relative under it, else absolute."""
    try:
        shown = str(path.relative_to(cwd))
    except ValueError:
        return str(path)
    return shown if "/" in shown else f"./{shown}"


def canary_of_v2() -> tuple[dict[str, Any], str]:
    """Step 5: v2 goes to production as a canary, which the platform rolls back on its own.
    Returns what v2's runs did and a moment (ISO, to the second) while v2 had its share."""
    from agentdeck.registry.canary import Canaries
    from agentdeck.store import open_store

    step(
        "5. v2 as a canary in production",
        "v2 goes out before the provider rolls lookup_order 2.0 out in production: production "
        "still answers with `email`, v2 looks for `customer_email`, and its refund "
        "confirmations go out without a recipient. So v2 goes out as a canary: 25 % of the "
        "conversations, chosen by session, while v1 (stable) answers the rest. After each "
        f"batch of {BATCH} the platform judges both arms with an always-valid sequential test "
        "(`agentdeck serve` does this every 30 s) and rolls v2 back on its own when a guard "
        "rail breaks.",
    )
    console.print("[dim]The canary's settings are the env's gate settings:[/]")
    agentdeck(
        "env gates production --set canary.min_runs_per_arm=10 --set canary.tune_runs=60 "
        """--set 'canary.plan=[{"share": 25, "min_runs": 200}, {"share": 100}]' """
        """--set 'canary.guardrails={"feedback": false, "cost": false}'"""
    )
    console.print(
        "[dim]A fixed --canary-id (by default random) sends the same conversations to v2 "
        "each time the demo runs:[/]"
    )
    agentdeck(f"promote support-bot@2 --to production --canary 25 --canary-id {CANARY_ID}")
    console.print(f"[dim]Live traffic, judged after each batch of {BATCH}, as the server would:[/]")
    seen: dict[str, Any] = {"failed": [], "with_errors": set(), "denied": set()}
    moment = ""
    batches = max(2, 2 * RUNS_PER_PHASE // BATCH)
    for batch in range(batches):
        got = traffic("support-bot@production", BATCH, seed=30 + batch, hours=None)
        seen["failed"] += got["failed"]
        seen["with_errors"] |= got["with_errors"]
        seen["denied"] |= got["denied"]
        if not moment:  # a whole second while v2 has its share, for `at` in step 7
            at = math.ceil(time.time())
            moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))
            time.sleep(at - time.time() + 0.05)
        store = open_store(URL)
        try:
            acts = Canaries(store).tick()
        finally:
            store.close()
        done = BATCH * (batch + 1)
        if any(a.action == "rollback" for a in acts):
            console.print(
                f"[yellow]after {done} conversations the canary rolled v2 back on its own: "
                f"{acts[0].judgement.reason}[/]"
            )
            break
    else:
        console.print("[red]demo: the canary was not rolled back[/]")
        sys.exit(1)
    failed_mail = set(seen["failed"])
    console.print(
        f"{len(failed_mail)} v2 runs told the customer the confirmation e-mail failed; "
        f"{len(failed_mail & seen['with_errors'])} of them record the failed tool call, "
        f"{len(failed_mail & seen['denied'])} denied by the e-mail policy (no recipient); "
        f"{len(seen['with_errors'] - failed_mail)} other runs had a tool call fail:"
    )
    agentdeck("runs --agent support-bot --version 2 --env production --has-errors --limit 5")
    console.print("[dim]From the rollback on, every conversation is v1's again:[/]")
    after = traffic("support-bot@production", BATCH, seed=30 + batches, hours=None)
    shown = ", ".join(f"{n} on support-bot@{v}" for v, n in sorted(after["versions"].items()))
    console.print(f"after the rollback: {BATCH} conversations, {shown}\n")
    return seen, moment


if __name__ == "__main__":
    main()
