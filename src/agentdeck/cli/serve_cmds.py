"""``agentdeck serve`` (the API, OTLP receiver and web UI) and ``agentdeck keys`` (API keys)."""

from __future__ import annotations

import os
import socket
import sys
from typing import TYPE_CHECKING, Annotated

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
    print_json,
    project_in,
)

if TYPE_CHECKING:  # uvicorn, the server (FastAPI) and the store load inside the commands
    from agentdeck.core.access.records import ApiKeyRecord

keys_app = typer.Typer(no_args_is_help=True, add_completion=False)


def register(app: typer.Typer) -> None:
    app.command(
        "serve",
        help="Start the server: REST API, OTLP/HTTP receiver (/v1/traces) and web UI (/ui).",
    )(serve_cmd)
    app.add_typer(keys_app, name="keys", help="Create, list and revoke the server's API keys.")


#: What ``serve`` imports from the ``[server]`` extra (uvicorn, FastAPI and its templates).
SERVER_MODULES = ("uvicorn", "fastapi", "jinja2")


def require_server_extra() -> None:
    """Refuse, in one line (exit 2), when the ``[server]`` extra is not installed."""
    import importlib

    from agentdeck.core.errors import InputError

    for name in SERVER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            raise InputError(
                f"serve: the server is an extra ({name} is not installed): "
                "pip install 'agentdeck[server]'"
            ) from None


