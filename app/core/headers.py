"""Security headers on every response: a strict content security policy (no inline
script or style), no framing, no sniffing, HSTS in production, no-store when signed in."""

from __future__ import annotations

from flask import Flask, g, request

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# rq-dashboard ships inline scripts and renders its tables with underscore templates
# (new Function); it is admin-only and same-origin.
RQ_DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)


def strict_csp() -> str:
    """STRICT_CSP, with the media bucket's origin on S3: a photo goes from the browser
    straight into the bucket (connect-src; core.storage.presigned_post), and an image is
    shown from it (img-src; the image routes redirect to a presigned URL)."""
    from app.core.storage import media_origins

    origin = media_origins()
    if not origin:
        return STRICT_CSP
    return STRICT_CSP.replace("connect-src 'self'", f"connect-src 'self' {origin}").replace(
        "img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}"
    )


def security_headers(app: Flask, response) -> None:
    headers = response.headers
    rq_dashboard = request.blueprint == "rq_dashboard"
    headers.setdefault("Content-Security-Policy", RQ_DASHBOARD_CSP if rq_dashboard else strict_csp())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if app.config["SECURE_HSTS_SECONDS"]:
        headers.setdefault(
            "Strict-Transport-Security", f"max-age={app.config['SECURE_HSTS_SECONDS']}; includeSubDomains"
        )
    if g.get("signed_in"):
        headers.setdefault("Cache-Control", "no-store")
