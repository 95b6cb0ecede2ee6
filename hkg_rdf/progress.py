"""Progress with a rate on stderr for long steps (silent when stderr is not a terminal)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tqdm import tqdm

from .report import Report


def triples_progress(chunks: Iterable[bytes], report: Report, desc: str) -> Iterator[bytes]:
    """Pass chunks through, showing how many triples the report has counted and how fast."""
    with tqdm(desc=desc, unit=" triples", unit_scale=True, disable=None, leave=False) as bar:
        for chunk in chunks:
            bar.update(report.triples - bar.n)
            yield chunk
        bar.update(report.triples - bar.n)


def counted(items: Iterable, desc: str, unit: str) -> Iterator:
    """Pass items through a progress bar."""
    yield from tqdm(items, desc=desc, unit=unit, unit_scale=True, disable=None, leave=False)
