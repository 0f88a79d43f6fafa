"""Write docs/configuration.md, the table of every AGENTDECK_* variable, from the catalogue in
src/agentdeck/settings/env.py. ``--check`` writes nothing and exits 1 when the file is stale.

    PYTHONPATH=src python scripts/gen_settings_doc.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

from agentdeck.settings.doc import render

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC}: stale; run scripts/gen_settings_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
