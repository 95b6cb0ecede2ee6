"""Find entities by name: a full-text index (SQLite FTS5) kept inside each store version.

Every store version gets its own index file, ``<version>/search.sqlite``, written before the
version goes live (:func:`hkg_rdf.store.load_atomically` calls :func:`build_index`), so a swap
of ``current`` swaps the index with it and a reader never sees one version's data through
another's index. Building (:mod:`.build`) stages one row per entity in a scratch SQLite file
(memory stays bounded at any scale), then writes the index in popularity order, so that the
FTS5 rowid *is* the popularity rank. The rows come from the store (one SPARQL query per entity
type) or, for a version holding exactly one conversion, from the converter's own records as it
makes them (:class:`RecordIndex`): the same rows, without a pass over the store. Entities are
named by type and key, as the pages address them; a reader mints IRIs with its own base.

What is indexed, for the entities typed with one of the release's classes: the key (``id``,
``slug``), and the name-like fields ``name``, ``title``, ``fullName``, ``label`` (the first
present is the entity's display label). Popularity: likes (or upvotes, or followers for users
and organizations), then downloads.

Ranking (:func:`search`, :mod:`.find`): an exact key or label first, then key or label
prefixes, then entities having every word of the query; within each tier by popularity. Words
are split as FTS5's ``unicode61`` tokenizer splits them, so ``3.1`` and ``Llama-3.1-8B`` become
phrases of adjacent tokens (``"3 1"``), the last word of a query matches as a prefix, and camel
case and letter-digit runs in names are indexed split as well (``TinyLlama`` → ``tiny llama``).
"""

from .build import RecordIndex, build_index, ensure_index, index_path, records_path
from .find import Hit, Results, SearchError, match_expression, open_index, search

__all__ = ["Hit", "RecordIndex", "Results", "SearchError", "build_index", "ensure_index", "index_path", "match_expression",
           "open_index", "records_path", "search"]
