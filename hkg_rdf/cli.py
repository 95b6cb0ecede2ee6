"""The ``hkg-rdf`` command line: convert, load, validate, query, dump, export, stats, bench.

Exit codes: 0 success (for validate: conforms), 1 validation found violations,
2 unusable input (the message names file, record and field; nothing is written), or a write
the file system refused (a full disk): to a store by a load or ``crawl --store`` (the message
names the store, which is left as it was), or to a crawl's checkpoint or release (it names the
file; the same command, rerun, resumes).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __doc__ as package_doc
from .errors import InputError
from .iris import DEFAULT_BASE_IRI, IriMinter
from .report import Report

EXIT_VIOLATIONS = 1
EXIT_INPUT = 2

base_iri_option = click.option(
    "--base-iri", default=DEFAULT_BASE_IRI, show_default=True, envvar="HKG_BASE_IRI",
    help="Base of entity IRIs: <base><type>/<id>.",
)
store_option = click.option("--store", "store_dir", type=click.Path(path_type=Path), required=True, help="Store directory.")
keep_dangling_option = click.option(
    "--keep-dangling", is_flag=True, help="Keep edges whose ends are not among the entities (default: skip and count them)."
)
def remote_options(function):
    """--sparql URL (instead of --store DIR), --graph, --auth, --token."""
    for option in reversed([
        click.option("--sparql", metavar="URL", help="Query a remote SPARQL endpoint instead of --store (e.g. http://host:8890/sparql)."),
        click.option("--graph", metavar="IRI", help="With --sparql: the named graph to read (default: the one 'hkg-rdf push' writes)."),
        click.option("--auth", metavar="USER:PASS", envvar="HKG_SPARQL_AUTH", help="With --sparql: HTTP Basic (or Digest, if the server asks) credentials."),
        click.option("--token", metavar="T", envvar="HKG_SPARQL_TOKEN", help="With --sparql: a bearer token."),
    ]):
        function = option(function)
    return function


def _open(store_dir: Path | None, sparql: str | None, graph: str | None, auth: str | None, token: str | None):
    from .sparql_store import open_store

    if bool(store_dir) == bool(sparql):
        raise click.UsageError("give --store DIR or --sparql URL (one of them)")
    return open_store(store_dir, sparql, graph, auth, token)


report_option = click.option("--report", "report_path", type=click.Path(path_type=Path), help="Also write the run's report as JSON.")


def terms_options(function):
    """--no-standard-terms, --license IRI: what a conversion writes beside the hkg: triples."""
    function = click.option("--license", "license_iri", metavar="IRI", help="License of the data, stated in the dump's VoID/DCAT description.")(function)
    return click.option("--no-standard-terms", is_flag=True, help="Leave out the FAIR4ML/schema.org/PROV/DCAT/FOAF/SKOS/DC triples the ontology entails (default: written).")(function)


def _terms(no_standard_terms: bool, license_iri: str | None):
    import pyoxigraph as ox

    from .triples import Terms

    if license_iri is not None:
        try:
            ox.NamedNode(license_iri)
        except ValueError as error:
            raise InputError("--license", f"not an IRI ({error}): {license_iri!r}") from None
    return Terms(standard=not no_standard_terms, license_iri=license_iri)


def _minter(base_iri: str) -> IriMinter:
    try:
        return IriMinter(base_iri)
    except ValueError as error:
        raise InputError("--base-iri", str(error)) from error


def _finish(report: Report, report_path: Path | None) -> None:
    click.echo(report.summary(), err=True)
    if report_path:
        report.write(report_path)


class Cli(click.Group):
    """A click group that turns InputError into a clear message and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_INPUT)


@click.group(cls=Cli, help=package_doc)
@click.version_option(package_name="hkg-rdf")
def main() -> None:
    pass


@main.command(epilog="Example: hkg-rdf convert examples/HuggingKG_V20241215000000 -o hkg.ttl.gz")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Output file: .nt .ttl .nq .trig .jsonld .rdf, optionally .gz.")
@base_iri_option
@keep_dangling_option
@terms_options
@report_option
def convert(source: Path, output: Path, base_iri: str, keep_dangling: bool, no_standard_terms: bool, license_iri: str | None, report_path: Path | None) -> None:
    """Convert a HuggingKG release (directory or .zip) or a triples.txt to an RDF file."""
    from .convert import convert as run

    _finish(run(source, output, _minter(base_iri), keep_dangling, _terms(no_standard_terms, license_iri)), report_path)


