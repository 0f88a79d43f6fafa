"""The one error tree of agentdeck.

::

    AgentDeckError
    ├── InputError                 bad user input (exit code 2, HTTP 400/422)
    │   ├── SpecError              a spec/policy/suite file that is malformed or fails its schema
    │   ├── UnresolvedReferenceError        a reference that does not parse or resolves to nothing
    │   └── UnknownEnvironmentError      an environment outside the promotion path
    ├── ConflictError              a compare-and-set lost, or an immutable record differs (HTTP 409)
    │   └── OwnedElsewhere         a name another project owns (exit code 2, HTTP 409)
    ├── GateBlocked                a promotion refused by a gate (exit code 1, HTTP 409)
    ├── AuditError                 the audit chain does not verify
    ├── PolicyDenied               a tool call denied by policy (raised into the agent's code)
    └── StoreError                 the store is unreachable or misconfigured

Errors carry their context (file, field, reference, run id) in the message, so the CLI prints
one line and the server one body.
"""

from __future__ import annotations


class AgentDeckError(Exception):
    """Root of every error agentdeck raises on purpose."""

    exit_code: int = 1
    http_status: int = 500


class InputError(AgentDeckError):
    """The user gave something agentdeck cannot accept."""

    exit_code = 2
    http_status = 400


class SpecError(InputError):
    """A spec file (agent, policy, eval suite, alert rules) is malformed or invalid.

    ``source`` names the file (or request part) and ``field`` the dotted path inside it.
    """

    def __init__(self, source: str, field: str | None, reason: str) -> None:
        self.source = source
        self.field = field
        self.reason = reason
        where = f"{source}: {field}" if field else source
        super().__init__(_one_line(f"{where}: {reason}"))


def _one_line(text: str) -> str:
    """User-facing errors are one line: control characters from the input are escaped."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


class UnresolvedReferenceError(InputError):
    """A reference (``name@N``, ``name@sha256:...``, ``name@env``) that is malformed or unknown."""

    http_status = 404

    def __init__(self, ref: str, reason: str) -> None:
        self.ref = ref
        self.reason = reason
        super().__init__(f"{ref}: {reason}")


class UnknownEnvironmentError(InputError):
    """An environment that is not on the promotion path."""

    def __init__(self, env: str, reason: str) -> None:
        self.env = env
        super().__init__(f"environment {env!r}: {reason}")


class ConflictError(AgentDeckError):
    """A concurrent writer won a compare-and-set, or a write contradicts stored state."""

    http_status = 409


class OwnedElsewhere(ConflictError):
    """An agent or policy name that another project owns: names are unique on a server, and
    the project that registered a name first owns it."""

    exit_code = 2

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(
            _one_line(
                f"name: {kind} {name!r} belongs to another project (names are unique "
                "on a server; choose another name)"
            )
        )


class GateBlocked(AgentDeckError):
    """A promotion was refused by one or more gates."""

    http_status = 409

    def __init__(self, env: str, failures: list[tuple[str, str]]) -> None:
        self.env = env
        self.failures = failures
        detail = "; ".join(f"gate {name!r}: {reason}" for name, reason in failures)
        super().__init__(f"promotion to {env!r} blocked: {detail}")


class AuditError(AgentDeckError):
    """The audit log's hash chain does not verify."""


class PolicyDenied(AgentDeckError):
    """A tool call was denied by the agent's pinned policy. The tool did not run.

    Raised into the agent's own code on purpose, so that the agent can recover.
    """

    http_status = 403

    def __init__(self, tool: str, rules: list[str], message: str) -> None:
        self.tool = tool
        self.rules = rules
        self.message = message
        named = ", ".join(rules) if rules else "default effect"
        super().__init__(f"tool {tool!r} denied by policy ({named}): {message}")


class StoreError(AgentDeckError):
    """The store cannot be reached or is not usable."""
