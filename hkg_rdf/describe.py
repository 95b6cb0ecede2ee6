"""What a conversion produced, said in RDF inside its output: a VoID and DCAT description.

Every file ``convert`` writes and every store ``load`` fills carries one description per
converted source, so a dump describes itself: the release or crawl it came from and the
snapshot time its name states (``HuggingKG_V<YYYYmmddHHMMSS>``), the tool and its version, the
data's license when it was given (``--license``), and the conversion's counts, per class and
per relation property. No clock is read: converting the same source twice gives the same bytes.
"""

from __future__ import annotations

import re
from collections import Counter
from importlib import metadata
from pathlib import Path

from .iris import IriMinter
from .report import Report
from .vocab import DCTERMS, ONTOLOGY_IRI, RDF_TYPE, XSD, XSD_INTEGER, vocabulary

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
_SNAPSHOT = re.compile(r"HuggingKG_V(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})")


def tool_version() -> str:
    try:
        return metadata.version("hkg-rdf")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def snapshot(source: Path) -> str | None:
    """The crawl time a release's name states, as xsd:dateTime (UTC), or None."""
    match = _SNAPSHOT.search(source.name)
    if match is None:
        return None
    y, mo, d, h, mi, s = match.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}Z"


def _text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _count(value: int) -> str:
    return f'"{value}"^^<{XSD_INTEGER}>'


def describe(minter: IriMinter, report: Report, source: Path, license_iri: str | None = None) -> str:
    """N-Triples describing the conversion of ``source`` so far (counts exclude these lines)."""
    vocab = vocabulary()
    name = source.stem if source.suffix == ".zip" else source.name
    node = minter.description(name)
    d = f"<{node}>"
    lines = [
        f"{d} <{RDF_TYPE}> <{VOID}Dataset> .",
        f"{d} <{RDF_TYPE}> <{DCAT}Dataset> .",
        f"{d} <{DCTERMS}title> {_text(f'HuggingKG as Linked Data, converted from {name}')}@en .",
        f"{d} <{DCTERMS}source> {_text(name)} .",
        f"{d} <{DCTERMS}conformsTo> <{ONTOLOGY_IRI}> .",
        f"{d} <{VOID}uriSpace> {_text(minter.base)} .",
        f"{d} <{VOID}triples> {_count(report.triples)} .",
        f"{d} <{VOID}entities> {_count(sum(report.entities.values()))} .",
        f"{d} <{PROV}wasGeneratedBy> <{node}#conversion> .",
        f"<{node}#conversion> <{RDF_TYPE}> <{PROV}Activity> .",
        f"<{node}#conversion> <{PROV}wasAssociatedWith> <{node}#tool> .",
        f"<{node}#tool> <{RDF_TYPE}> <{PROV}SoftwareAgent> .",
        f"<{node}#tool> <{SCHEMA}name> {_text('hkg-rdf')} .",
        f"<{node}#tool> <{SCHEMA}softwareVersion> {_text(tool_version())} .",
    ]
    taken = snapshot(source)
    if taken:
        lines.append(f"{d} <{SCHEMA}temporalCoverage> {_text(taken)} .")
        lines.append(f"{d} <{DCTERMS}temporal> {_text(taken)}^^<{XSD}dateTime> .")
    if license_iri:
        lines.append(f"{d} <{DCTERMS}license> <{license_iri}> .")
    for entity_type in vocab.types:
        count = report.entities.get(entity_type.segment, 0)
        if count:
            part = f"<{node}#{entity_type.segment}>"
            lines += [f"{d} <{VOID}classPartition> {part} .", f"{part} <{VOID}class> <{entity_type.cls}> .", f"{part} <{VOID}entities> {_count(count)} ."]
    per_property: Counter[str] = Counter()
    for relation in vocab.relations:
        per_property[relation.prop] += report.edges.get(relation.name, 0)
    for prop, count in sorted(per_property.items()):
        if count:
            part = f"<{node}#{prop.rsplit('#', 1)[-1]}>"
            lines += [f"{d} <{VOID}propertyPartition> {part} .", f"{part} <{VOID}property> <{prop}> .", f"{part} <{VOID}triples> {_count(count)} ."]
    report.triples += len(lines)
    return "\n".join(lines) + "\n"