def serve_cmd(
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on (0.0.0.0 for every one).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port.")] = 8600,
    db: DbOpt = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="uvicorn log level (info, warning, ...).")
    ] = "info",
    alert_rules: Annotated[
        str | None,
        typer.Option(
            "--alert-rules",
            help="Alert rules YAML to evaluate in the server (AGENTDECK_ALERT_RULES).",
        ),
    ] = None,
    alert_interval: Annotated[
        float | None,
        typer.Option(
            "--alert-interval",
            help="Seconds between alert rule evaluations (AGENTDECK_ALERT_INTERVAL, default 60).",
        ),
    ] = None,
    metrics_open: Annotated[
        bool,
        typer.Option(
            "--metrics-open", help="Serve GET /metrics without a key (AGENTDECK_METRICS_OPEN=1)."
        ),
    ] = False,
    behind_proxy: Annotated[
        bool,
        typer.Option(
            "--behind-proxy",
            help="A reverse proxy you run sets X-Forwarded-For/-Proto: believe them for the "
            "client address (auth rate limit) and https (Secure cookie) "
            "(AGENTDECK_BEHIND_PROXY=1; the proxy's address in FORWARDED_ALLOW_IPS).",
        ),
    ] = False,
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the bound address and settings as JSON (one document on stdout), then serve.",
        ),
    ] = False,
) -> None:
    require_server_extra()
    import uvicorn

    from agentdeck.core.errors import InputError
    from agentdeck.monitor.alert_rules import load_alert_config

    if db:
        os.environ["AGENTDECK_DATABASE_URL"] = db
    if alert_rules:
        load_alert_config(alert_rules)  # a bad file fails here, before listening
        os.environ["AGENTDECK_ALERT_RULES"] = os.path.abspath(alert_rules)
    if alert_interval is not None:
        if alert_interval <= 0:
            raise InputError("--alert-interval: must be positive")
        os.environ["AGENTDECK_ALERT_INTERVAL"] = str(alert_interval)
    if metrics_open:
        os.environ["AGENTDECK_METRICS_OPEN"] = "1"
    if behind_proxy:
        os.environ["AGENTDECK_BEHIND_PROXY"] = "1"
    from agentdeck.settings.env import ServerEnv, read
    from agentdeck.tracing.sdk.redaction import config_from_env

    read(ServerEnv)  # a bad AGENTDECK_* value fails here, naming it, before listening
    config_from_env()
    store = get_store(db)  # open (and migrate) now, so a bad URL fails before listening
    database = store.url
    store.close()
    config = uvicorn.Config(
        "agentdeck.server.asgi:app_from_env",
        factory=True,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        proxy_headers=behind_proxy,  # otherwise X-Forwarded-* from any peer is ignored
    )
    sock = _listen(host, port)  # bound here, so the address printed is the one served
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    url = f"http://{shown}:{bound_port}"
    if json:
        print_json(
            {
                "url": url,
                "host": bound_host,
                "port": bound_port,
                "ui": f"{url}/ui",
                "api": f"{url}/api/v1",
                "otlp": f"{url}/v1/traces",
                "database": database,
                "alert_rules": _alert_rules_setting(),
                "alert_interval": alert_interval,
                "metrics_open": metrics_open,
                "behind_proxy": behind_proxy,
                "log_level": log_level,
            }
        )
        sys.stdout.flush()
    else:
        err_console.print(
            f"agentdeck serving on {url}  (UI at {url}/ui, OTLP at /v1/traces)",
            markup=False,
            soft_wrap=True,
        )
    uvicorn.Server(config).run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: a free one); a taken or foreign address is
    one line naming the options, before anything is served."""
    from agentdeck.core.errors import InputError

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"--host {host} --port {port}: cannot listen there ({reason})") from None
    sock.set_inheritable(True)
    return sock


def _key_json(r: ApiKeyRecord) -> dict[str, object]:
    from agentdeck.records.serialize import key_json

    return key_json(r)


@keys_app.command("create", help="Create an API key; it is shown once and stored hashed.")
def keys_create_cmd(
    name: Annotated[str, typer.Option("--name", help="Unique name; recorded as the actor.")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", "-s", help="ingest, read, deploy or admin (repeat or a,b)."),
    ],
    agents: Annotated[
        list[str] | None,
        typer.Option(
            "--agents",
            help="Bind the key to agent name patterns, e.g. 'support-*' (repeat or a,b); "
            "it then acts only on matching agents.",
        ),
    ] = None,
    project: ProjectOpt = None,
    all_projects: Annotated[
        bool,
        typer.Option(
            "--all-projects",
            help="An admin key of the default project that may act in every project "
            "(it names one per request: header X-Agentdeck-Project).",
        ),
    ] = False,
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.registry.keys import create_key

    store = get_store(db)
    new = create_key(
        store, name, scope, actor_name(actor), agents or (),
        project=project_in(store, project), all_projects=all_projects,
    )  # fmt: skip
    if json:
        print_json({**_key_json(new.record), "key": new.token})
        return
    bound = f", agents {', '.join(new.record.agents)}" if new.record.agents else ""
    if new.record.project != "default":
        bound += f", project {new.record.project}"
    if new.record.all_projects:
        bound += ", all projects"
    console.print(
        f"created key [bold]{escape(name)}[/] ({', '.join(new.record.scopes)}{escape(bound)}), "
        f"id {new.record.id}"
    )
    console.print("store it now; it is not shown again:")
    typer.echo(new.token)


@keys_app.command("list", help="List a project's API keys (never their secrets).")
def keys_list_cmd(db: DbOpt = None, project: ProjectOpt = None, json: JsonOpt = False) -> None:
    store = get_store(db)
    in_project = project_in(store, project)
    keys = [k for k in store.list_api_keys() if k.project == in_project]
    if json:
        print_json([_key_json(k) for k in keys])
        return
    from rich.table import Table

    t = Table(title=f"API keys ({len(keys)})")
    for col in ("id", "name", "scopes", "agents", "created", "by", "revoked"):
        t.add_column(col)
    for k in keys:
        t.add_row(
            k.id,
            escape(k.name),
            ", ".join(k.scopes),
            escape(", ".join(k.agents)) or "all",
            fmt_time(k.created_at),
            escape(k.created_by),
            fmt_time(k.revoked_at) if k.revoked_at else "-",
        )
    console.print(t)


@keys_app.command("revoke", help="Revoke an API key by id or name (takes effect at once).")
def keys_revoke_cmd(
    key: Annotated[str, typer.Argument(help="Key id or name.", show_default=False)],
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.registry.keys import revoke_key

    k = revoke_key(get_store(db), key, actor_name(actor))
    if json:
        print_json(_key_json(k))
        return
    console.print(f"revoked key [bold]{escape(k.name)}[/] ({k.id})")


def _alert_rules_setting() -> str | None:
    """The alert rules file the server will read (``AGENTDECK_ALERT_RULES``)."""
    from agentdeck.settings.env import ServerEnv, read

    return read(ServerEnv).alert_rules
