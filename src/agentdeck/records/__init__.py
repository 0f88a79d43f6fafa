"""Records as JSON data: one shape per record type, shared by the CLI's ``--json`` and the API.

The CLI and the server are sibling layers that may not import each other; both import
:mod:`agentdeck.records.serialize`, so the two can never disagree on a record's keys or on how
its times are written (UTC, ISO 8601).
"""
