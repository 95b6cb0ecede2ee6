#!/usr/bin/env bash
# Line + branch coverage of push, store, the sandbox, negotiation, the workers and the crawl,
# measured over the tests of their failure paths, subprocesses and worker processes included
# (coverage's patch = subprocess). Run by hand from the repository root:
#
#     pip install -e '.[test,mutation]'
#     bash benchmarks/coverage.sh [OUT_DIR]        # default /tmp/hkg-coverage
#
# Worker processes that the server kills (SIGKILL: a query past its timeout, shutdown) cannot
# write their data; what they ran before is lost to the figure, which is therefore a lower bound.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/hkg-coverage}"
rm -rf "$out" && mkdir -p "$out"
export HKG_COVERAGE_DATA="$out/.coverage" COVERAGE_RCFILE="$PWD/benchmarks/coverage.ini" PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python -m coverage run -m pytest -q -p no:cacheprovider \
  tests/test_push.py tests/test_store.py tests/test_serve_units.py tests/test_licenses.py tests/test_terms.py \
  tests/test_worker_replies.py tests/test_crawl_failures.py tests/test_validate_or_class.py || echo "(some tests failed: coverage still reported)"
python -m coverage combine --quiet
python -m coverage report --include='hkg_rdf/push.py,hkg_rdf/store.py,hkg_rdf/serve/sandbox.py,hkg_rdf/serve/negotiation.py,hkg_rdf/serve/workers.py,hkg_rdf/sparql_store.py,hkg_rdf/crawl/*' | tee "$out/report.txt"
