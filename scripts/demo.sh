#!/bin/sh
# make demo: the main job on the bundled example: the two-stage IPD meta-analysis of
# examples/sessions.csv (and examples/patients.csv) as examples/analysis.toml specifies.
# Usage: scripts/demo.sh path/to/spiral [output-directory]
set -eu
spiral="$1"
out="${2:-$(dirname "$spiral")/demo}"   # beside the binary, in the build tree
if [ ! -f examples/analysis.toml ]; then
  echo "demo: examples/analysis.toml is missing (written by 'spiral simulate --spec-out')" >&2
  exit 2
fi
"$spiral" describe --data examples/sessions.csv
"$spiral" ipd run --spec examples/analysis.toml --out "$out"
echo
echo "demo: report: $(cd "$out" && pwd)/report.html"
