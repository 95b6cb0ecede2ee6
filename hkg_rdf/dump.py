"""Dump the store to a file for other tools (format by extension, .gz compressed)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from .rdfio import XmlWriter, atomic_output, rdf_format, takes_prefixes
from .vocab import PREFIXES


def dump(store: ox.Store, output: Path) -> None:
    """Write the store; formats without named graphs get the default graph (the data)."""
    fmt = rdf_format(output)
    with atomic_output(output) as out:
        store.dump(
            XmlWriter(out, str(output)) if fmt == ox.RdfFormat.RDF_XML else out,
            fmt,
            from_graph=None if fmt.supports_datasets else ox.DefaultGraph(),
            prefixes=PREFIXES if takes_prefixes(fmt) else None,
        )
