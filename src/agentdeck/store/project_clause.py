"""The SQL form of "this record's agent is the project's", for lists scoped through the agent
(alerts, findings, approvals, replay reports, eval results).

An agent name belongs to the project that registered it first (``agent_versions.project``).
The default project also sees records of names no project registered and of no agent, as
before projects (:func:`agentdeck.server.project_scope.agent_visible` is the same rule for one
record). Applied in the query, so a page holds ``limit`` of the project's records.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.sql.elements import ColumnClause

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.store.tables import agent_versions

__all__ = ["agent_of_project"]


def agent_of_project(
    agent_name: ColumnClause[str] | ColumnElement[str], project: str
) -> ColumnElement[bool]:
    """Rows whose ``agent_name`` the project ``project`` sees."""
    names = agent_versions.c.name
    if project == DEFAULT_PROJECT:
        elsewhere = select(names).where(agent_versions.c.project != DEFAULT_PROJECT)
        return or_(agent_name.is_(None), agent_name.not_in(elsewhere))
    return agent_name.in_(select(names).where(agent_versions.c.project == project))
