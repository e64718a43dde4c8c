"""Operations jobs: the alert evaluator (every minute, queue `default`) and the Slack
webhook's POST (queue `notifications`)."""

from __future__ import annotations

from workers.base import job


@job
def evaluate() -> dict:
    from app.operations import alerts

    outcome = alerts.evaluate()
    return {"holding": [c.key for c in outcome.holding], "opened": len(outcome.opened), "cleared": len(outcome.cleared)}


@job
def send_slack(text: str) -> bool:
    """One message to the incoming webhook; a failure is logged, not raised (no retry)."""
    from flask import current_app

    from app.operations.channels import post_slack

    url = current_app.config.get("SLACK_WEBHOOK_URL")
    return bool(url) and post_slack(url, text)
