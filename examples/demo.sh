#!/usr/bin/env bash
# The main job on the bundled example release: convert -> validate -> load -> query.
# Usage: bash examples/demo.sh [WORKDIR]   (default: ./hkg-demo)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:-hkg-demo}"
mkdir -p "$work"

echo "== convert the release to Turtle (report of what was converted and skipped)"
hkg-rdf convert "$here/HuggingKG_V20241215000000" -o "$work/huggingkg.ttl" --report "$work/convert-report.json"

echo "== validate it against the SHACL shapes"
hkg-rdf validate "$work/huggingkg.ttl" --report "$work/shacl-report.ttl"

echo "== load it into a persistent Oxigraph store"
hkg-rdf load "$here/HuggingKG_V20241215000000" --store "$work/store" --replace

echo "== what is in the store"
hkg-rdf stats --store "$work/store"

for q in "$here"/queries/*.rq; do
  echo "== $(basename "$q"): $(sed -n 's/^# *//p' "$q" | head -n 1)"
  hkg-rdf query --store "$work/store" -f "$q"
done

echo "== dump the store as gzipped N-Triples for other tools"
hkg-rdf dump --store "$work/store" -o "$work/huggingkg.nt.gz"
echo "done: $work"
