"""Which routes act within the request's project, and which are global (with the reason).

Every authenticated route that is in neither table serves the default project only: a key of
another project (or an all-projects key that chose one) is refused there with 403, so a route
added without thinking about projects fails closed instead of reading across them.
``tests/server/test_project_routes.py`` enumerates ``app.routes`` and checks each route
against these tables.
"""

from __future__ import annotations

__all__ = ["GLOBAL", "SCOPED"]

#: Routes that read and write only the principal's project: lists are filtered, a record of
#: another project is not found (404), and writes land in the principal's project.
SCOPED = frozenset({
    # runs: list, one run (id or prefix), its graph, rca, search (q=), export, feedback
    "GET /api/v1/runs",
    "GET /api/v1/runs/{run_id}",
    "GET /api/v1/runs/{run_id}/graph",
    "GET /api/v1/runs/{run_id}/rca",
    "GET /api/v1/runs/{run_id}/feedback",
    "POST /api/v1/runs/{run_id}/feedback",
    "GET /api/v1/export",
    # ingest: a batch lands in the key's project; another project's run or agent is refused
    "POST /api/v1/ingest",
    "POST /v1/traces",
    # agents and policies: names owned by one project
    "GET /api/v1/agents",
    "POST /api/v1/agents",
    "GET /api/v1/agents/{name}/versions",
    "GET /api/v1/agents/{ref}",
    "GET /api/v1/resolve",
    "GET /api/v1/diff",
    "POST /api/v1/policies",
    "GET /api/v1/policies/{name}/versions",
    "GET /api/v1/policies/{name}/{version}",
    "GET /api/v1/policies/{ref}",
    # deployments: of the project's agents; the envs page shows the project's agents
    "POST /api/v1/deployments/promote",
    "POST /api/v1/deployments/rollback",
    "POST /api/v1/deployments/mark",
    "GET /api/v1/deployments/history",
    "GET /api/v1/deployments/at",
    "GET /api/v1/envs",
    "GET /ui/envs",
    "GET /ui/envs/plan",
    # monitors and alerts: of the project's agents (in default also of unregistered ones)
    "GET /api/v1/baselines",
    "GET /api/v1/baselines/{name}",
    "POST /api/v1/baselines",
    "GET /api/v1/monitors/window",
    "GET /api/v1/monitors/series",
    "GET /ui/monitors",
    "GET /api/v1/findings",
    "POST /api/v1/runs/{run_id}/check",
    "GET /api/v1/alerts",
    "GET /api/v1/alerts/{alert_id}",
    "POST /api/v1/alerts/{alert_id}/ack",
    "POST /api/v1/alerts/{alert_id}/resolve",
    # canaries: of the project's agents
    "POST /api/v1/canaries",
    "GET /api/v1/canaries/{name}",
    "POST /api/v1/canaries/{name}/{action}",
    "GET /ui/canary/{name}",
    "POST /ui/canary/{name}/{action}",
    # replay reports and eval results: of the project's agents; scores: of its runs
    "GET /api/v1/replays",
    "GET /api/v1/replays/{report_id}",
    "GET /api/v1/evals",
    "GET /api/v1/evals/compare",
    "GET /api/v1/evals/{result_id}",
    "GET /ui/evals",
    "GET /api/v1/scores",
    # review queues: of the project's runs (a queue keeps its project in its filter)
    "GET /api/v1/queues",
    "POST /api/v1/queues",
    "GET /api/v1/queues/{queue}",
    "GET /api/v1/queues/{queue}/next",
    "POST /api/v1/queues/{queue}/labels",
    "POST /api/v1/queues/{queue}/skip",
    "GET /ui/queues",
    "GET /ui/queues/{queue}",
    "GET /ui/queues/{queue}/items/{position}",
    "POST /ui/queues/{queue}/label",
    "POST /ui/queues/{queue}/skip",
    # cost: summed over the project's runs
    "GET /api/v1/cost",
    # the web UI: the runs list and a run's page
    "GET /ui/runs",
    "GET /ui/runs/{run_id}",
    "POST /ui/runs/{run_id}/feedback",
    "GET /ui/registry",
    "GET /ui/registry/{name}",
    "GET /ui/alerts",
    # policies' tools: of the project's policies and agents (simulate: its runs)
    "POST /api/v1/policies/{ref}/eval",
    "POST /api/v1/policies/simulate",
    "GET /api/v1/policies/{ref}/tests",
    "POST /api/v1/policies/{ref}/tests",
    "GET /api/v1/agents/{ref}/policy-coverage",
    # approvals: of the project's agents (in default also of unregistered ones)
    "GET /api/v1/approvals",
    "POST /api/v1/approvals",
    "GET /api/v1/approvals/{approval_id}",
    "POST /api/v1/approvals/{approval_id}/approve",
    "POST /api/v1/approvals/{approval_id}/reject",
    "GET /ui/approvals",
    "POST /ui/approvals/{approval_id}/approve",
    "POST /ui/approvals/{approval_id}/reject",
    # keys: a project's admin sees and makes its project's keys
    "GET /api/v1/keys",
    "POST /api/v1/keys",
    "DELETE /api/v1/keys/{id_or_name}",
    # stored suites: of the project's runs (a name is owned by the project of its first case)
    "GET /api/v1/suites",
    "GET /api/v1/suites/{suite}",
    "POST /api/v1/suites/{suite}/cases",
    "GET /ui/runs/{run_id}/suite",
    "POST /ui/runs/{run_id}/suite",
    # erasure: deletes only the project's runs; the audit entry names the project
    "DELETE /api/v1/runs",
    # the audit log: the project's entries and the server-wide ones (verify: GLOBAL)
    "GET /api/v1/audit/log",
    # running a replay: a run and an agent of the project; the replayed run lands in it
    "POST /api/v1/replays",
})  # fmt: skip

#: Routes that touch no project's records, with the reason.
GLOBAL = {
    "GET /healthz": "liveness: no stored record",
    "GET /ui/login.js": "the sign-in page's script: static",
    "GET /api/openapi.json": "the API's schema: no stored record",
    "POST /api/v1/lint": "lints the spec in the body: no stored record",
    "GET /api/v1/envs/{env}/gates": "the promotion path's gates are server-wide (changing them "
    "stays with the default project's admins)",
    "GET /api/v1/audit/verify": "verifies the one chain of every project: ok, the number of "
    "entries and where it breaks; a problem's text (it can name a deployment) only for keys "
    "of default or all-projects keys",
    "GET /metrics": "the server's process-wide metrics (labelled by agent, every project): "
    "read only with a key of default or an all-projects key (others 403 naming why)",
    "PUT /api/v1/envs/path": "the promotion path is server-wide: changed only by an admin key "
    "of the default project or an all-projects key (others get 403 naming why)",
    "PUT /api/v1/envs/{env}/gates": "gate settings are server-wide: changed only by an admin "
    "key of the default project or an all-projects key (others get 403 naming why)",
    "GET /api/v1/cost/price/{model:path}": "the price table: no project's record",
    "POST /ui/session": "signs a key in: the session is the key's",
    "POST /ui/logout": "signs the session out: the session is the key's",
    "POST /ui/project": "the switcher: remembers an all-projects key's choice in a cookie",
    "GET /": "redirects to the web UI",
    "GET /ui": "redirects to the runs page",
    "GET /static/{name}": "the UI's vendored scripts and styles",
    "GET /api/v1/projects": "the projects themselves (an all-projects admin key lists all)",
    "POST /api/v1/projects": "creates a project (an all-projects admin key only)",
}
