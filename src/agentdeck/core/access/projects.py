"""Projects: the tenants of one server, each owning agents, policies, runs and API keys.

A project's name is a lowercase slug (``team-a``). The project ``default`` always exists: the
migration that introduced projects moved every stored record into it, and whatever names no
project (an old key, the CLI without ``--project``) acts there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from agentdeck.core.errors import InputError

__all__ = ["DEFAULT_PROJECT", "SERVER_WIDE", "ProjectRecord", "check_project_name"]

DEFAULT_PROJECT = "default"
#: The project of an audit entry about no project's records (the promotion path, gate
#: settings): every project's audit log shows it. Not a project name (:func:`check_project_name`).
SERVER_WIDE = "*"
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")


@dataclass(frozen=True)
class ProjectRecord:
    name: str
    created_at: datetime
    created_by: str


def check_project_name(name: str, source: str = "project") -> str:
    """``name`` when it is a project name (lowercase letters, digits and inner ``-``; at most
    60), else an :class:`InputError` naming ``source``."""
    if not _SLUG.match(name):
        raise InputError(
            f"{source}: {name!r} is not a project name (lowercase letters, digits and -, "
            "starting and ending with a letter or digit; at most 60)"
        )
    return name
