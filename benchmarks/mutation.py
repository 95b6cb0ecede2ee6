"""Mutation testing of the behaviours a silent failure costs most, run by hand (never in CI).

    pip install -e '.[test,mutation]'
    python benchmarks/mutation.py                    # every target below
    python benchmarks/mutation.py push store         # some of them
    python benchmarks/mutation.py --list             # the targets

Each target runs in a scratch copy of the working tree (``--work``, default
/tmp/hkg-mutation/TARGET), so the checkout is never mutated:

* ``negotiation``, ``store``, ``push``: mutmut (PyPI), configured per target by rewriting the
  copy's ``[tool.mutmut]`` (the module to mutate, the tests that exercise it). mutmut runs, for
  each mutant, only the tests that reached the mutated function.
* ``sandbox``: cosmic-ray (PyPI). The sandbox's code runs only inside worker processes, which
  mutmut's in-process bookkeeping cannot see; cosmic-ray mutates the file on disk and runs the
  sandbox tests, whose workers then load the mutant.
* ``licenses``: the license table of ontology/mapping.ttl is data, not code: each row in turn
  gets the next row's license IRI, and tests/test_licenses.py must fail for every such table.

Prints, per target, mutants / killed / survived (and mutmut's other verdicts), and writes the
survivors' diffs to WORK/TARGET/survivors.txt. A survivor is either a missing test (write it)
or an equivalent mutant (say why in the note); see benchmarks/README.md for the last figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: target -> (module, pytest arguments selecting its tests). Each mutant runs every selected test
#: that reached its function, so the slow tests are left out where faster ones check the same
#: behaviour: Virtuoso (Oxigraph's server finds the same mutants), the end-to-end answer
#: comparisons, the killed push / killed load (the wire-level resume test and the swap watcher
#: check what they check, deterministically) and the loads of 20,000-200,000 generated records.
MUTMUT = {
    "negotiation": ("hkg_rdf/serve/negotiation.py", ["tests/test_serve_units.py", "-k", "negotiation or format"]),
    "store": ("hkg_rdf/store.py", ["tests/test_store.py", "-k", "racing or failing_after or replace_replaces or not_a_store or reader_whose or gives_up "
              "or cannot or plain or lock or leftover or search_index or someone_else or failed_load_whose"]),
    "push": ("hkg_rdf/push.py", ["tests/test_push.py", "-k", "not virtuoso and not synthetic_source and not serve_fronts and not violations and not killed_push and not example_graph "
             "and not reachable_endpoint and not serve_remote"]),
}
#: ``--focus``: the functions that carry the behaviours of issue #16 (mutmut name patterns)
FOCUS = {
    "push": ["*ǁpush__mutmut_*", "*ǁ_swap__mutmut_*", "*ǁ_send__mutmut_*", "*x__read_state__mutmut_*", "*x__write_state__mutmut_*", "*x_chunks__mutmut_*"],
    "store": ["*x__swap__mutmut_*", "*x_load_atomically__mutmut_*", "*x_open_read_only__mutmut_*", "*x_live_path__mutmut_*", "*x__remove_stale__mutmut_*"],
}
SANDBOX = ("hkg_rdf/serve/sandbox.py", ["tests/test_serve_units.py", "-k", "seccomp"])
LICENSES = ["tests/test_licenses.py"]
TARGETS = [*MUTMUT, "sandbox", "licenses"]


def scratch_copy(work: Path) -> Path:
    """The working tree's files (tracked and untracked, not ignored) copied to ``work``."""
    if work.exists():
        shutil.rmtree(work)
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True, capture_output=True).stdout
    for name in filter(None, names.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / name)
    return work


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def run_mutmut(target: str, work: Path, children: int, focus: bool) -> dict[str, int]:
    module, selection = MUTMUT[target]
    paths = [a for a in selection if a.startswith("tests/")]
    options = [a for a in selection if not a.startswith("tests/")]
    pyproject = work / "pyproject.toml"
    text = re.sub(r"\[tool\.mutmut\].*?(?=\n\[|\Z)", "", pyproject.read_text(), flags=re.S)
    text += (f"\n[tool.mutmut]\nsource_paths = [\"hkg_rdf\"]\nonly_mutate = [\"{module}\"]\n"
             f"also_copy = [\"ontology\", \"shapes\", \"examples\", \"benchmarks\"]\n"
             f"pytest_add_cli_args_test_selection = {_toml_list(paths)}\n"
             f"pytest_add_cli_args = {_toml_list(['-p', 'no:cacheprovider', '-x', *options])}\n"
             # workers forked from a fork server that has only collected the tests: forked straight
             # from mutmut's process, which ran them, a worker inherits RocksDB's thread pools
             # without their threads and waits forever on its first flush (CPU idle, no timeout)
             f"process_isolation = \"forkserver\"\n")
    pyproject.write_text(text)
    names = FOCUS.get(target, []) if focus else []
    subprocess.run(["mutmut", "run", "--max-children", str(children), *names], cwd=work, stdout=subprocess.DEVNULL)
    results = subprocess.run(["mutmut", "results", "--all", "true"], cwd=work, capture_output=True, text=True).stdout
    verdicts: dict[str, int] = {}
    survivors = []
    for line in results.splitlines():
        name, _, verdict = line.strip().rpartition(": ")
        if name and verdict != "not checked":
            verdicts[verdict] = verdicts.get(verdict, 0) + 1
            if verdict == "survived":
                survivors.append(subprocess.run(["mutmut", "show", name], cwd=work, capture_output=True, text=True).stdout)
    (work / "survivors.txt").write_text("\n".join(survivors))
    return verdicts


