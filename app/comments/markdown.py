"""The Markdown comments may use, rendered safely: **bold**, *italic*, lists ("- item"),
links ([text](https://…) and bare https:// addresses), @mentions — nothing else. The text
is HTML-escaped first, so no raw HTML ever passes; only http(s) links are made, opened
with rel="nofollow noopener noreferrer"."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)\"'<>]{1,500})\)")
_BARE = re.compile(r"(?<![\"'=>])\b(https?://[^\s<>\"']{1,500})")
_BOLD = re.compile(r"\*\*(?=\S)(.{1,500}?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]{1,500}?)(?<=\S)\*(?![*\w])")
MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9._-]{0,79})")


def _inline(text: str, known: set[str]) -> str:
    """One escaped line with the inline marks applied."""
    links: list[str] = []

    def keep(html: str) -> str:
        links.append(html)
        return f"\x00{len(links) - 1}\x00"

    text = _LINK.sub(
        lambda m: keep(f'<a href="{m.group(2)}" rel="nofollow noopener noreferrer">{m.group(1)}</a>'), text
    )
    text = _BARE.sub(
        lambda m: keep(f'<a href="{m.group(1)}" rel="nofollow noopener noreferrer">{m.group(1)}</a>'), text
    )
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    text = MENTION.sub(
        lambda m: f'<span class="mention">@{m.group(1)}</span>' if m.group(1).lower() in known else m.group(0), text
    )
    return re.sub(r"\x00(\d+)\x00", lambda m: links[int(m.group(1))], text)


def render(body: str, mentioned: set[str] | None = None) -> Markup:
    """`body` as safe HTML; `mentioned`: lowercase usernames to highlight."""
    known = {name.lower() for name in (mentioned or set())}
    html: list[str] = []
    in_list = False
    paragraph: list[str] = []

    def flush_paragraph():
        if paragraph:
            html.append("<p>" + "<br>".join(paragraph) + "</p>")
            paragraph.clear()

    for raw in str(body).replace("\r\n", "\n").split("\n"):
        line = str(escape(raw))
        item = re.match(r"^\s*[-*]\s+(.*)$", line)
        if item:
            flush_paragraph()
            if not in_list:
                html.append("<ul>")
                in_list = True
            html.append(f"<li>{_inline(item.group(1), known)}</li>")
            continue
        if in_list:
            html.append("</ul>")
            in_list = False
        if line.strip():
            paragraph.append(_inline(line, known))
        else:
            flush_paragraph()
    flush_paragraph()
    if in_list:
        html.append("</ul>")
    return Markup("".join(html))  # noqa: S704 - built from escaped text and fixed tags only


def mentions_in(body: str) -> list[str]:
    """The usernames mentioned in `body`, in order, once each (lowercase)."""
    seen: list[str] = []
    for match in MENTION.finditer(str(body)):
        name = match.group(1).rstrip(".").lower()
        if name not in seen:
            seen.append(name)
    return seen
