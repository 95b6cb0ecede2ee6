"""Running the compiled queries: rows stream into capped tallies (memory stays bounded)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed

import pyoxigraph as ox

from ..progress import counted
from .compiler import Member, Query, ShapeError
from .constraints import Check
from .results import Result, ValidationResult
from .terms import to_rdflib

#: Failing values joined with the focus nodes as VALUES up to this many (else the query joins).
REJOIN_LIMIT = 2_000


def run(store: ox.Store, queries: list[Query], union: bool, result: ValidationResult, workers: int | None = None) -> None:
    """Run the queries, on as many threads as there are cores for an embedded store (Oxigraph
    evaluates without holding the GIL); a query the store rejects is an error naming its shapes."""
    if workers is None:
        workers = min(4, os.cpu_count() or 1) if isinstance(store, ox.Store) else 1
    lock = threading.Lock()

    def one(query: Query) -> None:
        try:
            sparql = query.sparql
            if query.failures is not None:
                sparql = _rejoined(store, query, union)
                if sparql is None:
                    return
            for row in store.query(sparql, use_default_graph_as_union=union):
                with lock:
                    _count(row, query, result)
        except Exception as error:  # the store rejected the query, or a bug of ours: exit 2, naming the shapes
            raise ShapeError(query.label(), f"the store could not run its query ({type(error).__name__}: {error})") from error

    with ThreadPoolExecutor(workers) as pool:
        for done in counted(as_completed([pool.submit(one, q) for q in longest_first(queries)]), "validating", " queries"):
            done.result()


def longest_first(queries: list[Query]) -> list[Query]:
    """The queries, the longest text first, so that the slowest do not start last and run alone.

    A query's text grows with what it joins (targets, classes, allowed predicates): on the
    HuggingKG shapes at scale 1.0 the five longest are four of the five slowest (31-43 s each,
    a third of all the time), and run last in plan order they left one core idle for a minute."""
    return sorted(queries, key=lambda q: len(q.sparql), reverse=True)


def _rejoined(store: ox.Store, query: Query, union: bool) -> str | None:
    """The query with its failing values given as VALUES, or None when nothing fails
    (the query as it is when too many fail, or a blank node does, which VALUES cannot name)."""
    solutions = store.query(f"SELECT * WHERE {{ {{ {query.failures} }} }} LIMIT {REJOIN_LIMIT + 1}", use_default_graph_as_union=union)
    names = [v.value for v in solutions.variables]
    rows = []
    for row in solutions:
        terms = [row[name] for name in names]
        if len(rows) == REJOIN_LIMIT or any(isinstance(t, ox.BlankNode) for t in terms):
            return query.sparql
        rows.append("(" + " ".join("UNDEF" if t is None else str(t) for t in terms) + ")")
    if not rows:
        return None
    values = f"VALUES ({' '.join('?' + n for n in names)}) {{ {' '.join(rows)} }}"
    return query.sparql.replace(f"{{ {query.failures} }}", values, 1)


def _count(row: ox.QuerySolution, query: Query, result: ValidationResult) -> None:
    member = query.members[int(row["shape"].value)] if len(query.members) > 1 else query.members[0]
    for flag, check in member.checks:
        if flag is None or row[f"ok{flag}"].value == "0":
            kept = result.count(member.shape, check.component)
            if kept is not None:
                kept.append(_result(row, member, check))


def _result(row: ox.QuerySolution, member: Member, check: Check) -> Result:
    """A kept result; terms become rdflib terms only here, for the few results kept."""
    shape = member.shape
    path = row["path"]  # bound by sh:closed only: the predicate not allowed
    carries_value = check.has_value
    return Result(
        to_rdflib(row["this"]), to_rdflib(path) if path is not None else shape.path,
        to_rdflib(row["value"]) if carries_value else None,
        shape.node, check.component, shape.severity, shape.message or check.message,
    )



