"""Model and dataset cards (READMEs) as readable, inert HTML.

A card is Markdown with an optional YAML header. The header is read with PyYAML's safe loader
and shown as a small table (values shortened within a budget, so an alias bomb stays small);
the body is rendered by cmark-gfm (GitHub's CommonMark, in C, through cmarkgfm: tables,
strikethrough, autolinks and task lists, raw HTML allowed in; some 20 times faster than a
Markdown parser in Python, which took most of an entity page's time) and then sanitised by nh3
(the ammonia sanitiser): no script, no event handlers, no ``javascript:`` or ``data:`` links, no
styles. Nothing is fetched on the reader's behalf: every image, Markdown or HTML, becomes a
link to it. Links relative to the repository go to the file on the Hub. A card longer than
``limit`` characters is rendered up to there and says it was cut.
"""

from __future__ import annotations

import re
from html import escape, unescape
from urllib.parse import urljoin

import cmarkgfm
import nh3
import yaml
from cmarkgfm.cmark import Options

CARD_LIMIT = 200_000  # characters rendered; the full text stays in the data document
#: Elements nested deeper than this (a card of 30,000 '>' is 30,000 nested blockquotes) would
#: take nh3 seconds to minutes (its time grows with the square of the depth; 1,000 levels take
#: it 4 ms): such a card is shown as text.
MAX_DEPTH = 1000
HEADER_LIMIT = 20_000  # characters of YAML header parsed
_HEADER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)(?:\r?\n)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
TAGS = (set(nh3.ALLOWED_TAGS) - {"map", "area"}) | {"input"}
ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"src", "alt"},  # kept only to become a link (_IMAGE)
    "td": {"align", "colspan", "rowspan"}, "th": {"align", "colspan", "rowspan"}, "input": {"type", "checked", "disabled"},
    "ol": {"start"}, "code": {"class"}, "details": {"open"},
}


EXTENSIONS = ["table", "strikethrough", "autolink", "tasklist"]  # not tagfilter: nh3 drops those tags, content and all
#: An image as nh3 writes it (attributes double-quoted, a quote inside one escaped).
_IMAGE = re.compile(r'<img((?:\s+[a-z-]+="[^"]*")*)\s*/?>')
_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _deeper_than(html: str, limit: int) -> bool:
    """Whether elements nest deeper than ``limit`` (counting open tags not yet closed)."""
    if html.count("<") <= limit:  # too few tags to nest that deep: most cards
        return False
    depth = 0
    for match in _TAG.finditer(html):
        if match.group(2).lower() in _VOID or match.group(0).endswith("/>"):
            continue
        depth = max(depth - 1, 0) if match.group(1) else depth + 1
        if depth > limit:
            return True
    return False


def _image_link(match: re.Match) -> str:
    """A sanitised ``<img>`` as a link to its image (or its alt text if it had no usable src)."""
    attributes = {name: unescape(value) for name, value in _ATTRIBUTE.findall(match.group(1))}
    text = escape(f"[image: {attributes.get('alt') or 'image'}]")
    src = attributes.get("src")
    return f'<a href="{escape(src)}" rel="nofollow noopener noreferrer">{text}</a>' if src else text


def _cleaner(base: str | None):
    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if (tag, attribute) in (("a", "href"), ("img", "src")) and base and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^#|^//", value):
            return urljoin(base, value)  # a file of the repository: on the Hub
        return value

    return attribute_filter


def render(text: str, repository: str | None = None, limit: int = CARD_LIMIT) -> dict:
    """{"header": [(key, value)], "header_error", "html", "as_text", "cut", "length"} of a card.

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
    html = cmarkgfm.markdown_to_html_with_extensions(body, Options.CMARK_OPT_UNSAFE, EXTENSIONS)
    as_text = _deeper_than(html, MAX_DEPTH)
    if as_text:
        html = f"<pre>{escape(body)}</pre>"
    base = repository.rstrip("/") + "/blob/main/" if repository else None
    clean = nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                      link_rel="nofollow noopener noreferrer", attribute_filter=_cleaner(base), strip_comments=True)
    return {"header": header, "header_error": header_error, "html": _IMAGE.sub(_image_link, clean), "as_text": as_text, "cut": cut, "length": length}


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
