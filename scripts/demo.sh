#!/bin/sh
# make demo: the main job on the bundled example.
set -eu
spiral="$1"
"$spiral" describe --data examples/sessions.csv
