"""Pages of a list for HTML pages: a page number past the end shows the last page."""

from __future__ import annotations


def paginate(stmt, page: int, per_page: int):
    """`db.paginate` of `stmt`, with an out-of-range `page` moved to the last page (so
    "Page 999 of 2" never happens); `page.page` is the page really shown."""
    from app.extensions import db

    result = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    if result.total and page > result.pages:
        result = db.paginate(stmt, page=result.pages, per_page=per_page, error_out=False)
    return result
