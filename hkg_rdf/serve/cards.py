"""Model and dataset cards (READMEs) as readable, inert HTML.

A card is Markdown with an optional YAML header. The header is read with PyYAML's safe loader
and shown as a small table (values shortened within a budget, so an alias bomb stays small);
the body is rendered by markdown-it-py (CommonMark plus tables and strikethrough, raw HTML
allowed in) and then sanitised by nh3 (the ammonia sanitiser): no script, no event handlers,
no ``javascript:`` or ``data:`` links, no styles. Nothing is fetched on the reader's behalf:
images become links to them (Markdown images) or their alt text (HTML ``<img>`` loses its
``src``). Links relative to the repository go to the file on the Hub. A card longer than
``limit`` characters is rendered up to there and says it was cut.
"""

from __future__ import annotations

import re
from functools import cache
from html import escape
from urllib.parse import urljoin

import nh3
import yaml
from markdown_it import MarkdownIt

CARD_LIMIT = 200_000  # characters rendered; the full text stays in the data document
HEADER_LIMIT = 20_000  # characters of YAML header parsed
_HEADER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)(?:\r?\n)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
TAGS = (set(nh3.ALLOWED_TAGS) - {"map", "area"}) | {"input"}
ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"alt", "title", "width", "height"},  # no src: nothing is fetched
    "td": {"align", "colspan", "rowspan"}, "th": {"align", "colspan", "rowspan"}, "input": {"type", "checked", "disabled"},
    "ol": {"start"}, "code": {"class"}, "details": {"open"},
}


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False, "maxNesting": 20}).enable(["table", "strikethrough"])

    def image(renderer, tokens, index, options, env):
        token = tokens[index]
        alt = escape(token.content or "image")
        return f'<a href="{escape(token.attrGet("src") or "")}">[image: {alt}]</a>'

    md.add_render_rule("image", image)
    return md


def _cleaner(base: str | None):
    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href" and base and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^#|^//", value):
            return urljoin(base, value)  # a file of the repository: on the Hub
        return value

    return attribute_filter


def render(text: str, repository: str | None = None, limit: int = CARD_LIMIT) -> dict:
    """{"header": [(key, value)], "header_error", "html", "cut", "length"} of a card.

    ``repository``: the entity's Hub URL, against which relative links resolve.
    """
    length = len(text)
    cut = length > limit
    text = text[:limit]
    header, header_error, body = [], None, text
    match = _HEADER.match(text)
    if match:
        body = text[match.end():]
        header, header_error = _header(match.group(1))
    html = _markdown().render(body)
    base = repository.rstrip("/") + "/blob/main/" if repository else None
    clean = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                      link_rel="nofollow noopener noreferrer", attribute_filter=_cleaner(base), strip_comments=True)
    return {"header": header, "header_error": header_error, "html": clean, "cut": cut, "length": length}


def _header(source: str) -> tuple[list[tuple[str, str]], str | None]:
    if len(source) > HEADER_LIMIT:
        return [], f"the YAML header is longer than {HEADER_LIMIT:,} characters; not shown"
    try:
        data = yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        return [], f"the YAML header is not valid YAML: {str(error).splitlines()[0]}"
    if not isinstance(data, dict):
        return [], "the YAML header is not a mapping"
    return [(_short(key, 80), _short(value, 400)) for key, value in list(data.items())[:60]], None


def _short(value: object, budget: int) -> str:
    """A compact text of a YAML value, at most ``budget`` characters however the value nests."""
    parts: list[str] = []
    used = 0

    def walk(v: object, depth: int) -> bool:
        nonlocal used
        if used >= budget:
            return False
        if isinstance(v, dict):
            items = list(v.items())
            for i, (k, item) in enumerate(items):
                add(("; " if i else "") + f"{k}: ")
                if depth > 3 or not walk(item, depth + 1):
                    return False
            return True
        if isinstance(v, (list, tuple)):
            for i, item in enumerate(v):
                if i:
                    add(", ")
                if depth > 3 or not walk(item, depth + 1):
                    return False
            return True
        add("" if v is None else str(v))
        return used < budget

    def add(s: str) -> None:
        nonlocal used
        parts.append(s[: budget - used])
        used += len(parts[-1])

    complete = walk(value, 0)
    text = "".join(parts)
    return text if complete and used < budget else text + " …"
