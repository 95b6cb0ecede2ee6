"""Write docs/ontology.html, the ontology's documentation, with pyLODE from ontology/hkg.ttl.

    pip install -e '.[docs]' && python tools/ontology_docs.py [OUTPUT]

Run it after changing the ontology: tests/test_docs.py checks the committed page documents every
hkg: term and the ontology's version (pyLODE's order of union members varies from run to run,
so the check is on content, not bytes). ``hkg-rdf serve`` answers the ontology IRI with this page
for HTML clients.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "hkg.ttl"
OUTPUT = ROOT / "docs" / "ontology.html"


def render(ontology: Path = ONTOLOGY) -> str:
    """The pyLODE (OntPub profile) HTML of ``ontology``."""
    from pylode import OntPub

    return OntPub(str(ontology)).make_html()


if __name__ == "__main__":
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render(), encoding="utf-8")
