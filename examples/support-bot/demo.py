"""The agentdeck demo: the life of the support-bot agent, told with the real CLI commands.

Runs on the embedded SQLite store at .agentdeck/demo.db (recreated each time), so it never
touches your own .agentdeck/agentdeck.db. Each step prints the command it runs, then its output.
Production traffic is generated in-process: customer messages (support_bot/traffic.py) through
the agent's entrypoint with the tracing SDK, the pinned policy enforced, and online evaluators
scoring a sample of the runs as they are stored. The model is the deterministic scripted one
(support_bot/scripted.py) unless an OpenAI-compatible key and base URL are set.
"""

from __future__ import annotations

import math
import os
import random
import shlex
import sys
import time
from collections.abc import Callable
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


def agentdeck(cmd: str, expect: int = 0) -> int:
    """Run one agentdeck command in-process, echoing it as a user would type it."""
    from agentdeck.cli.main import main

    console.print(f"[bold cyan]$ agentdeck {cmd}[/]")
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


def step(title: str, story: str) -> None:
    console.print(Rule(f"[bold]{title}"))
    console.print(Panel(story, border_style="dim"))


def traffic(
    ref: str, n: int, seed: int, *, halfway: Callable[[], None] | None = None
) -> dict[str, Any]:
    """``n`` customer messages to ``ref`` (resolved through the registry, so the runs are
    stamped with the production deployment), with a progress bar. Returns what happened."""
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
        sink=EvaluatingSink(store, online),
        resolver=CachingResolver(Registry(store)),
        env="production",
    )
    agent = Registry(store).resolve(ref)
    rng = random.Random(seed)
    failed: list[str] = []
    ran: list[str] = []
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:  # fmt: skip
        task = bar.add_task(f"production traffic on {agent.name}@{agent.version}", total=n)
        for i in range(n):
            if halfway is not None and i == n // 2:
                halfway()
            result = run_entrypoint(agent, customer_message(rng), paths=[HERE])
            ran.append(result.trace_id)
            if isinstance(result.output, str) and "could not send" in result.output:
                failed.append(result.trace_id)
            bar.advance(task)
    sdk.shutdown()
    # What the runs record: the store counted each run's failed tool calls as it stored them.
    from agentdeck.store import RunQuery

    mine = set(ran)
    flagged = {
        kind: {r.trace_id for r in store.find_runs(query) if r.trace_id in mine}
        for kind, query in (
            ("with_errors", RunQuery(agent_name=agent.name, has_errors=True, limit=10 * n)),
            ("denied", RunQuery(agent_name=agent.name, denied=True, limit=10 * n)),
        )
    }
    store.close()
    return {"failed": failed, **flagged}


def main() -> None:
    started = time.perf_counter()
    DB.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    os.environ["AGENTDECK_DATABASE_URL"] = URL
    os.environ.setdefault("AGENTDECK_ACTOR", "demo:alice")
    os.chdir(HERE)
    sys.path.insert(0, str(HERE))
    from support_bot import shop

    shop.PROVIDER.reset()

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
    traffic("support-bot@production", RUNS_PER_PHASE, seed=1)
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
    agentdeck("promote support-bot@2 --to production")

    step(
        "5. Production traffic on v2",
        "v2 went out before the provider rolled lookup_order 2.0 out in production: "
        "production still answers with `email`, v2 looks for `customer_email`, and its refund confirmations "
        "go out without a recipient. Halfway through, the provider rolls 2.0 out and the responses change shape.",
    )
    moments: dict[str, str] = {}

    def provider_rolls_out() -> None:
        # The incident: a whole second while v2 is in production and still broken.
        at = math.ceil(time.time())
        moments["incident"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))
        time.sleep(at - time.time() + 0.2)
        shop.PROVIDER.roll_out("2")
        console.print(
            "[yellow]tool provider: lookup_order API 2.0 rolled out in production "
            "(email -> customer_email)[/]"
        )

    seen = traffic("support-bot@production", RUNS_PER_PHASE, seed=2, halfway=provider_rolls_out)
    failed_mail = set(seen["failed"])
    console.print(
        f"{len(failed_mail)} v2 runs told the customer the confirmation e-mail failed; "
        f"{len(failed_mail & seen['with_errors'])} of them record the failed tool call, "
        f"{len(failed_mail & seen['denied'])} denied by the e-mail policy (no recipient); "
        f"{len(seen['with_errors'] - failed_mail)} other runs had a tool call fail:"
    )
    agentdeck("runs --agent support-bot --version 2 --env production --has-errors --limit 5")

    step(
        "6. Monitoring",
        "The window since v2 compared with v1's production baseline: behavioural drift and "
        "tool API drift, named. The alert rules fire; online scores show the broken e-mails.",
    )
    agentdeck("monitor --agent support-bot@2 --env production --window 1h --baseline v1-production")
    agentdeck("monitor --rules alerts.yaml")
    agentdeck("alerts")
    agentdeck("scores support-bot --version 2")
    agentdeck("cost --by version --agent support-bot --env production")  # what each version spent
    agentdeck("diff support-bot@1 support-bot@2")  # ends with the cost per run of each

    step(
        "7. Roll back",
        "One command puts the last known-good version back; `at` answers what was running "
        "when the incident happened.",
    )
    agentdeck(
        "rollback support-bot --env production --reason 'refund confirmations broken after lookup_order change'"
    )
    agentdeck("history support-bot --env production")
    agentdeck(f"at support-bot --env production --time {moments['incident']}")
    agentdeck("audit verify")

    elapsed = time.perf_counter() - started
    bad = seen["failed"][0] if seen["failed"] else "RUN_ID"
    console.print(Rule("[bold]Explore further"))
    console.print(
        f"The demo's store is {_shown(DB)} ({elapsed:.1f} s). Point the CLI at it:\n\n"
        f"  export AGENTDECK_DATABASE_URL={URL}\n"
        "  .venv/bin/agentdeck runs --agent support-bot --env production\n"
        "  .venv/bin/agentdeck runs --agent support-bot --has-errors   # runs with a failed tool call\n"
        f"  .venv/bin/agentdeck trace {bad}        # a v2 run whose confirmation e-mail failed\n"
        f"  .venv/bin/agentdeck rca {bad}\n"
        "  .venv/bin/agentdeck diff support-bot@1 support-bot@2\n"
        "  .venv/bin/agentdeck history support-bot --env production\n"
        "  .venv/bin/agentdeck policy simulate examples/support-bot/policy.yaml --agent support-bot"
        "   # edit the rules, see what they would change\n"
        "  .venv/bin/agentdeck keys create --name me --scope admin   # the UI and API need a key\n"
        "  .venv/bin/agentdeck serve                 # the web UI on http://127.0.0.1:8600/ui"
    )


if __name__ == "__main__":
    main()
