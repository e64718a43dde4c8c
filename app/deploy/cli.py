"""`flask check-deploy`: prints a ✓ or ✗ line per check (the setting, what is wrong and
what to set) and exits 1 on any ✗ (app/deploy/checks.py)."""

from __future__ import annotations

import click


@click.command("check-deploy")
@click.option("--no-services", is_flag=True, help="Only the settings: skip PostgreSQL, Redis and the storage probe.")
def check_deploy_command(no_services):
    """Validate the production configuration in this environment (run it with production's variables)."""
    from app.deploy.checks import check_deploy

    findings = check_deploy(services=not no_services)
    for finding in findings:
        click.echo(finding.line())
    problems = [finding for finding in findings if not finding.ok]
    if problems:
        click.echo(f"check-deploy: {len(problems)} problem(s): {', '.join(f.setting for f in problems)}")
        raise SystemExit(1)
    click.echo(f"check-deploy: all {len(findings)} checks passed")
