"""Cards (READMEs) rendered by cmark-gfm and sanitised by nh3 (serve/cards.py), checked on the
HTML text; the hostile card in a real browser is in test_serve_pages.py."""

from __future__ import annotations

from hkg_rdf.serve.cards import MAX_DEPTH, render

HUB = "https://huggingface.co/org/model"


def test_every_image_becomes_a_link_to_it_and_nothing_is_loaded() -> None:
    html = render('![chart](plots/loss.png) <img src="https://img.example/a.gif" alt="a&gt;b <i>"> <img alt="no source">', HUB)["html"]
    assert "<img" not in html
    assert '<a href="https://huggingface.co/org/model/blob/main/plots/loss.png" rel="nofollow noopener noreferrer">[image: chart]</a>' in html
    assert '<a href="https://img.example/a.gif" rel="nofollow noopener noreferrer">[image: a&gt;b &lt;i&gt;]</a>' in html  # alt is text
    assert "[image: no source]" in html


def test_an_image_with_a_forbidden_scheme_keeps_only_its_alt_text() -> None:
    html = render('<img src="javascript:alert(1)" alt="x"> ![y](data:image/png;base64,AAAA)', HUB)["html"]
    assert "javascript:" not in html and "data:" not in html and "href" not in html
    assert "[image: x]" in html and "[image: y]" in html


def test_github_flavoured_markdown() -> None:
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- [ ] to do\n\n~~old~~ www.example.org", HUB)["html"]
    assert "<table>" in html and "<td>2</td>" in html
    assert '<input type="checkbox" checked="" disabled=""> done' in html and '<input type="checkbox" disabled=""> to do' in html
    assert "<del>old</del>" in html and '<a href="http://www.example.org" rel="nofollow noopener noreferrer">www.example.org</a>' in html


def test_scripts_styles_and_handlers_are_gone_with_their_content() -> None:
    html = render("<script>steal()</script><style>p{}</style><p onclick=\"x()\">hi</p>\n\n[a](javascript:x())", HUB)["html"]
    assert "steal" not in html and "p{}" not in html and "onclick" not in html and "javascript" not in html
    assert "<p>hi</p>" in html


def test_a_card_nesting_too_deep_is_shown_as_text() -> None:
    for text in (">" * 30_000 + " x", "<div>" * 30_000, "> " * (MAX_DEPTH + 1) + "a"):
        card = render(text, HUB)
        assert card["as_text"] and card["html"].startswith("<pre>") and "<div>" not in card["html"]
    assert not render("<b>" * (MAX_DEPTH - 1) + "x", HUB)["as_text"]


def test_the_yaml_header_is_a_table_and_the_body_follows() -> None:
    card = render("---\nlicense: mit\ntags: [a, b]\n---\n# Title\n", HUB)
    assert card["header"] == [("license", "mit"), ("tags", "a, b")] and card["header_error"] is None
    assert card["html"].strip() == "<h1>Title</h1>"
