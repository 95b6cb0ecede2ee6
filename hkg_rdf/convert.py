"""Convert a HuggingKG source into RDF: a file in any format, or N-Triples for a store."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

from .errors import InputError, refused_write
from .iris import IriMinter
from .progress import triples_progress
from .rdfio import write_ntriples_as
from .record_validation import CheckingTripleMaker, Proof, ShapesGraph
from .report import Report
from .search import RecordIndex
from .triples import Terms, TripleMaker, encode_chunks, source_triples

# A fork server forks conversion processes from a clean, single-threaded process: the
# loading process itself runs Oxigraph's threads and must not be forked.
_PROCESSES = multiprocessing.get_context("forkserver")
_PROCESSES.set_forkserver_preload([__name__])
#: How long a conversion the loader stopped reading may take to notice and end.
STOP_SECONDS = 10


def ntriples_chunks(source: Path, maker: TripleMaker, keep_dangling: bool = False) -> Iterator[bytes]:
    """The N-Triples ``maker`` writes for a release or triples.txt, as UTF-8 chunks, with progress."""
    chunks = encode_chunks(source_triples(source, maker, keep_dangling), str(source))
    return triples_progress(chunks, maker.report, f"converting {source.name}")


def convert(source: Path, output: Path, minter: IriMinter, keep_dangling: bool = False, terms: Terms = Terms()) -> Report:
    """Write ``source`` as RDF to ``output`` (format by extension); a failure leaves no output."""
    report = Report()
    write_ntriples_as(ntriples_chunks(source, TripleMaker(minter, report, terms=terms), keep_dangling), output)
    return report


def _produce(sender: Connection, source: Path, base_iri: str, keep_dangling: bool, terms: Terms, shapes: ShapesGraph | None,
             index_to: Path | None) -> None:
    """In the conversion process: send N-Triples chunks, an empty end marker, then (report, error, proof).

    With ``shapes``, the records are checked against them on the way (the proof says which
    constraints the store must still check); with ``index_to``, the search index's rows are
    staged there from the records, and complete before the end marker is sent.
    """
    report, error, minter = Report(), None, IriMinter(base_iri)
    sink = RecordIndex(index_to) if index_to else None
    if shapes:
        maker = CheckingTripleMaker(minter, report, shapes, keep_dangling, terms=terms, sink=sink)
    else:
        maker = TripleMaker(minter, report, terms=terms, sink=sink)
    try:
        for chunk in ntriples_chunks(source, maker, keep_dangling):
            sender.send_bytes(chunk)
        if sink is not None:
            sink.close()
    except BrokenPipeError:  # the loader gave up (and will discard what it loaded)
        return
    except Exception as raised:  # bad input, or no room for the staged search rows: the loader reports them
        if not (isinstance(raised, InputError) or refused_write(raised)):
            raise
        error = raised
    sender.send_bytes(b"")
    sender.send((report, error, maker.proof if shapes else None))


@contextmanager
def converted_in_process(source: Path, minter: IriMinter, report: Report, keep_dangling: bool = False, terms: Terms = Terms(),
                         shapes: ShapesGraph | None = None, proof: Proof | None = None, index_to: Path | None = None) -> Iterator[Iterator[bytes]]:
    """N-Triples of ``source`` as UTF-8 chunks of whole lines, converted by a separate process.

    Conversion is Python on one core, Oxigraph's bulk load is native code on the others:
    in one process they would take turns on the GIL, in two they overlap. After the block,
    the conversion's counts are merged into ``report`` and its InputError, if any, is raised
    (the stream then ended early, at a record boundary). With ``shapes``, the records are
    checked against them while converting, and what that proved is merged into ``proof``. With
    ``index_to``, the conversion stages the search index's rows there (:class:`RecordIndex`);
    only for a store that will hold this conversion alone.
    """
    receiver, sender = _PROCESSES.Pipe(duplex=False)
    process = _PROCESSES.Process(target=_produce, args=(sender, source, minter.base, keep_dangling, terms, shapes, index_to), daemon=True)
    process.start()
    sender.close()
    try:
        yield iter(receiver.recv_bytes, b"")
        child_report, error, child_proof = receiver.recv()
        report.merge(child_report)
        if proof is not None and child_proof is not None:
            proof.merge(child_proof)
        if error is not None:
            raise error
    except EOFError:
        raise RuntimeError(f"the conversion process for {source} died (exit code {process.exitcode})") from None
    finally:
        receiver.close()  # a conversion still sending gets a broken pipe and ends itself
        process.join(STOP_SECONDS)
        if process.is_alive():  # killed, it leaves its semaphores to the resource tracker, which warns on stderr
            process.kill()
            process.join()
