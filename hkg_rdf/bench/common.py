"""Shared pieces of the HuggingBench jobs: the .rq queries, entity names, deterministic files."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from importlib import resources
from pathlib import Path

import pyoxigraph as ox

from ..errors import InputError
from ..iris import IriMinter
from ..query import csv_value, run
from ..vocab import PREFIXES, vocabulary

TASKS = ("recommendation", "classification", "tracing")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def query_text(name: str) -> str:
    """The text of ``queries/<name>.rq`` shipped next to this module."""
    return resources.files("hkg_rdf.bench").joinpath("queries", f"{name}.rq").read_text(encoding="utf-8")


def stream(store: ox.Store, name: str, bindings: dict[str, str] | None = None):
    """Run a shipped SELECT and yield its rows as tuples of term values ("" when unbound), in
    the store's order; ``bindings`` (variable -> IRI) are substituted before evaluation
    (SEP-0007). The store writes the rows as SPARQL CSV (exactly the values) into a
    temporary file, read back a line at a time (``_rows``): a third of the cost of building a
    term object per cell in Python, and the memory of one row at a time."""
    yield from _rows(_serialized(store, name, bindings), name)


def scanned(store, name: str):
    """The rows of a shipped SELECT of one triple pattern ``?s <p> ?o`` (``_one_pattern``),
    read on an embedded store straight from its index with ``quads_for_pattern``: for long
    literals (READMEs) a third of the cost of Oxigraph writing them as CSV and Python parsing
    it back (68 -> 19 s at scale 1.0). It holds the GIL, so it is for queries whose values
    cost more to parse than to decode; any other store evaluates the query (``stream``)."""
    if not isinstance(store, ox.Store):
        yield from stream(store, name)
        return
    predicate = _one_pattern(name)
    for quad in store.quads_for_pattern(None, predicate, None, ox.DefaultGraph()):
        yield csv_value(quad.subject), csv_value(quad.object)


def _one_pattern(name: str) -> ox.NamedNode:
    """The predicate of ``queries/<name>.rq`` when the query is ``SELECT ?s ?o WHERE { ?s <p> ?o }``
    (comments aside), else an error: ``scanned`` must answer what the query would."""
    text = re.sub(r"(?m)^\s*#.*$", "", query_text(name))
    match = re.fullmatch(r"\s*SELECT\s+\?(\w+)\s+\?(\w+)\s+WHERE\s*\{\s*\?\1\s+(\S+)\s+\?\2\s*\}\s*", text)
    if not match:
        raise ValueError(f"{name}.rq is not one triple pattern ?s <p> ?o")
    term = match[3]
    if term.startswith("<"):
        return ox.NamedNode(term[1:-1])
    prefix, _, local = term.partition(":")
    return ox.NamedNode(PREFIXES[prefix] + local)


def prefetched(store: ox.Store, queries: list[tuple[str, dict[str, str] | None]], workers: int = 2) -> list:
    """The rows of each (name, bindings) of ``queries``, one iterator per query, while Oxigraph
    evaluates them in ``workers`` threads in the order given (it lets go of the GIL while it
    evaluates and serializes): reading one query's rows in Python overlaps computing the others.
    An iterator waits for its query when first read, so they may be read in any order."""
    pool = ThreadPoolExecutor(workers)
    futures = [pool.submit(_serialized, store, name, bindings) for name, bindings in queries]
    pool.shutdown(wait=False)  # the threads finish the queries and exit
    return [_waited(future, name) for future, (name, _) in zip(futures, queries)]


def _waited(future, name: str):
    yield from _rows(future.result(), name)


def _serialized(store: ox.Store, name: str, bindings: dict[str, str] | None):
    """A temporary file holding the SPARQL CSV results of a shipped SELECT, open at its start.
    Oxigraph writes it by path: given a Python file, it takes the GIL for every 8 KB written,
    and waits for it while the main thread reads rows (a query then took 5-50x longer)."""
    substitutions = {ox.Variable(k): ox.NamedNode(v) for k, v in (bindings or {}).items()}
    solutions = run(store, query_text(name), f"{name}.rq", substitutions)
    handle, path = tempfile.mkstemp(prefix=f"hkg-{name}-", suffix=".csv")
    os.close(handle)
    try:
        solutions.serialize(path, ox.QueryResultsFormat.CSV)
        return open(path, "rb")
    finally:
        os.unlink(path)  # the open file stays readable


def _rows(buffer, name: str):
    """The rows of a SPARQL CSV file. A line without a double quote is a whole row, split at
    its commas (a third faster than the csv module, which reads the rest from the first quote
    on: a quoted value may hold commas and line breaks). Oxigraph writes IRIs unquoted, even
    one holding a comma (ours never do: iris.encode_id escapes it), so a row of more values
    than variables is an error naming the query, not a row read wrong."""
    with buffer:
        lines = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
        width = len(next(lines, "").split(","))  # the header: the variables
        for line in lines:
            if '"' in line:
                break
            row = tuple(line.rstrip("\r\n").split(","))
            if len(row) != width:
                raise _misread(name, row, width)
            yield row
        else:
            return
        for row in map(tuple, csv.reader(itertools.chain([line], lines))):
            if len(row) != width:
                raise _misread(name, row, width)
            yield row


def _misread(name: str, row: tuple[str, ...], width: int) -> InputError:
    return InputError(f"{name}.rq", f"a result row of {len(row)} values for {width} variables, as Oxigraph's CSV gives "
                                    f"for an IRI holding a comma (it does not quote it): {','.join(row)[:300]}")


def select(store: ox.Store, name: str) -> list[tuple[str, ...]]:
    """Run a shipped SELECT and return its rows as tuples of term values, sorted."""
    return sorted(stream(store, name))


def kg_properties() -> list[str]:
    """What kg.rq's ?r is bound to: every object property between entities but the
    interactions themselves (hkg:likes), from the vocabulary."""
    vocab = vocabulary()
    return sorted({r.prop for r in vocab.relations} - {vocab.relation("user_like_model").prop})


def kg_queries() -> list[tuple[str, dict[str, str]]]:
    """kg.rq once per property of ``kg_properties``, for ``prefetched``."""
    return [("kg", {"r": prop}) for prop in kg_properties()]


class Namer:
    """Turns entity IRIs into readable ``segment:id`` names (iris.py parses them) and
    property IRIs into local names; anything minted elsewhere keeps its full IRI."""

    def __init__(self, minter: IriMinter):
        self.minter, self.vocab, self._cache = minter, vocabulary(), {}

    def entity(self, iri: str) -> str:
        name = self._cache.get(iri)
        if name is None:
            parsed = self.minter.parse(iri, self.vocab)
            name = iri if parsed is None else f"{parsed[0].segment}:{parsed[1]}"
            self._cache[iri] = name
        return name

    @staticmethod
    def relation(iri: str) -> str:
        return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rsplit("/", 1)[-1]

    def release(self, head: str, prop: str, tail: str) -> tuple[str, str, str] | None:
        """An RDF triple as the release writes it: (subject, relation file name, object), e.g.
        ``derived fineTunedFrom base`` -> ``(base, model_finetune_model, derived)``; None when
        no relation file of the release maps to the property between these entity types."""
        h, t = self.entity(head), self.entity(tail)
        relation = self._by_rdf.get((prop, h.split(":", 1)[0], t.split(":", 1)[0]))
        if relation is None:
            return None
        return (t, relation.name, h) if relation.inverse else (h, relation.name, t)

    @cached_property
    def _by_rdf(self) -> dict:
        """(property, segment of the RDF subject, segment of the RDF object) -> release relation."""
        out = {}
        for r in self.vocab.relations:
            ends = (r.object.segment, r.subject.segment) if r.inverse else (r.subject.segment, r.object.segment)
            out[(r.prop, *ends)] = r
        return out


def clean(text: str | None) -> str:
    """One line of text for a TSV cell."""
    return " ".join((text or "").split())


def clean_head(text: str, limit: int) -> str:
    """``clean(text)[:limit]``, cleaning only as much of a long text as the limit needs: a
    prefix cut at whitespace cleans to a prefix of the whole. The first prefix tried is a
    quarter longer than the limit (the READMEs at scale 1.0 lose far less to whitespace; on
    30,000 of them twice the limit took 0.69 s, this 0.61), then twice as long each time."""
    size = limit + limit // 4
    while size < len(text):
        head = text[:size]
        if not text[size].isspace():  # drop the word the cut went through
            parts = head.rsplit(None, 1)
            head = parts[0] if len(parts) == 2 else ""
        cleaned = clean(head)
        if len(cleaned) >= limit:
            return cleaned[:limit]
        size *= 2
    return clean(text)[:limit]


def write_lines(path: Path, lines) -> None:
    """Each line (str, or bytes already in UTF-8) and a newline, joined 65,536 lines at a time
    (a third of the cost of one write call per line). The last newline is written on its own:
    appending it copied each joined batch once more (2 GB of texts: 7-8 s instead of 3-5)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = iter(lines)
    with open(path, "wb") as out:
        while batch := list(itertools.islice(lines, 65536)):
            out.write(b"\n".join(batch) if isinstance(batch[0], bytes) else "\n".join(batch).encode())
            out.write(b"\n")


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def write_npz(path: Path, arrays: dict) -> None:
    """Like numpy.savez_compressed, but byte-identical for identical arrays (fixed zip dates),
    at zlib's fastest level (level 6 took 65 s of a scale-1.0 classification export for a file
    15 % smaller), and an array that deflate shrinks by less than a fifth is stored as it is:
    the TF-IDF weights (432 MB at scale 1.0) took 14 s to lose 12 %. numpy.load reads both."""
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            data = buffer.getbuffer()
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED if _deflates(data) else zipfile.ZIP_STORED
            archive.writestr(info, data, compresslevel=1)


