"""A daily log printed as PDF by WeasyPrint, from the HTML of daily_logs/print.html.
Nothing is fetched while printing (no images, fonts or style sheets from a URL): the
template carries its own styles, and a URL in a log's text stays text."""

from __future__ import annotations


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"a daily log's PDF fetches nothing ({url[:60]!r})")


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=None, url_fetcher=_no_fetch).write_pdf()
