"""Finding a model and seeing its family on a live ``hkg-rdf serve``: search, lineage picture,
readable cards, paged lists; in headless Chromium (Debian's /usr/bin/chromium via Playwright).

The server is test_serve's (examples/ loaded with the server's own base IRI, on 127.0.0.1);
after it starts, a second load adds hostile and huge entities while it runs, so every test
here also reads a store version that was swapped in under a running server.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
from conftest import HKG, RDF_TYPE, invoke, must
from test_serve import Server, start_server, stop_server

from hkg_rdf.iris import IriMinter
from hkg_rdf.serve.pages import lineage_properties
from hkg_rdf.vocab import vocabulary

HOSTILE_ID = "evil/<script>alert('id')</script>"
HUGE_ID = "big/huge-card"
FAN_ID = "fan/base-model"
FAN_OUT = 60
HOSTILE_CARD = """---
license: "<script>alert('yaml')</script>"
base_model: meta-llama/Llama-3.1-8B
a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]
---
# Hostile card <script>window.pwned = 1; alert('script')</script>

[click me](javascript:alert('link')) <a href="javascript:alert('raw')" onclick="alert('click')">raw link</a>
[config](config.json)

![remote](https://images.example/tracker.png) <img src="https://images.example/pixel.gif" onerror="alert('img')" alt="pixel">
<iframe src="https://frames.example/"></iframe><svg onload="alert('svg')"></svg><style>body { display: none }</style>
<form action="https://forms.example/"><input name="x"></form>

| col | <b onmouseover="alert('td')">cell</b> |
|-----|------|
| 1   | 2    |
"""


def _model(base: str, model_id: str) -> ox.NamedNode:
    return ox.NamedNode(IriMinter(base).mint(vocabulary().type_by_segment("model"), model_id))


def _extra(base: str) -> bytes:
    """A hostile model (id, name and README), one with a 300 KB card, one with 60 fine-tunes."""
    a, model = ox.NamedNode(RDF_TYPE), ox.NamedNode(HKG + "Model")
    prop = lambda name: ox.NamedNode(HKG + name)  # noqa: E731
    triples = []

    def entity(model_id: str, name: str, description: str | None = None, likes: int = 0) -> ox.NamedNode:
        node = _model(base, model_id)
        triples.extend([ox.Triple(node, a, model), ox.Triple(node, prop("id"), ox.Literal(model_id)), ox.Triple(node, prop("name"), ox.Literal(name)),
                        ox.Triple(node, prop("likeCount"), ox.Literal(str(likes), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))])
        if description is not None:
            triples.append(ox.Triple(node, prop("description"), ox.Literal(description)))
        return node

    hostile = entity(HOSTILE_ID, "<img src=x onerror=alert('name')>", HOSTILE_CARD)
    triples.append(ox.Triple(hostile, prop("fineTunedFrom"), _model(base, "meta-llama/Llama-3.1-8B")))
    entity(HUGE_ID, "huge-card", "# Huge\n\n" + "A long line of a very long card, again and again. " * 6000)
    fan = entity(FAN_ID, "base-model", likes=10)
    for i in range(FAN_OUT):
        triples.append(ox.Triple(entity(f"fan/child-{i:02d}", f"child-{i:02d}"), prop("fineTunedFrom"), fan))
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Server:
    directory = tmp_path_factory.mktemp("pages")
    server = start_server(directory, "--workers", "2", "--no-dump-generation")
    extra = directory / "pages-extra.nt"
    extra.write_bytes(_extra(server.base))
    must(invoke("load", extra, "--store", server.store))  # swapped in under the running server
    yield server
    stop_server(server)


def _family(site: Server, model_id: str) -> tuple[set[str], set[str]]:
    """Every ancestor and descendant of a model, by a SPARQL property path (the truth)."""
    path = "|".join(f"<{p}>" for p in lineage_properties())
    iri = _model(site.base, model_id).value
    up = {r["x"] for r in site.rows(f"SELECT DISTINCT ?x WHERE {{ <{iri}> ({path})+ ?x }}")}
    down = {r["x"] for r in site.rows(f"SELECT DISTINCT ?x WHERE {{ ?x ({path})+ <{iri}> }}")}
    return up, down


# ---------------------------------------------------------------- search over HTTP


def test_search_json_finds_by_part_of_a_name(site):
    response = site.get("/search", params={"q": "llama 3.1 instruct", "format": "json"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    body = response.json()
    first = body["results"][0]
    assert first["id"] == "meta-llama/Llama-3.1-8B-Instruct" and first["type"] == "model"
    assert first["iri"] == _model(site.base, first["id"]).value
    assert first["page"] == site.url + "/page/model/meta-llama/Llama-3.1-8B-Instruct"
    assert httpx.get(first["page"]).status_code == 200
    # Accept: application/json works as well as ?format=json; type filters narrow
    orgs = site.get("/search", params={"q": "llama", "type": "org"}, headers={"Accept": "application/json"}).json()
    assert orgs["results"] and {r["type"] for r in orgs["results"]} == {"org"}


def test_search_sees_the_version_loaded_under_the_running_server(site):
    ids = [r["id"] for r in site.get("/search", params={"q": "fan child", "format": "json"}).json()["results"]]
    assert len(ids) == 20 and all(i.startswith("fan/child-") for i in ids)
    page = site.get("/search", params={"q": "fan child", "offset": "20"})
    assert page.status_code == 200 and 'rel="prev"' in page.text and 'rel="next"' in page.text


def test_search_html_and_hostile_queries(site):
    page = site.get("/search", params={"q": "evil <script>alert('id')</script>"})
    assert page.status_code == 200 and page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "<script>alert(" not in page.text and "&lt;script&gt;" in page.text
    hit = re.search(r'<a class="entity" href="([^"]+)"', page.text)
    assert hit and httpx.get(site.url + hit.group(1).replace("&amp;", "&")).status_code == 200  # the hostile model, found and openable
    for query in ['"', "NEAR(a b)", "a* OR *", "x" * 600, "%00", "text : x"]:
        assert site.get("/search", params={"q": query}).status_code == 200, query
    assert 'name="q"' in site.get("/").text and 'name="q"' in site.get("/page/model/meta-llama/Llama-3.1-8B").text  # the box on every page


# ---------------------------------------------------------------- lineage picture


def _svg(html: str) -> str:
    return html[html.index('<svg class="lineage-picture"'):html.index("</svg>")]


def test_lineage_picture_shows_the_whole_small_family(site):
    up, down = _family(site, "meta-llama/Llama-3.1-8B-Instruct")
    assert up and down
    svg = _svg(site.get("/page/model/meta-llama/Llama-3.1-8B-Instruct").text)
    assert svg.count('<g class="node') == 1 + len(up) + len(down)
    assert "more" not in re.findall(r'<g class="(\w+)', svg)
    links = set(re.findall(r'<a href="(/page/model/[^"]+)">', svg))
    assert links == {f"/page/model/{quote(IriMinter(site.base).parse(i)[1], safe='/')}" for i in up | down}
    kinds = set(re.findall(r'class="edge (\w+)"', svg))
    assert kinds <= {"finetune", "adapter", "merge", "quantized"} and len(kinds) >= 2
    assert all('stroke-dasharray' in e or 'finetune' in e for e in re.findall(r"<path [^>]+>", svg))  # one solid kind, the others dashed


def test_lineage_picture_is_bounded_for_a_huge_family(site):
    _, down = _family(site, FAN_ID)
    assert len(down) == FAN_OUT
    svg = _svg(site.get(f"/page/model/{FAN_ID}").text)
    assert svg.count('<g class="node') == 1 + 8
    more = re.search(r'<a href="([^"]+)"><g class="more"[^>]*>.*?<text class="name"[^>]*>([^<]+)</text>', svg)
    assert more and more.group(2) == f"+{FAN_OUT - 8} more"
    query = httpx.QueryParams(more.group(1).replace("&amp;", "&").split("?", 1)[1])["query"]
    assert {r["model"] for r in site.rows(query)} == down  # the link lists the whole family


# ---------------------------------------------------------------- cards and lists


def test_card_is_rendered_and_inert(site):
    page = site.get(f"/page/model/{quote(HOSTILE_ID, safe='/')}")
    assert page.status_code == 200
    card = page.text[page.text.index('<section class="card">'):]
    card = card[:card.index("</section>")]
    assert "<h1>Hostile card" in card and "<table>" in card
    assert re.search(r"<th>base_model</th><td>meta-llama/Llama-3\.1-8B</td>", card)  # the YAML header as a table
    assert "&lt;script&gt;alert(&#39;yaml&#39;)&lt;/script&gt;" in card  # a header value shown as text
    lowered = card.lower()
    for bad in ("<script", 'href="javascript:', "onerror", "onclick", "onload", "onmouseover", "<iframe", "<style", "<form", "src="):
        assert bad not in lowered, bad
    assert 'href="https://images.example/tracker.png"' in card  # a remote image is a link, never loaded
    assert f'href="https://huggingface.co/{HOSTILE_ID.split("/")[0]}/' in card and "/blob/main/config.json" in card
    assert len(re.search(r"<th>d</th><td>([^<]*)</td>", card).group(1)) < 500  # the alias bomb stays small
    huge = site.get(f"/page/model/{HUGE_ID}").text
    assert "The card is cut here" in huge and len(huge) < 400_000


def test_long_lists_are_paged(site):
    prop = HKG + "fineTunedFrom"
    first = site.get(f"/page/model/{FAN_ID}").text
    row = first[first.index('id="in-hkg:fineTunedFrom"'):]
    row = row[:row.index("</tr>")]
    assert row.count("<li>") == 50 and f"1–50 of {FAN_OUT}" in row
    following = re.search(r'<a rel="next" href="([^"]+)"', row).group(1).replace("&amp;", "&")
    target, _, anchor = following.partition("#")
    assert dict(httpx.QueryParams(target.lstrip("?"))) == {"in": prop, "from": "50"} and anchor == "in-hkg:fineTunedFrom"
    second = site.get(f"/page/model/{FAN_ID}{following.split('#')[0]}").text
    row2 = second[second.index('id="in-hkg:fineTunedFrom"'):]
    row2 = row2[:row2.index("</tr>")]
    assert row2.count("<li>") == FAN_OUT - 50 and f"51–{FAN_OUT} of {FAN_OUT}" in row2 and 'rel="prev"' in row2
    items = lambda text: set(re.findall(r'href="(/page/model/fan/child-\d+)"', text))  # noqa: E731
    assert len(items(row) | items(row2)) == FAN_OUT


# ---------------------------------------------------------------- in a browser


def _chromium() -> str:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return chromium


def _not_blank(png: bytes) -> None:
    """A screenshot that shows something: many colours, a good share of non-white pixels."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.resize((200, max(1, image.height * 200 // image.width)))
    data = small.tobytes()
    pixels = [data[i:i + 3] for i in range(0, len(data), 3)]
    assert len(set(pixels)) > 20, "the screenshot is nearly uniform"
    assert sum(p != b"\xff\xff\xff" for p in pixels) > len(pixels) * 0.02, "the screenshot is nearly blank"


def test_find_a_model_see_its_family_and_open_its_base_in_chromium(site, tmp_path):
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
    up, down = _family(site, "meta-llama/Llama-3.1-8B-Instruct")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=args)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            requests, errors, dialogs = [], [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(site.url + "/dumps/")
            box = page.locator("form.search-box input[name=q]")
            box.fill("llama 3.1 instruct")
            box.press("Enter")
            page.wait_for_url("**/search?q=llama+3.1+instruct")
            first = page.locator("ol.hits li a.entity").first
            assert first.inner_text().endswith("meta-llama/Llama-3.1-8B-Instruct")
            first.click()
            page.wait_for_url("**/page/model/meta-llama/Llama-3.1-8B-Instruct")
            picture = page.locator("svg.lineage-picture")
            assert picture.locator("g.node").count() == 1 + len(up) + len(down)
            assert picture.bounding_box()["width"] > 300
            _not_blank(picture.screenshot())
            _not_blank(page.screenshot(full_page=True, path=str(tmp_path / "instruct.png")))
            picture.locator('a[href="/page/model/meta-llama/Llama-3.1-8B"]').click()  # its base model, in the picture
            page.wait_for_url("**/page/model/meta-llama/Llama-3.1-8B")
            assert page.locator("h1").inner_text().endswith("meta-llama/Llama-3.1-8B")
            assert page.locator("svg.lineage-picture g.node.current").text_content().strip().endswith("Llama-3.1-8B")
            # hostile names and cards stay inert in a real browser
            page.goto(site.url + f"/page/model/{quote(HOSTILE_ID, safe='/')}")
            assert page.locator("section.card h1").inner_text().startswith("Hostile card")
            assert page.evaluate("window.pwned") is None
            assert page.locator("section.card script, section.card iframe, section.card img[src], a[href^='javascript:']").count() == 0
            page.locator("section.card a", has_text="raw link").click()  # its javascript: href was dropped: nothing runs
            page.goto(site.url + f"/page/model/{HUGE_ID}")
            assert "The card is cut here" in page.locator("section.card").inner_text()
            assert dialogs == [] and errors == []
            assert all(url.startswith(site.url) or url.startswith("data:") for url in requests), [u for u in requests if not u.startswith(site.url)]
        finally:
            browser.close()