def run_cosmic_ray(work: Path) -> dict[str, int]:
    module, selection = SANDBOX
    config = work / "cosmic-ray.toml"
    command = " ".join([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *(f"'{a}'" for a in selection)])
    config.write_text(f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = 300.0\nexcluded-modules = []\n'
                      f'test-command = "{command}"\n[cosmic-ray.distributor]\nname = "local"\n')
    session = work / "session.sqlite"
    subprocess.run(["cosmic-ray", "init", str(config), str(session)], cwd=work, check=True)
    subprocess.run(["cosmic-ray", "exec", str(config), str(session)], cwd=work, check=True, env={**os.environ, "PYTHONPATH": str(work)})
    dump = subprocess.run(["cosmic-ray", "dump", str(session)], cwd=work, capture_output=True, text=True, check=True).stdout
    verdicts: dict[str, int] = {}
    survivors = []
    for line in dump.splitlines():
        item, result = json.loads(line)
        outcome = (result or {}).get("test_outcome") or "not run"
        verdicts[outcome] = verdicts.get(outcome, 0) + 1
        if outcome == "survived":
            survivors.append(result.get("diff", ""))
    (work / "survivors.txt").write_text("\n".join(survivors))
    return verdicts


def run_licenses(work: Path) -> dict[str, int]:
    mapping = work / "ontology" / "mapping.ttl"
    original = mapping.read_text(encoding="utf-8")
    rows = list(re.finditer(r'^\[\] hkgm:licenseLabel "[^"]+" ; hkgm:\w+ (<[^>]+>|\S+) \.$', original, flags=re.M))
    verdicts = {"killed": 0, "survived": 0}
    survivors = []
    for i, row in enumerate(rows):
        other = rows[(i + 1) % len(rows)].group(1)
        if other == row.group(1):
            continue
        line = row.group(0)
        mutant = line[: row.start(1) - row.start(0)] + other + line[row.end(1) - row.start(0):]
        mapping.write_text(original[: row.start()] + mutant + original[row.end():], encoding="utf-8")
        run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *LICENSES], cwd=work,
                             capture_output=True, env={**os.environ, "PYTHONPATH": str(work)})
        verdict = "survived" if run.returncode == 0 else "killed"
        verdicts[verdict] += 1
        if verdict == "survived":
            survivors.append(f"- {line}\n+ {mutant}\n")
    mapping.write_text(original, encoding="utf-8")
    (work / "survivors.txt").write_text("\n".join(survivors))
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"some of: {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/hkg-mutation"))
    parser.add_argument("--children", type=int, default=1, help="mutmut's parallel test runs (default 1: a shared machine)")
    parser.add_argument("--focus", action="store_true", help="push, store: only the functions of issue #16's behaviours (FOCUS)")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(TARGETS))
        return
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown target(s) {sorted(unknown)}; choose from {TARGETS}")
    for target in args.targets or TARGETS:
        work = scratch_copy(args.work / target)
        if target in MUTMUT:
            verdicts = run_mutmut(target, work, args.children, args.focus)
        elif target == "sandbox":
            verdicts = run_cosmic_ray(work)
        else:
            verdicts = run_licenses(work)
        total = sum(verdicts.values())
        print(f"{target}: {total} mutants, " + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())) +
              f"  (survivors: {work / 'survivors.txt'})", flush=True)


if __name__ == "__main__":
    main()