@main.command(epilog="Example: hkg-rdf load examples/HuggingKG_V20241215000000 --store hkg-store --replace --validate")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@store_option
@base_iri_option
@keep_dangling_option
@click.option("--replace", is_flag=True, help="Replace the store's content instead of adding to it.")
@terms_options
@report_option
@click.option("--validate", "validate_", is_flag=True, help="Also give the SHACL verdict of the loaded store (exit 1 on violations), as 'validate --store' does.")
@click.option("--shapes", type=click.Path(exists=True, path_type=Path), help="With --validate: SHACL shapes (default: the hkg-rdf shapes).")
@click.option("--shacl-report", "shacl_report", type=click.Path(path_type=Path), help="With --validate: write the standard SHACL validation report (Turtle).")
@click.option("--examples", default=5, show_default=True, help="With --validate: examples shown per shape and constraint.")
def load(sources: tuple[Path, ...], store_dir: Path, base_iri: str, keep_dangling: bool, replace: bool, no_standard_terms: bool, license_iri: str | None,
         report_path: Path | None, validate_: bool, shapes: Path | None, shacl_report: Path | None, examples: int) -> None:
    """Load releases, triples.txt files or RDF files into the store, atomically.

    Either every source is loaded, or the store keeps its previous content. With --validate
    the verdict comes at little more than the load's cost: a single release is checked
    against the shapes while it is converted, and the store checks only the rest.
    """
    terms = _terms(no_standard_terms, license_iri)
    if not validate_:
        if shapes or shacl_report:
            raise click.UsageError("--shapes and --shacl-report need --validate")
        from .load import load as run

        _finish(run(store_dir, list(sources), _minter(base_iri), keep_dangling, replace, terms), report_path)
        return
    from .load import load_and_validate

    report, result, proven = load_and_validate(store_dir, list(sources), _minter(base_iri), keep_dangling, replace, shapes, terms)
    _finish(report, report_path)
    click.echo(proven, err=True)
    click.echo(result.summary(examples))
    if shacl_report:
        result.write_report(shacl_report)
    sys.exit(0 if result.conforms else EXIT_VIOLATIONS)


@main.command(epilog="Examples: hkg-rdf validate hkg.ttl.gz    hkg-rdf validate --store hkg-store --report report.ttl")
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--store", "store_dir", type=click.Path(exists=True, path_type=Path), help="Validate a store instead of files.")
@click.option("--shapes", type=click.Path(exists=True, path_type=Path), help="SHACL shapes (default: the hkg-rdf shapes).")
@click.option("--report", "report_path", type=click.Path(path_type=Path), help="Write the standard SHACL validation report (Turtle).")
@click.option("--examples", default=5, show_default=True, help="Examples shown per shape and constraint.")
@click.option("--base", help="Base IRI for the files' relative IRIs (default: each file's own location).")
@remote_options
def validate(files: tuple[Path, ...], store_dir: Path | None, shapes: Path | None, report_path: Path | None, examples: int,
             base: str | None, sparql: str | None, graph: str | None, auth: str | None, token: str | None) -> None:
    """Check RDF files or a store against the SHACL shapes.

    Exit 0 if the data conforms, 1 if there are violations, 2 if the input is unusable.
    """
    from . import validate as validation

    if bool(files) + bool(store_dir) + bool(sparql) != 1:
        raise click.UsageError("give RDF files, --store DIR or --sparql URL (one of them)")
    if store_dir or sparql:
        result = validation.validate_store(_open(store_dir, sparql, graph, auth, token), shapes)
    else:
        result = validation.validate_files(list(files), shapes, base=base)
    click.echo(result.summary(examples))
    if report_path:
        result.write_report(report_path)
    sys.exit(0 if result.conforms else EXIT_VIOLATIONS)


@main.command(epilog="Example: hkg-rdf query --store hkg-store -f examples/queries/lineage-down.rq\n\n"
              "Remote: hkg-rdf query --sparql http://127.0.0.1:8890/sparql -f examples/queries/lineage-down.rq")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), help="Store directory.")
