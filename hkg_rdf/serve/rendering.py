"""HTML pages from the Jinja templates in ``templates/``, the same in the server and its workers.

Entity pages are rendered (and gzipped) in the worker that gathered their facts, so the server's
event loop only passes bytes on: rendering there was a third of its time per page, and the
facts it unpickled another tenth.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from . import negotiation as media

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Bodies smaller than this are sent as they are, here and by the GZip middleware (app.py).
GZIP_MINIMUM = 1000
GZIP_LEVEL = 1  # a tenth of a millisecond less per page than 6 for an eighth more bytes


def safe_href(value: str) -> str | None:
    return value if value.startswith(("http://", "https://", "/")) and not value.startswith("//") else None


def term(view: dict) -> Markup:
    """A term (a :func:`hkg_rdf.serve.pages.term_view`) as HTML: an entity links to its page.

    Python rather than a Jinja macro: an entity page shows some 40 terms, and a macro call took
    twice as long as this."""
    kind, e = view["kind"], escape
    if kind == "entity":
        return Markup(f'<a class="entity" href="{e(view["href"])}" title="{e(view["iri"])}"><span class="type">{e(view["segment"])}</span> {e(view["id"])}</a>')
    if kind == "iri":
        href = safe_href(view["href"])
        if href:
            return Markup(f'<a class="iri" href="{e(href)}" title="{e(view["iri"])}">{e(view["label"])}</a>')
        return Markup(f'<span class="iri" title="{e(view["iri"])}">{e(view["label"])}</span>')
    if kind == "literal":
        cut = f'<span class="cut"> … ({view["length"]:,} characters in all; see the data document)</span>' if view["cut"] else ""
        tail = f'<span class="lang">@{e(view["lang"])}</span>' if view.get("lang") else (
            f'<span class="datatype">{e(view["datatype"])}</span>' if view.get("datatype") else "")
        return Markup(f'<span class="literal">{e(view["value"])}{cut}</span>{tail}')
    if kind == "bnode":
        return Markup(f'<span class="bnode">{e(view["value"])}</span>')
    return Markup()


class _Templates(jinja2.Environment):
    """Jinja, looking ``x.name`` up as a key first when ``x`` is a dict: the pages' facts are
    plain dicts, and Jinja's attribute-first lookup raised and caught an AttributeError for
    every one of them (a fifth of an entity page's rendering)."""

    def getattr(self, obj: object, attribute: str) -> object:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@cache
def environment() -> jinja2.Environment:
    """The templates, loaded once per process (they ship with the code: no reload checks)."""
    from . import pages

    env = _Templates(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["safe_href"] = safe_href
    env.filters["curie"] = pages.curie
    env.globals["hub_url"] = pages.hub_url
    env.globals["term"] = term
    return env


def alternates(path: str) -> list[dict]:
    """The RDF documents a page links to (``<link rel="alternate">`` and the page's RDF line)."""
    return [{"label": name, "href": f"{path}?format={name}", "type": mt} for name, mt in (("ttl", media.TURTLE), ("nt", media.NTRIPLES), ("jsonld", media.JSONLD), ("rdf", media.RDFXML))]


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def encoded(body: str, gzipped: bool) -> tuple[bytes, str | None]:
    """The body as sent: UTF-8, gzipped when the client takes it and it is worth it; (bytes, Content-Encoding)."""
    data = body.encode("utf-8")
    if gzipped and len(data) >= GZIP_MINIMUM:
        return gzip.compress(data, GZIP_LEVEL, mtime=0), "gzip"
    return data, None
