"""Audit commands: show the log, verify its hash chain (and the deployments table, and signed
checkpoints), create the signing key, and take signed checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentdeck.cli.common import (
    DbOpt,
    JsonOpt,
    ProjectOpt,
    console,
    err_console,
    escape,
    get_store,
    print_json,
    project_in,
)
from agentdeck.core.errors import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False)


KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="The Ed25519 signing key file, kept outside the database (AGENTDECK_AUDIT_KEY).",
    ),
]


def _where(seq: int) -> str:
    return f"entry {seq}" if seq > 0 else "deployments"


@app.command(
    "verify",
    help="Recompute the hash chain and check every deployment row against it; with "
    "--checkpoint, also against signed checkpoints (a rewrite, truncation or deletion after "
    "one is found). Exit 1 on any problem.",
)
def verify_cmd(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="A file of checkpoints (JSON lines) written by agentdeck audit checkpoint.",
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="The signer's public key (<key>.pub) that checkpoints must be signed with.",
        ),
    ] = None,
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.core.deploy.audit_chain import AuditProblem
    from agentdeck.registry.audit import AuditReport, verify_audit
    from agentdeck.registry.audit_sign import load_public, parse_checkpoints, signature_problem

    pinned = load_public(public_key) if public_key else None
    checkpoints = parse_checkpoints(checkpoint) if checkpoint else []
    bad_signatures: list[AuditProblem] = []
    good = []
    for cp in checkpoints:
        problem = signature_problem(cp, pinned)
        if problem is None:
            good.append(cp)
        else:
            bad_signatures.append(problem)
    found = verify_audit(get_store(db), checkpoints=good)
    report = AuditReport(
        found.entries, (*bad_signatures, *found.problems), found.deployments, len(checkpoints)
    )
    if json:
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "deployments": report.deployments,
                "checkpoints": report.checkpoints,
                "problems": [{"seq": p.seq, "problem": p.problem} for p in report.problems],
            }
        )
    elif report.ok:
        signed = f", {report.checkpoints} signed checkpoint(s)" if checkpoint else ""
        console.print(
            f"[green]audit chain verifies[/]: {report.entries} entries, "
            f"{report.deployments} deployments{signed}"
        )
        if checkpoint and pinned is None:
            console.print(
                "note: signatures checked with the key inside the checkpoint file; "
                "pass --public-key to pin the signer"
            )
    else:
        console.print(
            f"[red]audit chain BROKEN[/]: {len(report.problems)} problem(s) in {report.entries} entries"
        )
        for p in report.problems:
            console.print(f"  {_where(p.seq)}: {escape(p.problem)}")
    if not report.ok:
        raise typer.Exit(1)


@app.command(
    "keygen",
    help="Create the Ed25519 key that signs checkpoints: the private key file (0600, never "
    "overwritten) and <file>.pub beside it. Keep it away from the database's owner.",
)
def keygen_cmd(key: KeyOpt = None, json: JsonOpt = False) -> None:
    from agentdeck.registry.audit_sign import key_path, keygen

    made = keygen(key_path(key))
    if json:
        print_json(
            {"key": str(made.private), "public_key": str(made.public), "raw": made.public_hex}
        )
        return
    console.print(f"signing key written to {escape(str(made.private))} (0600)")
    console.print(f"public key: {escape(str(made.public))} ({made.public_hex[:16]}...)")


@app.command(
    "checkpoint",
    help="Sign the head of the (verified) audit chain and publish the checkpoint: appended to "
    "--out, POSTed to --webhook, or printed (one JSON line) when neither is given.",
)
def checkpoint_cmd(
    key: KeyOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Append the checkpoint to this file (JSON lines)."),
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option("--webhook", help="POST the checkpoint as JSON to this URL."),
    ] = None,
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    import orjson

    from agentdeck.registry.audit_sign import (
        append_checkpoint,
        key_path,
        load_private,
        make_checkpoint,
        post_checkpoint,
    )

    signing = load_private(key_path(key))
    cp = make_checkpoint(get_store(db), signing)
    if webhook:
        post_checkpoint(webhook, cp)
    if out:
        append_checkpoint(out, cp)
    if json:  # the checkpoint itself, indented (without --json: one line, or a note)
        print_json(cp.to_dict())
    if out or webhook:
        where = " and ".join(x for x in (str(out) if out else "", webhook or "") if x)
        err_console.print(f"checkpoint of entry {cp.seq} signed and published to {escape(where)}")
    elif not json:
        typer.echo(orjson.dumps(cp.to_dict()).decode())


@app.command(
    "log",
    help="Show a project's audit log (with the server-wide entries), newest last; "
    "--all-projects: every entry of the chain.",
)
def log_cmd(
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many of the newest entries.")
    ] = 50,
    db: DbOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
    all_projects: Annotated[
        bool, typer.Option("--all-projects", help="Every project's entries.")
    ] = False,
) -> None:
    store = get_store(db)
    if all_projects:
        if project:
            raise InputError("--all-projects: give either it or --project, not both")
        entries = store.audit_entries()[-limit:]
    else:
        entries = store.audit_log(project_in(store, project), limit)
    if json:
        from agentdeck.records.serialize import audit_entry_json

        print_json([audit_entry_json(e) for e in entries])
        return
    from rich.table import Table

    t = Table()
    for col in ("seq", "at", "project", "actor", "action", "subject", "hash"):
        t.add_column(col)
    for e in entries:
        t.add_row(
            str(e.seq), e.at[:19], e.project, escape(e.actor), e.action, escape(e.subject),
            e.hash[:12],
        )  # fmt: skip
    console.print(t)