@remote_options
@click.argument("query_text", metavar="QUERY", required=False)
@click.option("-f", "--file", "query_file", type=click.Path(exists=True, path_type=Path), help="Read the query from a file.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xml", "csv", "tsv", "ttl", "nt", "jsonld"]), default="table", show_default=True)
def query(store_dir: Path | None, sparql: str | None, graph: str | None, auth: str | None, token: str | None, query_text: str | None,
          query_file: Path | None, fmt: str) -> None:
    """Run a SPARQL query on the store (prefixes hkg:, rdfs:, prov:, schema:, ... predeclared)."""
    from .query import run, write_results

    if bool(query_text) == bool(query_file):
        raise click.UsageError("give a QUERY or -f FILE (not both)")
    text = query_file.read_text(encoding="utf-8") if query_file else query_text
    results = run(_open(store_dir, sparql, graph, auth, token), text, str(query_file or "query"))
    write_results(results, fmt, click.get_text_stream("stdout"), click.get_binary_stream("stdout"))


@main.command("search", epilog='Example: hkg-rdf search --store hkg-store "llama 3.1 instruct" --type model')
@store_option
@click.argument("words", nargs=-1, required=True)
@click.option("--type", "types", multiple=True, metavar="TYPE", help="Only entities of this type (repeatable): model, dataset, space, paper, ...")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="Results shown.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search_command(store_dir: Path, words: tuple[str, ...], types: tuple[str, ...], limit: int, as_json: bool) -> None:
    """Find entities by id or name, best first (the store version's full-text index; built if missing)."""
    import json

    from .search import SearchError, ensure_index, open_index, search
    from .vocab import vocabulary

    segments = [t.segment for t in vocabulary().types]
    for name in types:
        if name not in segments:
            raise click.BadParameter(f"{name!r} is not one of {', '.join(segments)}", param_hint="--type")
    try:
        results = search(open_index(ensure_index(store_dir)), " ".join(words), types, limit)
    except SearchError as error:
        raise InputError(str(store_dir), str(error)) from error
    if as_json:
        click.echo(json.dumps(results.as_json(), ensure_ascii=False, indent=1))
        return
    for hit in results.hits:
        counts = "  ".join(f"{n:,} {what}" for n, what in ((hit.likes, "likes"), (hit.downloads, "downloads")) if n)
        click.echo(f"{hit.type:<10} {hit.id}" + (f"  ({hit.label})" if hit.label and not hit.id.endswith(hit.label) else "") + (f"  {counts}" if counts else ""))
    click.echo(f"{results.total:,}{'+' if results.more else ''} match(es)", err=True)


@main.command(epilog="Example: hkg-rdf dump --store hkg-store -o hkg.nt.gz")
@store_option
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Output file: .nt .ttl .nq .trig .jsonld .rdf, optionally .gz.")
def dump(store_dir: Path, output: Path) -> None:
    """Write the store's content to an RDF file for other tools."""
    from .dump import dump as run
    from .store import open_read_only

    run(open_read_only(store_dir), output)


@main.command(epilog="Example: hkg-rdf export --store hkg-store --to huggingkg -o release-again/")
@store_option
@click.option("--to", "target", type=click.Choice(["huggingkg"]), default="huggingkg", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Output directory.")
@base_iri_option
@report_option
def export(store_dir: Path, target: str, output: Path, base_iri: str, report_path: Path | None) -> None:
    """Write the store back in the HuggingKG release format: 38 JSON files and triples.txt.

    The output directory must be new or empty; it appears only when the export succeeds.
    Store triples that have no place in the release are counted by reason, never dropped silently.
    """
    from .export import NOT_EXPORTED, export_release
    from .store import open_read_only

    report = Report()
    counts = export_release(open_read_only(store_dir), output, _minter(base_iri), report)
    click.echo(f"wrote {len(counts) - 1} files to {output}; {counts[NOT_EXPORTED]:,} store triples not exported", err=True)
    _finish(report, report_path)


@main.command(epilog="Example: hkg-rdf stats --store hkg-store --json    (or --sparql URL)")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), help="Store directory.")
@remote_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(store_dir: Path | None, sparql: str | None, graph: str | None, auth: str | None, token: str | None, as_json: bool) -> None:
    """Count entities per type, edges per relation and triples in the store."""
    import json

    from .stats import format_stats, stats as run

    result = run(_open(store_dir, sparql, graph, auth, token))
    click.echo(json.dumps(result, indent=1) if as_json else format_stats(result))


EXIT_INCOMPLETE = 3


@main.command(epilog="Examples: hkg-rdf push --store hkg-store --endpoint http://127.0.0.1:7878/query\n\n"
              "hkg-rdf push examples/HuggingKG_V20241215000000 --endpoint http://127.0.0.1:8890/sparql --auth dba:dba --graph https://example.org/hkg\n\n"
              "Interrupted or failed: rerun the same command to resume.")
