"""Load HuggingKG sources and RDF files into the store, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pyoxigraph as ox

from .convert import converted_in_process
from .errors import InputError
from .iris import IriMinter
from .rdfio import open_binary, rdf_format
from .report import Report
from .store import load_atomically
from .triples import Terms, is_huggingkg_source


def _bulk_load(store: ox.Store, stream: IO[bytes], fmt: ox.RdfFormat, label: str) -> None:
    try:
        store.bulk_load(stream, fmt)
    except SyntaxError as error:
        raise InputError(label, f"invalid {fmt.name}: {error}") from error


def load(store_dir: Path, sources: list[Path], minter: IriMinter, keep_dangling: bool = False, replace: bool = False, terms: Terms = Terms()) -> Report:
    """Bulk-load every source into a new version of the store; swap it in only if all succeed."""
    report = Report()

    def loader(store: ox.Store) -> None:
        for source in sources:
            if is_huggingkg_source(source):
                with converted_in_process(source, minter, report, keep_dangling, terms) as stream:
                    _bulk_load(store, stream, ox.RdfFormat.N_TRIPLES, str(source))
            else:
                fmt = rdf_format(source)
                try:
                    with open_binary(source) as stream:
                        _bulk_load(store, stream, fmt, str(source))
                    report.notice(f"loaded {source} as {fmt.name}")
                except OSError as error:
                    raise InputError(str(source), f"cannot read: {error}") from error

    load_atomically(store_dir, loader, replace)
    return report