def _deflates(data: memoryview, sample: int = 1 << 20) -> bool:
    """Whether deflate (level 1) shrinks ``data`` by a fifth or more, judged on its first MiB."""
    import zlib

    head = data[:sample]
    return len(head) < 4096 or len(zlib.compress(head, 1)) <= 0.8 * len(head)


def read_ids(path: Path) -> dict[str, int]:
    """An id map of ``index<TAB>name`` lines (LibKGE .del layout) as name -> index."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        index, _, name = line.partition("\t")
        out[name] = int(index)
    return out


def need(path: Path) -> Path:
    if not path.exists():
        raise InputError(str(path), "missing: is --split a directory written by 'hkg-rdf bench export'?")
    return path


def parse_ratios(text: str, parts: int = 3) -> tuple[float, ...]:
    try:
        values = [float(v) for v in text.split(":")]
    except ValueError:
        values = []
    if len(values) != parts or any(v < 0 for v in values) or sum(values) <= 0:
        raise InputError("--ratios", f"expected {parts} non-negative numbers like 8:1:1, got {text!r}")
    total = sum(values)
    return tuple(v / total for v in values)


def read_predictions(path: Path, key_fields: int) -> dict[tuple[int, ...], list[tuple[int, float | None]]]:
    """Prediction lines: ``key fields<TAB>ranked candidates`` where a candidate is ``id`` or
    ``id:score``. Returns key -> [(candidate, score or None)] in file order."""
    out: dict[tuple[int, ...], list[tuple[int, float | None]]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InputError(str(path), f"cannot read: {error.strerror or error}") from error
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) not in (key_fields, key_fields + 1):
            raise InputError(f"{path}:{number}", f"expected {key_fields} key field(s) and a candidate list")
        try:
            key = tuple(int(f) for f in fields[:key_fields])
            candidates = []
            for token in (fields[key_fields].split() if len(fields) > key_fields else []):
                ident, sep, score = token.partition(":")
                candidates.append((int(ident), float(score) if sep else None))
        except ValueError as error:
            raise InputError(f"{path}:{number}", f"not an integer id or score: {error}") from error
        if key in out:
            raise InputError(f"{path}:{number}", f"second line for {key}")
        out[key] = candidates
    return out


def format_candidates(pairs) -> str:
    return " ".join(f"{c}:{s:.6g}" for c, s in pairs)