@click.argument("sources", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--store", "store_dir", type=click.Path(exists=True, path_type=Path), help="Push this store's graph (instead of SOURCES).")
@click.option("--endpoint", required=True, metavar="URL", help="The store's SPARQL query endpoint (Oxigraph: .../query, Virtuoso: .../sparql).")
@click.option("--graph", metavar="IRI", help="Named graph to replace (default: https://w3id.org/huggingkg/graph).")
@click.option("--auth", metavar="USER:PASS", envvar="HKG_SPARQL_AUTH", help="HTTP Basic credentials (Digest when the server asks for it).")
@click.option("--token", metavar="T", envvar="HKG_SPARQL_TOKEN", help="Bearer token.")
@click.option("--chunk", default=50_000, show_default=True, type=click.IntRange(min=1), help="Triples per request.")
@click.option("--update-endpoint", metavar="URL", help="SPARQL Update URL (default: guessed from --endpoint).")
@click.option("--gsp-endpoint", metavar="URL", help="Graph Store Protocol URL (default: guessed from --endpoint; 'none': use SPARQL Update only).")
@click.option("--retries", default=5, show_default=True, type=click.IntRange(min=0), help="Retries per request on network errors, 5xx and 429.")
@click.option("--backoff", default=1.0, show_default=True, help="First back-off in seconds (doubles per retry).")
@click.option("--state", "state_path", type=click.Path(path_type=Path), help="Resume state file (default: in ~/.cache/hkg-rdf/push/).")
@base_iri_option
@keep_dangling_option
def push(sources: tuple[Path, ...], store_dir: Path | None, endpoint: str, graph: str | None, auth: str | None, token: str | None, chunk: int,
         update_endpoint: str | None, gsp_endpoint: str | None, retries: int, backoff: float, state_path: Path | None, base_iri: str,
         keep_dangling: bool) -> None:
    """Push a store or sources into a named graph of an external SPARQL store, replacing it.

    Uploads N-Triples chunks into a temporary graph (Graph Store Protocol, or SPARQL Update
    INSERT DATA), checks the count, then swaps it in with one SPARQL Update (MOVE). The target
    graph serves its previous content until then. Rerun the same command to resume.
    """
    import tempfile

    from .push import PushError, Endpoints, Pusher, source_fingerprint
    from .sparql_store import DEFAULT_GRAPH, parse_auth
    from .store import live_path, open_read_only

    if bool(sources) == bool(store_dir):
        raise click.UsageError("give SOURCES or --store DIR (one of them)")
    graph = graph or DEFAULT_GRAPH
    credentials = parse_auth(auth, token)
    endpoints = Endpoints.guess(endpoint, update_endpoint, "" if gsp_endpoint == "none" else gsp_endpoint, authenticated=credentials is not None)
    endpoints.gsp = endpoints.gsp or None
    pusher = Pusher(endpoints, credentials, retries=retries, backoff=backoff, echo=lambda m: click.echo(m, err=True))
    with tempfile.TemporaryDirectory(prefix="hkg-push-") as scratch:
        if store_dir:
            store, fingerprint = open_read_only(store_dir), f"store:{live_path(store_dir).resolve()}"
        else:
            from .load import load as run_load

            _finish(run_load(Path(scratch) / "store", list(sources), _minter(base_iri), keep_dangling, replace=True), None)
            store = open_read_only(Path(scratch) / "store")
            fingerprint = f"sources:{source_fingerprint(list(sources))}:{base_iri}:{keep_dangling}"
        try:
            result = pusher.push(store, graph, fingerprint, chunk, state_path)
        except PushError as error:
            click.echo(f"push failed: {error}\n<{graph}> is unchanged; rerun the same command to resume", err=True)
            sys.exit(EXIT_INCOMPLETE)
        del store
    resumed = f", resumed at chunk {result.resumed_at + 1}" if result.resumed_at else ""
    click.echo(f"pushed {result.triples:,} triples to <{graph}> in {result.chunks} chunks, {result.seconds:.1f} s "
               f"({result.rate:,.0f} triples/s{resumed}; upload {result.upload_seconds:.1f} s, swap by {result.swap} {result.swap_seconds:.1f} s)", err=True)




@main.command(epilog="Example: hkg-rdf crawl --out hub-2025-06-01 --workers 4 --store hkg-store\n\n"
              "Resume: rerun the same command. Incremental: --previous hub-2025-05-01 (or a store).")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Crawl directory: checkpoint, release, triples.txt, manifest.")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), help="Also load the snapshot into this store (replacing its content), with PROV-O metadata.")
@click.option("--types", default="", help="Comma-separated entity types to crawl (default: all): model,dataset,space,paper,collection,user,org,task.")
@click.option("--limit", type=click.IntRange(min=1), help="At most N items per listing (models, datasets, spaces, collections): a quick partial crawl.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]),
              help="UTC date(-time). With --previous: reuse its details of repos not modified since. Without: crawl only repos modified since.")
@click.option("--previous", type=click.Path(exists=True, path_type=Path), help="Baseline: an earlier crawl directory, a release, or a store.")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(min=1, max=64), help="Requests in flight at most.")
@click.option("--endpoint", envvar="HF_ENDPOINT", help="Hub endpoint (default: $HF_ENDPOINT or https://huggingface.co).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds before a request times out (then it is retried).")
@click.option("--retries", default=8, show_default=True, help="Retries per request on 429, 5xx, timeouts and dropped connections.")
@click.option("--backoff", default=1.0, show_default=True, help="First back-off in seconds (doubles per retry) for 5xx and network errors.")
@click.option("--page-size", type=click.IntRange(min=1), help="Items per listing page to ask for (default: the Hub's maximum).")
@click.option("--restart", is_flag=True, help="Discard the checkpoint in --out and crawl from scratch.")
@click.option("--include-private", is_flag=True, help="Keep the private repos and collections a token lists (default: left out, as HuggingKG has none).")
@click.option("--expand-people", is_flag=True, help="Make followers and organization members users too, one hop (default: as HuggingKG, they are not).")
@base_iri_option
def crawl(out: Path, store_dir: Path | None, types: str, limit: int | None, since, previous: Path | None, workers: int,
          endpoint: str | None, timeout: float, retries: int, backoff: float, page_size: int | None, restart: bool,
          include_private: bool, expand_people: bool, base_iri: str) -> None:
    """Crawl the Hugging Face Hub into a HuggingKG release, resumably.

    Writes OUT/HuggingKG_V<start>/ (the published format), OUT/triples.txt and
    OUT/crawl-manifest.json (the snapshot: when, from where, by which tool versions, counts,
    what was skipped, errors, requests). Kill it and rerun the same command: it continues from
    OUT/crawl.sqlite without refetching finished pages. Token: HF_TOKEN or `hf auth login`.
    """
    from datetime import timezone

    from .crawl import CrawlIncomplete, Options, crawl as run, summary
    from .vocab import vocabulary

    segments = {t.segment for t in vocabulary().types}
    chosen = frozenset(t.strip() for t in types.split(",") if t.strip())
    if chosen - segments:
        raise click.BadParameter(f"unknown type(s) {sorted(chosen - segments)}; choose from {sorted(segments)}", param_hint="--types")
    options = Options(
        out=out, types=chosen, limit=limit, since=since.replace(tzinfo=timezone.utc) if since else None, workers=workers,
        previous=previous, endpoint=endpoint, timeout=timeout, retries=retries, backoff=backoff, page_size=page_size, restart=restart,
        include_private=include_private, expand_people=expand_people,
    )
    _minter(base_iri)
    try:
        result = run(options, store=store_dir, base_iri=base_iri, echo=lambda m: click.echo(m, err=True))
    except CrawlIncomplete as error:
        click.echo(f"crawl incomplete: {error}; rerun the same command to continue", err=True)
        sys.exit(EXIT_INCOMPLETE)
    click.echo(summary(result), err=True)


