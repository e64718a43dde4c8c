"""Dependency vulnerability audit: fails on any known vulnerability in requirements.txt.

Packages the vulnerability service cannot look up are listed as not audited (a warning,
not a failure), and so is an unreachable service — CI must not go red because a third
party is down, but it must go red on a real finding.

Each completed audit is remembered (AUDIT_CACHE, default instance/dependency-audit.json:
requirements.txt's SHA-256, the time, the verdict and its lines); `--reuse-within SECONDS`
reprints a remembered verdict for the same requirements.txt younger than that instead of
asking PyPI again (scripts/pre_deploy_check.sh's quick mode and its drill)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))


def _cache_path() -> str:
    return os.environ.get("AUDIT_CACHE") or os.path.join(ROOT, "instance", "dependency-audit.json")


def _requirements_digest() -> str:
    with open(os.path.join(ROOT, "requirements.txt"), "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _remembered(max_age: float) -> dict | None:
    try:
        with open(_cache_path()) as handle:
            found = json.load(handle)
    except (OSError, ValueError):
        return None
    fresh = time.time() - found.get("time", 0) <= max_age
    return found if fresh and found.get("requirements_sha256") == _requirements_digest() else None


def _remember(status: int, lines: list[str]) -> None:
    entry = {"requirements_sha256": _requirements_digest(), "time": time.time(), "status": status, "lines": lines}
    try:
        os.makedirs(os.path.dirname(_cache_path()), exist_ok=True)
        with open(_cache_path(), "w") as handle:
            json.dump(entry, handle)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse-within", type=float, default=0, metavar="SECONDS")
    args = parser.parse_args(argv)
    if args.reuse_within > 0:
        found = _remembered(args.reuse_within)
        if found is not None:
            age = (time.time() - found["time"]) / 60
            print(f"dependency audit: the result of {age:.0f} min ago for this requirements.txt, reused:")
            for line in found["lines"]:
                print(line)
            return found["status"]
    lines: list[str] = []
    status = audit(lines)
    for line in lines:
        print(line)
    if lines and not lines[0].startswith("WARNING"):
        _remember(status, lines)
    return status


def audit(lines: list[str]) -> int:
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
        lines.append(f"WARNING: the dependency audit could not run: {exc}")
        return 0
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        lines.append("WARNING: the dependency audit could not run: " + (result.stderr or result.stdout).strip()[-500:])
        return 0
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d["name"] for d in dependencies if d.get("skip_reason")]
    audited = len(dependencies) - len(skipped)
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            lines.append(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    lines.append(
        f"dependency audit: {audited} audited, {len(vulnerable)} vulnerable, {len(skipped)} not found by the service"
    )
    if skipped:
        lines.append("  not audited: " + ", ".join(sorted(skipped)))
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
