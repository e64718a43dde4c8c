"""Static files complete: every static file a template references exists."""

from __future__ import annotations

import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
PATTERN = re.compile(r"url_for\('static', filename='([^']+)'\)")


def main() -> int:
    missing = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "templates")):
        for name in files:
            with open(os.path.join(folder, name)) as handle:
                text = handle.read()
            for ref in PATTERN.findall(text):
                if not os.path.isfile(os.path.join(ROOT, "static", ref)):
                    missing.append(f"{name}: static/{ref}")
    for item in missing:
        print("  missing", item)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
