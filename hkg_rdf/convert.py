"""Convert a HuggingKG source into RDF: a file in any format, or N-Triples for a store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .iris import IriMinter
from .progress import triples_progress
from .rdfio import write_ntriples_as
from .report import Report
from .triples import TripleMaker, encode_chunks, source_triples


def ntriples_chunks(source: Path, minter: IriMinter, report: Report, keep_dangling: bool = False) -> Iterator[bytes]:
    """The N-Triples of a release or triples.txt as UTF-8 chunks, with progress."""
    maker = TripleMaker(minter, report)
    chunks = encode_chunks(source_triples(source, maker, keep_dangling), str(source))
    return triples_progress(chunks, report, f"converting {source.name}")


def convert(source: Path, output: Path, minter: IriMinter, keep_dangling: bool = False) -> Report:
    """Write ``source`` as RDF to ``output`` (format by extension); a failure leaves no output."""
    report = Report()
    write_ntriples_as(ntriples_chunks(source, minter, report, keep_dangling), output)
    return report