@main.command(epilog="Example: hkg-rdf diff hub-2025-05-01 hub-2025-06-01 --json changes.json")
@click.argument("old", type=click.Path(exists=True, path_type=Path))
@click.argument("new", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Also write every change as JSON.")
@click.option("--summary-only", is_flag=True, help="Print only the counts.")
def diff(old: Path, new: Path, json_path: Path | None, summary_only: bool) -> None:
    """List entities and edges added (+), removed (-) and changed (~) from OLD to NEW.

    OLD and NEW are crawl directories (hkg-rdf crawl --out) or releases. One tab-separated
    line per change on stdout; counts on stderr.
    """
    import json

    from .crawl.diff import Diff, changes, summary

    collected = Diff()
    for change in changes(old, new):
        collected.add(change)
        if not summary_only:
            sys.stdout.write(change.line() + "\n")
    click.echo(summary(collected.counts()), err=True)
    if json_path:
        json_path.write_text(json.dumps(collected.as_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


@main.command(epilog="Example: hkg-rdf serve --store hkg-store --port 8000   (then open http://127.0.0.1:8000/)\n\n"
              "In front of a shared store: hkg-rdf serve --sparql http://127.0.0.1:8890/sparql --base-iri https://w3id.org/huggingkg/resource/")
@click.option("--store", "store_dir", type=click.Path(path_type=Path), help="Store directory.")
@remote_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0 for all).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds a query may run before it is stopped (its worker is killed and replaced).")
@click.option("--max-rows", default=10_000, show_default=True, type=click.IntRange(min=1), help="Rows (or triples) a result may have; a longer one is cut and marked truncated.")
@click.option("--allow-update", "update_token", metavar="TOKEN", envvar="HKG_UPDATE_TOKEN", help="Accept SPARQL updates bearing 'Authorization: Bearer TOKEN' (default: read-only).")
@click.option("--allow-remote", is_flag=True, help="Let SERVICE and LOAD fetch from other servers (off: they are refused, and workers cannot open network sockets).")
@click.option("--base-iri", default=None, envvar="HKG_BASE_IRI", help="Base of the store's entity IRIs (default: read from the store). Entity IRIs dereference under its path.")
@click.option("--workers", default=None, type=click.IntRange(min=1), help="Query worker processes (default: one per CPU).")
@click.option("--max-queue", default=32, show_default=True, type=click.IntRange(min=0), help="Requests that may wait for a worker; more get 503.")
@click.option("--max-request-bytes", default=1_000_000, show_default=True, type=click.IntRange(min=1024), help="Largest request body or query string (413/414 beyond).")
@click.option("--cors-origin", "cors_origins", multiple=True, default=["*"], show_default=True, help="Origins allowed by CORS (repeatable); 'none' turns CORS off.")
@click.option("--access-log", type=click.Path(path_type=Path), help="Write the access log to this file (default: standard error).")
@click.option("--worker-memory", default=4096, show_default=True, type=click.IntRange(min=0), help="Memory (MB) a worker may allocate; a query needing more is stopped. 0: no limit.")
@click.option("--dumps", "dumps_dir", type=click.Path(path_type=Path), help="Directory of dump files to serve with SHA-256 (default: STORE/dumps).")
@click.option("--no-dump-generation", is_flag=True, help="Do not write a dump of the current store version into the dumps directory.")
@click.option("--public-url", help="The server's public URL, if behind a proxy (default: from each request's Host).")
@click.option("--license", "license_iri", help="License IRI of the data, stated in the VoID description.")
@click.option("--cheap-workers", default=2, show_default=True, type=click.IntRange(min=0), help="Workers kept for pages, documents and short queries, beyond --workers (which bounds long queries).")
@click.option("--long-query-after", default=1.0, show_default=True, type=click.FloatRange(min=0.01), help="Seconds after which a query counts as long (it moves to the long-query lane, or is stopped if that is full).")
@click.option("--max-client-queries", default=4, show_default=True, type=click.IntRange(min=0), help="Queries one client address may run at once (429 beyond; 0: no limit).")
@click.option("--max-response-bytes", default=64_000_000, show_default=True, type=click.IntRange(min=1024), help="Bytes a query result may have; a longer one is cut and marked truncated.")
@click.option("--header-timeout", default=10.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds a client has to send a request's headers.")
@click.option("--proxy-headers", is_flag=True, help="Trust X-Forwarded-For/-Proto from a reverse proxy on 127.0.0.1 (off: they are ignored).")
def serve(store_dir: Path | None, sparql: str | None, graph: str | None, auth: str | None, token: str | None, host: str, port: int, timeout: float, max_rows: int, update_token: str | None, allow_remote: bool, base_iri: str | None,
          workers: int | None, max_queue: int, max_request_bytes: int, cors_origins: tuple[str, ...], access_log: Path | None, worker_memory: int,
          dumps_dir: Path | None, no_dump_generation: bool, public_url: str | None, license_iri: str | None,
          cheap_workers: int, long_query_after: float, max_client_queries: int, max_response_bytes: int, header_timeout: float, proxy_headers: bool) -> None:
    """Serve the store as Linked Data: SPARQL endpoint, entity pages, VoID, query page.

    Read-only unless --allow-update; SERVICE and LOAD refused unless --allow-remote. Entity
    IRIs dereference when the store was loaded with --base-iri pointing at this server.
    With --sparql URL it fronts a remote SPARQL store (pages, limits and safety checks apply;
    queries go to the remote graph; no dumps are generated, no updates).
    """
    from .serve import ServeConfig, serve as run
    from .store import live_path

    if bool(store_dir) == bool(sparql):
        raise click.UsageError("give --store DIR or --sparql URL (one of them)")
    if sparql:
        if update_token:
            raise click.UsageError("--allow-update needs --store: updates go to the remote store itself")
        from .sparql_store import RemoteStore, parse_auth

        RemoteStore(sparql, graph, parse_auth(auth, token), retries=0).query("ASK { }")  # unreachable: a clear message and exit 2
    else:
        live_path(store_dir)  # not a store: a clear message and exit 2
    if base_iri is not None:
        _minter(base_iri)
    config = ServeConfig(
        store_dir=store_dir, host=host, port=port, timeout=timeout, max_rows=max_rows, allow_update=update_token, allow_remote=allow_remote,
        base_iri=base_iri, max_queue=max_queue, max_request_bytes=max_request_bytes,
        cors_origins=() if tuple(cors_origins) == ("none",) else tuple(cors_origins), access_log=access_log, worker_memory_mb=worker_memory,
        dumps_dir=dumps_dir, generate_dumps=not no_dump_generation, public_url=public_url, license_iri=license_iri,
        sparql=sparql, graph=graph, auth=auth, token=token, cheap_workers=cheap_workers, long_query_after=long_query_after,
        max_client_queries=max_client_queries, max_response_bytes=max_response_bytes, header_timeout=header_timeout, proxy_headers=proxy_headers,
    )
    if workers:
        config.workers = workers
    run(config)


# ---------------------------------------------------------------- HuggingBench

BENCH_TASKS = click.Choice(["recommendation", "classification", "tracing"])
split_option = click.option("--split", "split_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
                            help="A directory written by 'hkg-rdf bench export'.")
on_option = click.option("--on", type=click.Choice(["test", "valid"]), default="test", show_default=True, help="Which held-out part.")
predict_option = click.option("--predict", type=click.Choice(["head", "tail"]), default="head", show_default=True,
                              help="Tracing: rank base models of (relation, derived) [head], or derived models of a base [tail].")


@main.group(epilog="Example: hkg-rdf bench export tracing --store hkg-store -o bench/tracing")
def bench() -> None:
    """HuggingBench: export the test collections, run baselines, evaluate, report."""


@bench.command("export", epilog="Example: hkg-rdf bench export recommendation --store hkg-store -o bench/recommendation --seed 1")
@click.argument("task", type=BENCH_TASKS)
@click.option("--store", "store_dir", type=click.Path(exists=True, path_type=Path), help="Store directory.")
@remote_options
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output directory.")
@click.option("--seed", default=0, show_default=True, help="Seed of the random parts of the split.")
@click.option("--ratios", default=None, help="train:valid:test [recommendation 8:1:1, classification 70:13:17].")
@click.option("--k-core", default=0, show_default=True, type=click.IntRange(min=0), help="Recommendation: keep users and items with at least K likes.")
@click.option("--split-by", type=click.Choice(["temporal", "random"]), default="temporal", show_default=True, help="Classification: by createdAt, or a seeded random split.")
@click.option("--keep-front-matter", is_flag=True, help="Classification: keep the README's YAML front matter in text.tsv (it names the gold task).")
@click.option("--valid-ratio", default=0.009, show_default=True, type=click.FloatRange(0, 1), help="Tracing: share of lineage triples held out for validation (the paper's 0.9 %).")
@click.option("--test-ratio", default=0.009, show_default=True, type=click.FloatRange(0, 1), help="Tracing: share of lineage triples held out for test (the paper's 0.9 %).")
@click.option("--with-kg", is_flag=True, help="Tracing: add the rest of the graph as extra training triples.")
@base_iri_option
def bench_export(task: str, store_dir: Path | None, sparql: str | None, graph: str | None, auth: str | None, token: str | None,
                 output: Path, seed: int, ratios: str | None, k_core: int, split_by: str, keep_front_matter: bool,
                 valid_ratio: float, test_ratio: float, with_kg: bool, base_iri: str) -> None:
    """Export a HuggingBench collection from the store or a SPARQL endpoint (deterministic for a seed)."""
    import json

    from .bench.common import Namer, parse_ratios

    namer = Namer(_minter(base_iri))
    if task == "tracing" and valid_ratio + test_ratio >= 1:
        raise InputError("--valid-ratio/--test-ratio", "must leave lineage triples for training")
    store = _open(store_dir, sparql, graph, auth, token)
    output.mkdir(parents=True, exist_ok=True)
    if task == "recommendation":
        from .bench.export_recommendation import export as run

        stats = run(store, output, namer, seed, parse_ratios(ratios or "8:1:1"), k_core)
    elif task == "classification":
        from .bench.export_classification import export as run

        stats = run(store, output, namer, seed, parse_ratios(ratios or "70:13:17"), split_by, keep_front_matter)
    else:
        from .bench.export_tracing import export as run, shortfall

        stats = run(store, output, namer, seed, valid_ratio, test_ratio, with_kg)
        if warning := shortfall(stats):
            click.echo(warning, err=True)
    click.echo(json.dumps(stats, indent=1, sort_keys=True))


@bench.command("eval", epilog="Example: hkg-rdf bench eval tracing --split bench/tracing --predictions transe.tsv -o scores/transe.json")
@click.argument("task", type=BENCH_TASKS)
@split_option
@click.option("--predictions", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True, help="Predictions file (see 'bench baseline').")
@on_option
@predict_option
@click.option("--ties", type=click.Choice(["mean", "rounded", "worst", "best"]), default="mean", show_default=True,
              help="Tracing: rank of a true answer tied in score: mean (fractional), rounded (LibKGE's rounded_mean_rank), worst, best.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Also write the metrics as JSON.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def bench_eval(task: str, split_dir: Path, predictions: Path, on: str, predict: str, ties: str, output: Path | None, as_json: bool) -> None:
    """Score predictions: Recall/NDCG@5,10,20,40; micro/macro-F1; filtered MRR, Hits@1,3,5,10."""
    import json

    from .bench.metrics import EVALUATORS

    options = {"predict": predict, "ties": ties} if task == "tracing" else {}
    metrics = EVALUATORS[task](split_dir, predictions, on, **options)
    text = json.dumps(metrics, indent=1, sort_keys=True)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")
    click.echo(text if as_json else "\n".join(f"{k:<16}{v:.4f}" if isinstance(v, float) else f"{k:<16}{v}" for k, v in metrics.items()))


@bench.command("baseline", epilog="Example: hkg-rdf bench baseline recommendation --split bench/recommendation --method itemknn -o itemknn.tsv")
@click.argument("task", type=BENCH_TASKS)
@split_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Predictions file to write.")
@click.option("--method", type=click.Choice(["popularity", "itemknn", "gfcf", "propagation", "tfidf", "names", "transe"]),
              help="recommendation: popularity|itemknn|gfcf; classification: propagation|tfidf; tracing: names|transe (default: the first).")
@on_option
@predict_option
@click.option("--seed", default=0, show_default=True, help="Seed (TransE, GF-CF's SVD start vector).")
def bench_baseline(task: str, split_dir: Path, output: Path, method: str | None, on: str, predict: str, seed: int) -> None:
    """Run a CPU baseline and write its predictions in the format 'bench eval' reads."""
    import time

    from .bench.baselines import METHODS, run_baseline

    if method and method not in METHODS[task]:
        raise InputError("--method", f"{method} is not a {task} baseline; choose from {', '.join(METHODS[task])}")
    start = time.perf_counter()
    used = run_baseline(task, split_dir, method, output, on, seed, **({"predict": predict} if task == "tracing" else {}))
    click.echo(f"{task}/{used}: wrote {output} in {time.perf_counter() - start:.1f} s", err=True)


@bench.command("report", epilog="Example: hkg-rdf bench report bench -o bench/report.md")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Markdown file; the chart goes beside it as .png.")
def bench_report(root: Path, output: Path) -> None:
    """Statistics and scores of ROOT/<task>/ (stats.json, scores/*.json) as Markdown and PNG."""
    from .bench.report import report

    found = report(root, output)
    if not found:
        raise InputError(str(root), "no <task>/stats.json under it: export collections there first")
    click.echo(f"wrote {output} and {output.with_suffix('.png')}", err=True)


if __name__ == "__main__":
    main()
