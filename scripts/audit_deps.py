"""Dependency vulnerability audit: fails on any known vulnerability in requirements.txt.

Packages the vulnerability service cannot look up are listed as not audited (a warning,
not a failure), and so is an unreachable service — CI must not go red because a third
party is down, but it must go red on a real finding."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))


def main() -> int:
    command = [
        os.path.join(ROOT, ".venv", "bin", "pip-audit"),
        "-r",
        os.path.join(ROOT, "requirements.txt"),
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"WARNING: the dependency audit could not run: {exc}")
        return 0
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print("WARNING: the dependency audit could not run:", (result.stderr or result.stdout).strip()[-500:])
        return 0
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d["name"] for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    print(f"dependency audit: {audited} audited, {len(vulnerable)} vulnerable, {len(skipped)} not found by the service")
    if skipped:
        print("  not audited: " + ", ".join(sorted(skipped)))
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
