"""Table definitions (SQLAlchemy Core). The schema itself is created by Alembic migrations in
``store/migrations``; these objects describe it for queries, and a test checks they agree."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

agent_versions = Table(
    "agent_versions",
    metadata,
    Column("digest", String(80), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spec", Text, nullable=False),
    Column("prompt_digest", String(80), nullable=False),
    Column("policy", String(120)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    # the owning project (migration 0021_projects); existing rows: default
    Column("project", String(60), nullable=False, server_default="default"),
    UniqueConstraint("name", "version", name="uq_agent_versions_name_version"),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("digest", String(80), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spec", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    # the owning project (migration 0021_projects); existing rows: default
    Column("project", String(60), nullable=False, server_default="default"),
    UniqueConstraint("name", "version", name="uq_policy_versions_name_version"),
)

environments = Table(
    "environments",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("gates", Text, nullable=False),
    Column("disabled", Text, nullable=False),
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("agent_name", String(100), nullable=False),
    Column("env", String(60), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("agent_digest", String(80), nullable=False),
    Column("agent_version", Integer, nullable=False),
    Column("policy_digest", String(80)),
    Column("action", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("previous_id", String(32)),
    Column("health", String(10), nullable=False),
    Column("forced", Boolean, nullable=False),
    UniqueConstraint("agent_name", "env", "seq", name="uq_deployments_agent_env_seq"),
)

env_heads = Table(
    "env_heads",
    metadata,
    Column("agent_name", String(100), primary_key=True),
    Column("env", String(60), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("deployment_id", String(32), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(60), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("project", String(60), nullable=False, server_default="default"),
    Index("ix_audit_log_project", "project", "seq"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# -- tracing (migration 0002) ---------------------------------------------------------------

runs = Table(
    "runs",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("agent_name", String(100)),
    Column("agent_version", Integer),
    Column("agent_digest", String(80)),
    Column("env", String(60)),
    Column("deployment_id", String(32)),
    Column("start_ns", BigInteger, nullable=False),
    Column("end_ns", BigInteger),
    Column("status", String(10), nullable=False),
    Column("error", Text),
    Column("input", Text),
    Column("output", Text),
    Column("root_span_id", String(16)),
    Column("attributes", Text),
    # the run's summary (migration 0010_run_summary): counted from its spans at ingest
    Column("tool_errors", Integer, nullable=False, server_default="0"),
    Column("denied_calls", Integer, nullable=False, server_default="0"),
    Column("outcome", String(10)),
    Column("outcome_score", Float),
    Column("outcome_reason", Text),
    # sessions and users (migration 0013_run_sessions): from the SDK or any span's attributes
    Column("session_id", String(200)),
    Column("user_id", String(200)),
    # the canary arm the run was assigned to (migration 0020_canary): stable | candidate
    Column("canary_arm", String(12)),
    # tokens and cost (migration 0016_run_cost): summed from its spans at ingest (sql_cost)
    Column("input_tokens", BigInteger, nullable=False, server_default="0"),
    Column("output_tokens", BigInteger, nullable=False, server_default="0"),
    Column("total_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cost_usd", Float, server_default="0"),
    Column("unpriced_calls", Integer, nullable=False, server_default="0"),
    # the owning project (migration 0021_projects); existing rows: default
    Column("project", String(60), nullable=False, server_default="default"),
)
# Every list of runs is an index range read newest first (migration 0012_run_indexes): one
# index per filter, each ending in the list's order (start_ns, trace_id), the run id breaking
# ties so a cursor is exact; the (rare) runs with failed or denied tool calls in partial indexes
# that hold only those rows.
_LIST_KEY = (runs.c.start_ns, runs.c.trace_id)
Index("ix_runs_start", *_LIST_KEY)
# one project's runs (migration 0021_projects)
Index("ix_runs_project_start", runs.c.project, *_LIST_KEY)
Index("ix_runs_agent_start", runs.c.agent_name, *_LIST_KEY)
Index("ix_runs_agent_version_start", runs.c.agent_name, runs.c.agent_version, *_LIST_KEY)
Index("ix_runs_digest_start", runs.c.agent_digest, *_LIST_KEY)
Index("ix_runs_env_start", runs.c.env, *_LIST_KEY)
Index("ix_runs_status_start", runs.c.status, *_LIST_KEY)
Index("ix_runs_outcome_start", runs.c.outcome, *_LIST_KEY)
# sessions and users (migration 0013_run_sessions)
Index("ix_runs_session_start", runs.c.session_id, runs.c.start_ns)
Index("ix_runs_user_start", runs.c.user_id, runs.c.start_ns)
# a canary's runs, both arms (migration 0020_canary)
Index("ix_runs_deployment_start", runs.c.deployment_id, runs.c.start_ns)
Index(
    "ix_runs_tool_errors_start",
    *_LIST_KEY,
    sqlite_where=runs.c.tool_errors > 0,
    postgresql_where=runs.c.tool_errors > 0,
)
Index(
    "ix_runs_denied_start",
    *_LIST_KEY,
    sqlite_where=runs.c.denied_calls > 0,
    postgresql_where=runs.c.denied_calls > 0,
)

# The tools each run called, with the run's start (migration 0012_run_indexes): the tool filter
# of the runs list reads this index range instead of spans. Written with the spans, the start
# kept equal to the run's by :mod:`agentdeck.store.sql_traces`.
run_tools = Table(
    "run_tools",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("tool_name", String(128), primary_key=True),
    Column("start_ns", BigInteger, nullable=False),
)
Index("ix_run_tools_tool_start", run_tools.c.tool_name, run_tools.c.start_ns, run_tools.c.trace_id)

spans = Table(
    "spans",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("span_id", String(16), primary_key=True),
    Column("parent_id", String(16)),
    Column("seq", Integer, nullable=False),
    Column("name", String(300), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("tool_name", String(128)),
    Column("start_ns", BigInteger, nullable=False),
    Column("end_ns", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),
    Column("error", Text),
    Column("inputs", Text),
    Column("outputs", Text),
    Column("attributes", Text),
    Column("links", Text),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("usage", Text),
    Column("cost_usd", Float),  # an LLM call's USD, priced at ingest (migration 0016_run_cost)
)
# The spans that report usage, covered (migration 0016_run_cost): a run's token and cost sums.
_has_usage = spans.c.input_tokens.is_not(None)
Index(
    "ix_spans_usage",
    spans.c.trace_id,
    spans.c.input_tokens,
    spans.c.output_tokens,
    spans.c.cost_usd,
    sqlite_where=_has_usage,
    postgresql_where=_has_usage,
)
# Failed tool calls by trace (migration 0010_run_summary): what a run's counts are made of.
_failed_tool = (spans.c.kind == "tool") & (spans.c.status == "error")
Index(
    "ix_spans_failed_tools",
    spans.c.trace_id,
    sqlite_where=_failed_tool,
    postgresql_where=_failed_tool,
)

# -- server: API keys (migration 0006_server) --------------------------------------------------

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", String(200), nullable=False),  # comma-separated scope names
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("agents", String(200)),  # agent name patterns, comma-separated (0011); NULL: all
    # the owning project (migration 0021_projects); existing rows: default
    Column("project", String(60), nullable=False, server_default="default"),
    # an admin key of default that may act in every project (0021_projects)
    Column("all_projects", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("name", name="uq_api_keys_name"),
)

Index("ix_api_keys_project", api_keys.c.project)
Index("ix_agent_versions_project", agent_versions.c.project, agent_versions.c.name)
Index("ix_policy_versions_project", policy_versions.c.project, policy_versions.c.name)

# -- projects (migration 0021_projects): the tenants that own agents, policies, runs and keys

projects = Table(
    "projects",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
)

# -- server: UI sessions (migration 0011_sessions_scopes) ------------------------------------

ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)
Index("ix_ui_sessions_key_id", ui_sessions.c.key_id)

# -- each capability's own tables, on this same metadata ------------------------------------
# (policy 0003_policy, monitor 0004_monitor, evals 0005_evals, replay 0008_replay)
from agentdeck.store import tables_annotations as _tables_annotations  # noqa: E402,F401
from agentdeck.store import tables_canary as _tables_canary  # noqa: E402,F401
from agentdeck.store import tables_evals as _tables_evals  # noqa: E402,F401
from agentdeck.store import tables_feedback as _tables_feedback  # noqa: E402,F401
from agentdeck.store import tables_monitor as _tables_monitor  # noqa: E402,F401
from agentdeck.store import tables_policy as _tables_policy  # noqa: E402,F401
from agentdeck.store import tables_replay as _tables_replay  # noqa: E402,F401
from agentdeck.store import tables_search as _tables_search  # noqa: E402,F401
