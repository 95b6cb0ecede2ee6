#!/usr/bin/env python3
"""Benchmark hkg-rdf's command line on synthetic HuggingKG releases, against references.

    python benchmarks/bench.py --scale 0.01 [--scale 0.1 ...] [--work DIR] [--keep]
                               [--skip-reference] [--reference-scale 0.01] [--limit 1800]

Run by hand; it is not a test and asserts nothing about time. For each scale it generates a
release (or reuses the one already in --work for that scale and seed), then runs each stage as
a user would, every one in its own process: ``python -m hkg_rdf convert | load | validate | dump |
export``; on the loaded store, ``bench export`` of each HuggingBench collection and ``bench
baseline`` of each of its CPU methods; and ``benchmarks/load_test.py`` serving the store (entity
pages, documents and the lineage queries with 8 clients, then with one). As references,
measured the same way in the same run: pyoxigraph's raw ``Store.bulk_load`` of the converted
N-Triples (the floor a load cannot beat), and, at small scales, plain rdflib + pyshacl
(what a user would do without hkg-rdf); for bench export, one SPARQL scan of every triple; for
serving, load_test.py on the 70-entity example store.

Per process we measure wall seconds and the peak RSS of the whole process tree: ``load`` converts
in a process forked by a multiprocessing fork server, so the memory a user pays for is spread over
several processes. Every ~0.1 s we sum the RSS of the process, all its descendants and every
process already seen that is still alive (in case one was re-parented away from the tree), and
keep the maximum. Results go to stdout (Markdown tables, ready for benchmarks/README.md) and to
``WORK/results-<scale>.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatch
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

import psutil

REPO = Path(__file__).resolve().parent.parent
GENERATE = REPO / "benchmarks" / "generate.py"
LOAD_TEST = REPO / "benchmarks" / "load_test.py"
SHAPES = REPO / "shapes" / "hkg-shapes.ttl"
RELEASE_NAME = "HuggingKG_V20241215000000"
SAMPLE_SECONDS = 0.1
MB = 1_000_000
HKG = [sys.executable, "-m", "hkg_rdf"]
SCAN = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"  # one pass over every triple: the reference for bench export
SERVE_REQUESTS = 2000  # per scenario, with load_test.py's 8 clients (throughput)
LATENCY_REQUESTS = 300  # per scenario, one client at a time (latency)

# pyoxigraph's own bulk loader on the converted N-Triples: the floor for `hkg-rdf load`.
FLOOR_SCRIPT = """
import sys, pyoxigraph as ox
store = ox.Store(sys.argv[1])
store.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_TRIPLES)
store.flush()
"""

# pyoxigraph's own serialiser on the loaded store: the reference for `hkg-rdf dump`.
DUMP_SCRIPT = """
import sys, pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
store.dump(sys.argv[2], ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
"""

# What a user without hkg-rdf would do. Prints a JSON line after each phase (flushed), so a run
# killed at the time limit still tells how far it got; ru_maxrss is this process's exact peak.
RDFLIB_SCRIPT = """
import json, resource, sys, time
from rdflib import Graph, Namespace
import pyshacl
def say(**fields):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    fields.update(maxrss_mb=usage.ru_maxrss * 1024 / 1e6, cpu=usage.ru_utime + usage.ru_stime, time=time.time())
    print(json.dumps(fields), flush=True)
graph = Graph()
graph.parse(sys.argv[1], format="nt")
say(phase="parsed", triples=len(graph))
start = time.perf_counter()
conforms, results, _ = pyshacl.validate(graph, shacl_graph=Graph().parse(sys.argv[2], format="turtle"))
seconds = time.perf_counter() - start
say(phase="validated", seconds=seconds, conforms=bool(conforms),
    results=len(set(results.objects(None, Namespace("http://www.w3.org/ns/shacl#").result))))
"""


@dataclass
class Run:
    """One measured process: its command, outcome, wall time and peak memory."""

    name: str
    cmd: list[str]
    returncode: int | None  # None: killed at the time limit
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float  # user + system of the tree, as last sampled (a lower bound)
    load_average: float  # 1-minute load average when the process started (the machine is shared)
    started: float  # time.time() at start
    max_processes: int  # largest process tree seen (load: main, fork server, conversion)
    stdout: str  # log file paths
    stderr: str
    triples: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def status(self) -> str:
        if self.extra.get("not run"):
            return "not run"
        if self.returncode is None:
            return "killed at time limit"
        return "ok" if self.ok else f"FAILED (exit {self.returncode})"


def _sample(root: psutil.Process, seen: dict[int, psutil.Process], cpu: dict[int, float]) -> tuple[int, int]:
    """RSS summed over the process tree, and its size; records each process's CPU seconds so far."""
    try:
        for child in root.children(recursive=True):
            seen.setdefault(child.pid, child)
    except psutil.NoSuchProcess:
        pass
    total = 0
    for pid, process in list(seen.items()):
        try:
            if not process.is_running():  # ended (or its pid was reused)
                raise psutil.NoSuchProcess(pid)
            with process.oneshot():
                total += process.memory_info().rss
                times = process.cpu_times()
                cpu[pid] = times.user + times.system
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            del seen[pid]
    return total, len(seen)


def measure(name: str, cmd: list[str | Path], logs: Path, limit: float | None = None) -> Run:
    """Run ``cmd`` to completion (or kill it after ``limit`` seconds), sampling its tree's memory."""
    cmd = [str(part) for part in cmd]
    out, err = logs / f"{name}.out", logs / f"{name}.err"
    load_average, started = os.getloadavg()[0], time.time()
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        start = time.perf_counter()
        process = psutil.Popen(cmd, stdout=stdout, stderr=stderr, cwd=REPO)
        seen, cpu, peak, processes, returncode = {process.pid: process}, {}, 0, 0, None
        while True:
            rss, size = _sample(process, seen, cpu)
            peak, processes = max(peak, rss), max(processes, size)
            try:
                returncode = process.wait(SAMPLE_SECONDS)
                break
            except psutil.TimeoutExpired:
                pass
            if limit is not None and time.perf_counter() - start > limit:
                for pid, member in seen.items():  # only processes this run started
                    try:
                        member.kill()
                    except psutil.NoSuchProcess:
                        pass
                process.wait()
                break
        seconds = time.perf_counter() - start
    return Run(name, cmd, returncode, seconds, peak / MB, sum(cpu.values()), load_average, started, processes, str(out), str(err))


def tail(path: str, lines: int = 15) -> str:
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def report_failure(run: Run) -> None:
    """Say exactly how a stage failed: command, exit code, stderr tail."""
    if run.extra.get("not run"):
        return
    print(f"\n!! {run.name}: {run.status()} after {run.seconds:.1f} s\n   command: {' '.join(run.cmd)}", file=sys.stderr)
    print("   stderr tail:\n" + tail(run.stderr), file=sys.stderr)


def machine_facts() -> dict:
    """What a reader needs to compare numbers across machines and runs."""
    def package(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True).stdout.strip()

    return {
        "cpus_logical": os.cpu_count(),
        "cpus_physical": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "ram_available_gb": round(psutil.virtual_memory().available / 1e9, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        **{name: package(name) for name in ("pyoxigraph", "rdflib", "pyshacl", "hkg-rdf")},
        "hkg_rdf_commit": git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""),
        "source_digest": source_digest(),
    }


def source_digest() -> str:
    """A digest of the code, ontology and shapes being measured: they may be uncommitted work."""
    digest = hashlib.sha256()
    for path in sorted([*REPO.glob("hkg_rdf/*.py"), *REPO.glob("ontology/*.ttl"), *REPO.glob("shapes/*.ttl")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def ensure_release(work: Path, scale: float, seed: int) -> Path:
    """The synthetic release for (scale, seed), generated once; a half-written one is redone."""
    directory = work / f"release-{scale:g}-seed{seed}"
    marker = directory / "generated.json"
    if not marker.exists():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        print(f"generating scale {scale:g} seed {seed} in {directory} ...", file=sys.stderr)
        run = measure("generate", [sys.executable, GENERATE, "--scale", str(scale), "--seed", str(seed), "-o", directory], directory)
        if not run.ok:
            report_failure(run)
            sys.exit(f"generation failed; see {run.stderr}")
        Path(run.stdout).rename(marker)
        print(f"generated in {run.seconds:.0f} s", file=sys.stderr)
    return directory / RELEASE_NAME


def warm(store: Path) -> None:
    """Read every file of the store's live version once, before a stage that reads the store
    (not measured): a VM may page out memory untouched for a while (the one these figures come
    from pages out what went unread for 60 s), and the stage would then measure the disk, by
    how long ago an earlier stage last read that part of the store."""
    for path in sorted(live_version(store).rglob("*")):
        if path.is_file():
            with open(path, "rb") as data:
                while data.read(1 << 24):
                    pass


def live_version(store: Path) -> Path:
    """The Oxigraph directory an hkg-rdf store's ``current`` names."""
    return store / os.readlink(store / "current")


def count_lines(path: Path) -> int:
    with open(path, "rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 24), b""))


def report_triples(path: Path) -> int | None:
    """Triples counted by an hkg-rdf --report JSON."""
    return json.loads(path.read_text())["triples"] if path.exists() else None


def json_lines(path: str) -> dict[str, dict]:
    """The reference script's phase lines, by phase."""
    lines = [json.loads(line) for line in Path(path).read_text().splitlines() if line.startswith("{")]
    return {line["phase"]: line for line in lines}


def run_scale(scale: float, args: argparse.Namespace, facts: dict) -> dict:
    """All stages and references at one scale; returns what goes to results-<scale>.json.

    Before each stage, the runs so far go to results-<scale>.partial.json: a run stopped at 1.0
    (hours long) still tells what it measured (``--table``), and ``--stage`` can go on from it.
    """
    release = ensure_release(args.work, scale, args.seed)
    run_dir = args.work / f"run-{scale:g}"
    earlier = earlier_runs(args.work, scale) if args.stage else {}
    if not args.stage:
        shutil.rmtree(run_dir, ignore_errors=True)
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    nt, store, dumped, floor_store = run_dir / "hkg.nt", run_dir / "store", run_dir / "dump.nt", run_dir / "floor-store"
    checked_store, raw_dumped, export_dir = run_dir / "checked-store", run_dir / "raw-dump.nt", run_dir / "export"
    input_bytes = sum(f.stat().st_size for f in release.glob("*.json"))
    runs: dict[str, Run] = {}

    def result(**more) -> dict:
        return {"scale": scale, "seed": args.seed, "release": str(release), "limit_seconds": args.limit, "machine": facts,
                "runs": {name: asdict(run) for name, run in runs.items()}, "rows": rows(runs, args.limit), **more}

    def discard(path: Path) -> None:
        """A stage's output once measured, unless --keep: at 1.0 the two dumps are 30 GB."""
        if not args.keep:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)

    def stage(name: str, cmd: list, limit: float | None = None, warmed: Path | None = None) -> Run:
        if args.stage and not any(fnmatch(name, pattern) for pattern in args.stage):
            if name in earlier:
                runs[name] = earlier[name]
                return runs[name]
            return Run(name, [], None, 0.0, 0.0, 0.0, 0.0, 0.0, 0, "", "", extra={"not run": True})  # not in the table
        print(f"[{scale:g}] {name} ...", file=sys.stderr, flush=True)
        write_json(results_path(args.work, scale, partial=True), result(stopped_before=name))
        if warmed is not None:
            warm(warmed)
        run = runs[name] = measure(name, cmd, logs, limit)
        print(f"[{scale:g}] {name}: {run.status()}, {run.seconds:.1f} s, peak RSS {run.peak_rss_mb:.0f} MB", file=sys.stderr)
        if not run.ok and name != "validate":
            report_failure(run)
        return run

    convert = stage("convert", HKG + ["convert", release, "-o", nt, "--report", run_dir / "convert-report.json"])
    convert.triples = report_triples(run_dir / "convert-report.json")
    if convert.seconds:  # 0: not run (--stage)
        convert.extra.update(input_mb=input_bytes / MB, input_mb_per_s=input_bytes / MB / convert.seconds)
    load = stage("load", HKG + ["load", release, "--store", store, "--replace", "--report", run_dir / "load-report.json"])
    load.triples = report_triples(run_dir / "load-report.json")
    checked_load = stage("load-validate", HKG + ["load", release, "--store", checked_store, "--replace", "--validate",
                                                 "--report", run_dir / "load-validate-report.json"])
    checked_load.triples = report_triples(run_dir / "load-validate-report.json")
    if checked_load.stdout:
        checked_load.extra.update(proven=tail(checked_load.stderr, 40).count("proven while converting") > 0,
                                  verdict=Path(checked_load.stdout).read_text().splitlines()[:1])
    shutil.rmtree(checked_store, ignore_errors=True)
    have_store = load.ok or (args.stage and store.exists())  # --stage: the files a --keep run left
    have_nt = convert.ok or (args.stage and nt.exists())
    if have_store:
        validate = stage("validate", HKG + ["validate", "--store", store], warmed=store)
        if validate.returncode == 1:  # violations on generated data: a finding, not to hide
            summary = "\n".join(Path(validate.stdout).read_text().splitlines()[:60])
            print(f"\n!! validate found violations on generated data (exit 1); summary:\n{summary}", file=sys.stderr)
        elif not validate.ok:
            report_failure(validate)
        dump = stage("dump", HKG + ["dump", "--store", store, "-o", dumped], warmed=store)
        if dump.ok and dumped.exists():
            dump.triples = validate.triples = count_lines(dumped)  # the store's triples, as written
        discard(dumped)
        if not args.skip_reference:
            raw_dump = stage("raw-dump", [sys.executable, "-c", DUMP_SCRIPT, live_version(store), raw_dumped], warmed=store)
            raw_dump.triples = dump.triples
            discard(raw_dumped)
        exported = stage("export", HKG + ["export", "--store", store, "--to", "huggingkg", "-o", export_dir], warmed=store)
        exported.triples = dump.triples
        discard(export_dir)
        huggingbench(stage, store, run_dir / "huggingbench", args.seed)
        serving(stage, store, logs, args.seed)
    if have_nt and (scale <= args.reference_scale or args.stage):
        # compared with rdflib + pyshacl, which runs up to --reference-scale; above it, only when
        # --stage names it (1,484 s at 1.0 in session 10: a run of every stage fits a session without it)
        checked = stage("validate-file", HKG + ["validate", nt])
        checked.triples = convert.triples
    if have_nt and not args.skip_reference:
        shutil.rmtree(floor_store, ignore_errors=True)  # (--stage on a --keep run: the floor loads into an empty store, as the first time)
        floor = stage("floor", [sys.executable, "-c", FLOOR_SCRIPT, floor_store, nt])
        floor.triples = convert.triples
        if scale <= args.reference_scale:
            rdflib = stage("rdflib", [sys.executable, "-c", RDFLIB_SCRIPT, nt, SHAPES], limit=args.limit)
            rdflib.extra.update(json_lines(rdflib.stdout))
            rdflib.triples = rdflib.extra.get("parsed", {}).get("triples")

    for path in (nt, store, floor_store, run_dir / "huggingbench"):
        discard(path)
    return result()


def huggingbench(stage: Callable[..., Run], store: Path, out: Path, seed: int) -> None:
    """Export each HuggingBench collection from the store and run each of its CPU baselines on it."""
    sys.path.insert(0, str(REPO))  # this checkout's code, as its stages run it (python -m hkg_rdf in REPO), whatever is installed
    from hkg_rdf.bench.baselines import METHODS

    stage("scan", HKG + ["query", "--store", store, SCAN], warmed=store)
    for task, methods in METHODS.items():
        split = out / task
        exported = stage(f"bench-export-{task}", HKG + ["bench", "export", task, "--store", store, "-o", split, "--seed", seed], warmed=store)
        if exported.ok or split.is_dir():  # (--stage: the split a --keep run left)
            for method in methods:
                stage(f"baseline-{task}-{method}", HKG + ["bench", "baseline", task, "--split", split, "--method", method,
                                                           "-o", out / f"pred-{task}-{method}.tsv", "--seed", seed])


def serving(stage: Callable[..., Run], store: Path, logs: Path, seed: int) -> None:
    """load_test.py on the example store (the reference) and on this store: 8 clients, then one."""
    runs = {
        "serve-example": ["--concurrency", "1", "--requests", LATENCY_REQUESTS],
        "serve": ["--store", store, "--seed", seed, "--requests", SERVE_REQUESTS],
        "serve-latency": ["--store", store, "--seed", seed, "--concurrency", "1", "--requests", LATENCY_REQUESTS],
    }
    for name, options in runs.items():
        results = logs / f"{name}.json"
        run = stage(name, [sys.executable, LOAD_TEST, "--no-flood", "--json", results, *options])
        if run.ok and results.exists() and not run.extra.get("earlier"):
            run.extra["scenarios"] = {r["scenario"]: r for r in json.loads(results.read_text())["results"]}


def results_path(work: Path, scale: float, partial: bool = False) -> Path:
    return work / f"results-{scale:g}{'.partial' if partial else ''}.json"


def write_json(path: Path, result: dict) -> None:
    """Whole or not at all: a run may be killed while it writes."""
    part = path.with_suffix(".tmp")
    part.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    part.replace(path)


def last_results(work: Path, scale: float) -> list[dict]:
    """The last complete results of a scale, then those of a run stopped since (a complete run removes them)."""
    paths = (results_path(work, scale), results_path(work, scale, partial=True))
    return [json.loads(path.read_text()) for path in paths if path.exists()]


def earlier_runs(work: Path, scale: float) -> dict[str, Run]:
    """The latest run of each stage (a stopped run's over the last complete one's), for the stages --stage does not rerun."""
    found = {name: run for result in last_results(work, scale) for name, run in result["runs"].items()}
    return {name: Run(**{**run, "extra": {**run["extra"], "earlier": True}}) for name, run in found.items()}


def versus(run: Run, reference: Run, name: str) -> str:
    """Wall-time and CPU-time ratios: the CPU one holds when the two ran at different loads."""
    cpu = f", {run.cpu_seconds / reference.cpu_seconds:.2f}× its CPU" if reference.cpu_seconds else ""
    return f"{run.seconds / reference.seconds:.2f}× {name} time{cpu}"


def rows(runs: dict[str, Run], limit: float) -> list[dict]:
    """Table rows: our stages, end-to-end, then the references, with the ratios that matter."""
    def row(stage: str, triples: int | None, seconds: float | None, rss: float | None, ratio: str = "", note: str = "",
            cpu: float | None = None, load: float | None = None) -> dict:
        rate = triples / seconds if triples and seconds else None
        return {"stage": stage, "triples": triples, "seconds": seconds, "cpu_seconds": cpu, "triples_per_s": rate,
                "peak_rss_mb": rss, "ratio": ratio, "note": note, "load_average": load}

    def status(run: Run) -> str:
        return "" if run.ok else run.status()

    table = []
    floor, rdflib = runs.get("floor"), runs.get("rdflib")
    if (run := runs.get("convert")):
        table.append(row("convert (release → .nt)", run.triples, run.seconds, run.peak_rss_mb, cpu=run.cpu_seconds, load=run.load_average,
                         note=f"input {run.extra['input_mb']:.0f} MB at {run.extra['input_mb_per_s']:.1f} MB/s {status(run)}".strip()))
    if (run := runs.get("load")):
        ratio = versus(run, floor, "floor") if floor and floor.ok and run.ok else ""
        table.append(row("load (convert + bulk load)", run.triples, run.seconds, run.peak_rss_mb, ratio, status(run), run.cpu_seconds, run.load_average))
    if (run := runs.get("load-validate")):
        ratios = [versus(run, floor, "floor") if floor and floor.ok and run.returncode in (0, 1) else ""]
        if rdflib and rdflib.ok and run.returncode in (0, 1):
            ratios.append(f"{rdflib.seconds / run.seconds:.1f}× faster than rdflib+pyshacl")
        verdict = " ".join(run.extra.get("verdict", []))
        note = (verdict + ("; constraints proven while converting" if run.extra.get("proven") else "")) if run.returncode in (0, 1) else status(run)
        table.append(row("**load --validate (load + SHACL verdict)**", run.triples, run.seconds, run.peak_rss_mb, "; ".join(r for r in ratios if r),
                         note, run.cpu_seconds, run.load_average))
    validate = runs.get("validate")
    pyshacl_seconds = rdflib.extra.get("validated", {}).get("seconds") if rdflib else None
    if validate:
        ratio = f"{pyshacl_seconds / validate.seconds:.0f}× faster than pyshacl" if pyshacl_seconds and validate.returncode in (0, 1) else ""
        note = "violations found (exit 1)" if validate.returncode == 1 else status(validate)
        if rdflib and "validated" in rdflib.extra and validate.returncode in (0, 1) and (validate.returncode == 0) != rdflib.extra["validated"]["conforms"]:
            note += "; pyshacl's verdict differs"
        table.append(row("validate (store)", validate.triples, validate.seconds, validate.peak_rss_mb, ratio, note, validate.cpu_seconds, validate.load_average))
    if (run := runs.get("validate-file")):
        ratio = f"{rdflib.seconds / run.seconds:.1f}× faster than rdflib+pyshacl" if rdflib and rdflib.ok and run.returncode in (0, 1) else ""
        note = "the same work as rdflib+pyshacl: .nt in, verdict out" + ("" if run.returncode in (0, 1) else f"; {run.status()}")
        table.append(row("validate (.nt file → verdict)", run.triples, run.seconds, run.peak_rss_mb, ratio, note, run.cpu_seconds, run.load_average))
    raw_dump = runs.get("raw-dump")
    if (run := runs.get("dump")):
        ratio = versus(run, raw_dump, "Store.dump") if raw_dump and raw_dump.ok and run.ok else ""
        table.append(row("dump (store → .nt)", run.triples, run.seconds, run.peak_rss_mb, ratio, status(run), run.cpu_seconds, run.load_average))
    if (run := runs.get("export")):
        dump = runs.get("dump")
        ratio = versus(run, dump, "dump") if dump and dump.ok and run.ok else ""
        table.append(row("export --to huggingkg", run.triples, run.seconds, run.peak_rss_mb, ratio, status(run), run.cpu_seconds, run.load_average))
    load = runs.get("load")
    if load and validate:
        seconds = load.seconds + validate.seconds
        ratio = ""
        if rdflib and rdflib.ok:
            ratio = f"{rdflib.seconds / seconds:.1f}× faster than rdflib+pyshacl"
        elif rdflib and rdflib.returncode is None:
            ratio = f"> {limit / seconds:.0f}× faster than rdflib+pyshacl"
        note = "" if load.ok and validate.returncode in (0, 1) else "a stage failed"
        table.append(row("**end-to-end: load + validate**", load.triples, seconds, max(load.peak_rss_mb, validate.peak_rss_mb), ratio, note,
                         load.cpu_seconds + validate.cpu_seconds, load.load_average))
    table += huggingbench_rows(runs, row, status) + serving_rows(runs, row)
    if floor:
        table.append(row("ref: pyoxigraph bulk_load of the .nt", floor.triples, floor.seconds, floor.peak_rss_mb, note=status(floor),
                         cpu=floor.cpu_seconds, load=floor.load_average))
    if raw_dump:
        table.append(row("ref: pyoxigraph Store.dump of the store", raw_dump.triples, raw_dump.seconds, raw_dump.peak_rss_mb, note=status(raw_dump),
                         cpu=raw_dump.cpu_seconds, load=raw_dump.load_average))
    if (scan := runs.get("scan")):
        table.append(row("ref: SPARQL COUNT of every triple", None, scan.seconds, scan.peak_rss_mb, note=status(scan),
                         cpu=scan.cpu_seconds, load=scan.load_average))
    if rdflib:
        phases = rdflib.extra
        parsed, validated = phases.get("parsed"), phases.get("validated")
        parse_seconds = parsed["time"] - rdflib.started if parsed else None  # with start-up and imports, like our stages
        table.append(row("ref: rdflib Graph.parse of the .nt", rdflib.triples, parse_seconds, parsed and parsed["maxrss_mb"],
                         cpu=parsed and parsed["cpu"], load=rdflib.load_average,
                         note="" if parsed else f"> {limit:.0f} s limit" if rdflib.returncode is None else status(rdflib)))
        if parsed:
            note = f"conforms={validated['conforms']}, {validated['results']:,} results" if validated else (
                f"> {limit:.0f} s limit" if rdflib.returncode is None else status(rdflib))
            table.append(row("ref: pyshacl.validate", rdflib.triples, pyshacl_seconds, validated and validated["maxrss_mb"], note=note,
                             cpu=validated and validated["cpu"] - parsed["cpu"]))
        total = rdflib.seconds if rdflib.ok else None
        table.append(row("**ref: rdflib + pyshacl total**", rdflib.triples, total, rdflib.peak_rss_mb, cpu=rdflib.cpu_seconds,
                         note="" if rdflib.ok else f"> {limit:.0f} s limit" if rdflib.returncode is None else status(rdflib)))
    return table


def huggingbench_rows(runs: dict[str, Run], row: Callable[..., dict], status: Callable[[Run], str]) -> list[dict]:
    """bench export of each collection (ratio to one SPARQL scan of the store), then its baselines."""
    scan, table = runs.get("scan"), []
    for name, run in runs.items():
        if name.startswith("bench-export-"):
            ratio = versus(run, scan, "scan") if scan and scan.ok and run.ok else ""
            table.append(row(f"bench export {name.removeprefix('bench-export-')}", None, run.seconds, run.peak_rss_mb, ratio,
                             status(run), run.cpu_seconds, run.load_average))
        elif name.startswith("baseline-"):
            task, method = name.removeprefix("baseline-").split("-", 1)
            table.append(row(f"bench baseline {task} {method}", None, run.seconds, run.peak_rss_mb, note=status(run),
                             cpu=run.cpu_seconds, load=run.load_average))
    return table


def serving_rows(runs: dict[str, Run], row: Callable[..., dict]) -> list[dict]:
    """One row per load_test.py scenario; lineage latency as a ratio to the example store's."""
    example = runs.get("serve-example")
    reference = example.extra.get("scenarios", {}).get("lineage-query") if example else None
    table = []
    for name, label in (("serve", "8 clients"), ("serve-latency", "1 client"), ("serve-example", "ref: example store, 1 client")):
        run = runs.get(name)
        if run and not run.ok:
            table.append(row(f"serve ({label})", None, run.seconds, run.peak_rss_mb, note=run.status(), load=run.load_average))
        for scenario, result in (run.extra.get("scenarios", {}) if run else {}).items():
            ratio = ""
            if reference and name == "serve-latency" and scenario.startswith("lineage"):
                ratio = f"p50 {result['p50_ms'] / reference['p50_ms']:.1f}× the example store's lineage-up"
            note = f"{result['requests_per_second']:,.0f} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, {result['errors']} errors"
            table.append(row(f"serve ({label}): {scenario}", None, result["seconds"], run.peak_rss_mb, ratio, note, load=run.load_average))
    return table


def markdown(result: dict, facts: dict) -> str:
    """One scale's table, as Markdown that also reads well in a terminal."""
    def number(value: float | None, digits: int = 0) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    header = ["stage", "triples", "seconds", "CPU s", "triples/s", "peak RSS MB", "load avg", "ratio to reference", "note"]
    body = [[r["stage"], number(r["triples"]), number(r["seconds"], 1), number(r["cpu_seconds"], 1), number(r["triples_per_s"]),
             number(r["peak_rss_mb"]), number(r.get("load_average"), 1), r["ratio"], r["note"]] for r in result["rows"]]
    widths = [max(len(line[i]) for line in [header] + body) for i in range(len(header))]
    align = [":--", "--:", "--:", "--:", "--:", "--:", "--:", ":--", ":--"]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if a.startswith(":") else c.rjust(w) for c, w, a in zip(cells, widths, align)) + " |"

    loads = sorted(run["load_average"] for run in result["runs"].values()) or [0.0]  # (none: stopped in the first stage)
    title = (f"### scale {result['scale']:g} (seed {result['seed']}) — {facts['cpus_logical']} CPUs, {facts['ram_gb']:.0f} GB RAM, "
             f"load average {loads[0]:.1f}–{loads[-1]:.1f} at stage starts")
    rule = "| " + " | ".join(a.ljust(w, "-") if a.startswith(":") else a.rjust(w, "-") for a, w in zip(align, widths)) + " |"
    earlier = [f"{name} ({time.strftime('%H:%M', time.gmtime(run['started']))} UTC)" for name, run in result["runs"].items() if run["extra"].get("earlier")]
    footnote = ["", "From an earlier run (not rerun with --stage): " + ", ".join(earlier) + "."] if earlier else []
    if "stopped_before" in result:
        footnote += ["", f"A stopped run: it ended in or before `{result['stopped_before']}`; the stages after it did not run."]
    return "\n".join([title, "", line(header), rule, *map(line, body), *footnote])


def targets(result: dict) -> list[str]:
    """The issue's targets, checked where this run can say something (informational only)."""
    by_stage = {r["stage"]: r for r in result["rows"]}
    runs = result["runs"]
    lines = []

    def seconds(name: str) -> float | None:
        run = runs.get(name)
        return run["seconds"] if run and run["returncode"] in (0, 1) else None

    checked, floor, rdflib = seconds("load-validate"), seconds("floor"), runs.get("rdflib")
    if checked and floor:
        rss = runs["load-validate"]["peak_rss_mb"]
        lines.append(f"load --validate: {checked:.1f} s = {checked / floor:.2f}× the bulk-load floor ({floor:.1f} s) (target at 1.0: ≤ 1.5×); "
                     f"peak RSS {rss:.0f} MB (target ≤ 3000 MB)")
    if checked and rdflib and rdflib["returncode"] == 0:
        lines.append(f"load --validate vs rdflib+pyshacl: {rdflib['seconds'] / checked:.1f}× faster (target at 0.01: ≥ 20×)")
    if (validate := seconds("validate")) is not None:
        lines.append(f"validate --store: {validate:.1f} s (target at 1.0: ≤ 60 s)")
    dump, raw = seconds("dump"), seconds("raw-dump")
    if dump and raw:
        lines.append(f"dump: {dump / raw:.2f}× pyoxigraph's Store.dump (target ≤ 1.2×)")
    if dump and (export := seconds("export")):
        lines.append(f"export --to huggingkg: {export / dump:.2f}× dump (target at 1.0: ≤ 2×)")
    for name, run in runs.items():
        if name.startswith("bench-export-") and (took := seconds(name)) is not None:
            lines.append(f"bench export {name.removeprefix('bench-export-')}: {took:.1f} s, {run['cpu_seconds']:.0f} CPU s (target at 1.0: ≤ 120 s)")
        elif name.startswith("baseline-") and (took := seconds(name)) is not None:
            lines.append(f"bench baseline {name.removeprefix('baseline-').replace('-', ' ', 1)}: {took:.1f} s (target at 1.0: ≤ 300 s)")
    lines += serving_targets(runs)
    same_work = by_stage.get("validate (.nt file → verdict)")
    if same_work and same_work["ratio"]:
        lines.append(f"validate .nt vs rdflib+pyshacl (the same work): {same_work['ratio']}")
    return lines


def serving_targets(runs: dict[str, dict]) -> list[str]:
    """Entity pages under 8 clients; lineage latency with one client, against the example store's."""
    def scenario(name: str, which: str) -> dict | None:
        return runs.get(name, {}).get("extra", {}).get("scenarios", {}).get(which)

    lines = []
    if (pages := scenario("serve", "entity-page")):
        lines.append(f"entity pages, 8 clients: {pages['requests_per_second']:,.0f} req/s, p99 {pages['p99_ms']} ms "
                     "(target at 1.0: ≥ 500 req/s, p99 ≤ 50 ms)")
    reference = scenario("serve-example", "lineage-query")
    for which in ("lineage-up", "lineage-down"):
        if (found := scenario("serve-latency", which)):
            versus_example = f", {found['p50_ms'] / reference['p50_ms']:.1f}× the example store's" if reference else ""
            lines.append(f"{which}, 1 client: p50 {found['p50_ms']} ms{versus_example} (target at 1.0: ≤ 5 ms, ≤ 2× the example store's)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, action="append", required=True, help="fraction of the published counts; repeatable")
    parser.add_argument("--work", type=Path, default=Path("/tmp/hkg-bench"), help="releases, stores, logs and results-<scale>.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the .nt files, stores and dumps (releases are always kept)")
    parser.add_argument("--skip-reference", action="store_true", help="no bulk_load floor, no rdflib+pyshacl")
    parser.add_argument("--reference-scale", type=float, default=0.01, help="largest scale at which rdflib+pyshacl runs")
    parser.add_argument("--limit", type=float, default=1800, help="seconds before rdflib+pyshacl is killed")
    parser.add_argument("--stage", action="append", help="run only the stages this name or pattern (e.g. 'baseline-*') matches "
                        "(repeatable), on the files a --keep run left; "
                        "the other stages' figures come from the last results-<scale>.json, or a stopped run's, where they have them (marked)")
    parser.add_argument("--table", action="store_true", help="run nothing: print the tables of the last results of each scale "
                        "(a stopped run's, marked, where it is the latest)")
    args = parser.parse_args(argv)
    args.work = args.work.resolve()
    if args.table:
        return print_tables(args.work, args.scale)
    args.work.mkdir(parents=True, exist_ok=True)

    facts = machine_facts()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in facts.items()), flush=True)
    tables = []
    for scale in args.scale:
        result = run_scale(scale, args, facts)
        path = results_path(args.work, scale)
        write_json(path, result)
        results_path(args.work, scale, partial=True).unlink(missing_ok=True)
        tables.append(table_with_targets(result))
        print("\n" + tables[-1] + f"\n\n(results: {path})", flush=True)
    print("\n---- Markdown for benchmarks/README.md ----\n")
    print(f"Machine: {facts['cpus_logical']} logical CPUs, {facts['ram_gb']:.0f} GB RAM, Python {facts['python']}, "
          f"pyoxigraph {facts['pyoxigraph']}, rdflib {facts['rdflib']}, pyshacl {facts['pyshacl']}, hkg-rdf {facts['hkg_rdf_commit']}.\n")
    print("\n\n".join(tables))
    return 0


def table_with_targets(result: dict) -> str:
    return markdown(result, result["machine"]) + "\n\n" + "\n".join(f"- {t}" for t in targets(result))


def print_tables(work: Path, scales: list[float]) -> int:
    """--table: each scale's latest results, as the end of a run prints them; 1 if a scale has none."""
    missing = 0
    for scale in scales:
        found = last_results(work, scale)
        if not found:
            print(f"no results for scale {scale:g} in {work}", file=sys.stderr)
            missing = 1
        for result in found[-1:]:
            print(table_with_targets(result) + "\n")
    return missing


if __name__ == "__main__":
    sys.exit(main())
