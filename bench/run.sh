#!/bin/sh
# make bench: times spiral and the reference packages on the same data in the same run
# and prints the ratios (reference time / spiral time) with the value both must agree on.
# The CLI is timed as a whole process (CSV read included), R in-process with data loaded;
# the R package and the Python module in-process beside lme4/lmerTest and statsmodels.
# Usage: bench/run.sh BUILD_DIR
set -eu
build="$1"
spiral="$build/spiral"
data="$build/bench-data"
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$data/lmm_nonsingular.csv" ] || Rscript "$root/bench/data.R" "$data"

# Median wall time of N runs of a command, in seconds.
median_seconds() {
  n="$1"; shift
  i=0
  while [ "$i" -lt "$n" ]; do
    start=$(date +%s.%N)
    "$@" > /dev/null
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
    i=$((i + 1))
  done | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

json_value() {  # json_value FILE KEY: a top-level number of a JSON file
  sed -n "s/^  \"$2\": \([^,]*\),*$/\1/p" "$1" | head -n 1
}

# The IPD example without the RI-CLPM (whose lavaan fits R would need on top), for both.
sed -e "s|^source = \"sessions.csv\"|source = \"$root/examples/sessions.csv\"|" \
    -e "s|^source = \"patients.csv\"|source = \"$root/examples/patients.csv\"|" \
    -e "s|^panel = true|panel = false|" "$root/examples/analysis.toml" > "$data/ipd.toml"
"$spiral" prep --spec "$data/ipd.toml" --out "$data/prepared.csv"

echo "R reference timings (in-process) ..." >&2
ref="$build/bench-reference.txt"
Rscript "$root/bench/reference.R" "$data" > "$ref"
Rscript "$root/bench/ipd.R" "$data/prepared.csv" "$root/examples/patients.csv" >> "$ref"

print_row() {  # print_row NAME SPIRAL_SECONDS REFERENCE_SECONDS SPIRAL_VALUE REFERENCE_VALUE
  ratio=$(awk -v r="$3" -v s="$2" 'BEGIN { print r / s }')
  printf '| %-21s | %10.4f | %10.4f | %8.1fx | %-24s | %-24s |\n' "$1" "$2" "$3" "$ratio" "$4" "$5"
}

row() {  # row NAME SPIRAL_SECONDS SPIRAL_VALUE: the reference's time and value from $ref
  r_seconds=$(awk -v n="$1" '$1 == n { print $2 }' "$ref")
  r_value=$(awk -v n="$1" '$1 == n { print $3 }' "$ref")
  print_row "$1" "$2" "$r_seconds" "$3" "$r_value"
}

out="$build/bench-out"
mkdir -p "$out"
printf '| %-21s | %10s | %10s | %9s | %-24s | %-24s |\n' benchmark "spiral (s)" "ref (s)" "ref/spiral" "spiral value" "reference value"
echo "|-----------------------|-----------:|-----------:|----------:|--------------------------|--------------------------|"

f='O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient)'
t=$(median_seconds 5 "$spiral" lmm --data "$data/lmm_lagged.csv" --formula "$f" --format json --out "$out/a.json")
row lmm_lagged "$t" "$(json_value "$out/a.json" criterion)"

f='y ~ Pw_lag1 + Ow_lag1 + session + (1 + Pw_lag1 | patient)'
t=$(median_seconds 5 "$spiral" lmm --data "$data/lmm_nonsingular.csv" --formula "$f" --format json --out "$out/n.json")
row lmm_nonsingular "$t" "$(json_value "$out/n.json" criterion)"

t=$(median_seconds 3 "$spiral" lmm --data "$data/insteval.csv" --formula 'y ~ 1 + (1|s) + (1|d) + (1|dept)' \
  --format json --out "$out/b.json")
row lmm_insteval "$t" "$(json_value "$out/b.json" criterion)"

if [ -x "$build/bench/bench_meta" ]; then
  t=$("$build/bench/bench_meta" "$data/meta17.csv")
  "$spiral" meta --data "$data/meta17.csv" --yi yi --vi vi --test knha --format json --out "$out/m.json"
  row meta_per_call "$t" "$(json_value "$out/m.json" tau2)"
fi

t=$(median_seconds 3 "$spiral" ipd run --spec "$data/ipd.toml" --out "$out/ipd")
"$spiral" ipd run --spec "$data/ipd.toml" --format json > "$out/ipd.json" 2>/dev/null
row ipd_example "$t" "$(awk '/"model": "process_to_outcome"/ { m = 1 } m && /"term": "Pw_lag1"/ { t = 1 }
  m && t && /"estimate"/ { gsub(/[ ",]/, ""); split($0, a, ":"); print a[2]; exit }' "$out/ipd.json")"

t=$(median_seconds 3 "$spiral" panel --data "$data/panel300.csv" --id patient --time session \
  --vars alliance,symptoms --format json --out "$out/p.json")
row panel300 "$t" "$(json_value "$out/p.json" logLik)"

# spiral dsem against the same model in Stan on the same data (tests/reference/dsem.R small:
# rstan, 4 chains of 1000 warmup + 2000 draws, one after the other): the minimum bulk ESS over
# the parameters per second of wall time. Stan's seconds are those stored by its reference run
# (sum of the chains' warmup and sampling), not timed here: rstan takes minutes.
start=$(date +%s.%N)
"$spiral" dsem --data "$root/tests/reference/dsem/small.csv" --id patient --time session --vars alliance,symptoms \
  --between baseline --format json --out "$out/dsem.json" 2> /dev/null
end=$(date +%s.%N)
/usr/bin/python3 - "$out/dsem.json" "$root/tests/reference/dsem/small.json" "$start" "$end" <<'PY'
import json, sys
spiral, stan = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
seconds = float(sys.argv[4]) - float(sys.argv[3])
ess = min(r["ess_bulk"] for key in ("fixed", "moderators", "random", "innovations") for r in spiral[key])
stan_ess = min(p["ess_bulk"] for p in stan["parameters"])
ours, theirs = ess / seconds, stan_ess / stan["stan_seconds"]
print(f"dsem (150 patients x 7 sessions, 4 chains): min bulk ESS per second {ours:.1f} "
      f"({ess:.0f} in {seconds:.2f} s), Stan {theirs:.2f} ({stan_ess:.0f} in {stan['stan_seconds']:.0f} s): {ours / theirs:.0f}x")
PY

# spiral dsem on the seed trial's shape (tests/reference/dsem.R trial_data: 547 patients x 12
# sessions, 5 arms, baseline severity, 10% missed sessions), 4 chains at the default draws: wall
# time, minimum bulk ESS per second and maximum R-hat. Stan has not been run on this case (its
# reference run would take most of an hour on this machine), so there is no ratio here.
start=$(date +%s.%N)
"$spiral" dsem --data "$root/tests/reference/dsem/trial.csv" --id patient --time session --vars alliance,symptoms \
  --between baseline,arm --format json --out "$out/dsem_trial.json" 2> /dev/null
end=$(date +%s.%N)
/usr/bin/python3 - "$out/dsem_trial.json" "$start" "$end" <<'PY'
import json, sys
spiral = json.load(open(sys.argv[1]))
seconds = float(sys.argv[3]) - float(sys.argv[2])
ess = min(r["ess_bulk"] for key in ("fixed", "moderators", "random", "innovations") for r in spiral[key])
print(f"dsem (547 patients x 12 sessions, 5 arms, 4 chains): {seconds:.2f} s, min bulk ESS per second {ess / seconds:.1f} "
      f"({ess:.0f}), max R-hat {spiral['diagnostics']['max_rhat']:.3f}")
PY

# The R package and the Python module in-process against lme4/lmerTest and statsmodels.
Rscript "$root/bench/bindings.R" "$data" 2>/dev/null | while read -r name s r sv rv; do print_row "$name" "$s" "$r" "$sv" "$rv"; done
/usr/bin/python3 "$root/bench/bindings.py" "$data" | while read -r name s r sv rv; do print_row "$name" "$s" "$r" "$sv" "$rv"; done

# spiral power at the first seed study's size (the bundled example's design: 17 studies,
# 5,350 patients x 7 sessions, every model and the RI-CLPM): replications per second, all
# cores. There is no R counterpart to time (R would loop over simulate + the whole analysis).
# 16 replications (about 2 s): with 4, the process start and the last replication's idle
# core moved the rate by a third from run to run. Five runs, their median and range: on this
# shared machine one run of the same binary took 1.56 to 2.19 s within a minute.
reps=16
times=""
for run in 1 2 3 4 5; do
  start=$(date +%s.%N)
  "$spiral" power --spec "$root/examples/analysis.toml" --replications "$reps" --format json --out "$out/power.json"
  end=$(date +%s.%N)
  times="$times $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')"
done
echo "$times" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk -v r="$reps" '{ t[NR] = $1 } END {
  printf "\npower (17 studies, 5,350 patients x 7 sessions): %d replications in %.2f s (median of 5 runs; %.2f-%.2f s) = %.2f replications/s (%.2f-%.2f)\n",
    r, t[3], t[1], t[5], r / t[3], r / t[5], r / t[1] }'

# The scale test: the seeds' lagged random-slope model on 100k and on 1M patients x 10 sessions
# (9M complete rows), the whole process (CSV read included) with Satterthwaite df: wall time
# and peak memory (targets: 1M below 2 GB and at most 13x the 100k fit). No R counterpart is
# timed (lme4 needs 6.9 GB for the 1M fit).
f='O ~ Pw_lag1 + Ow_lag1 + Pm + Om + session + (1 + Pw_lag1 | patient)'
for n in 100000 1000000; do
  [ -f "$data/lagged$n.csv" ] || Rscript "$root/bench/lagged_scale.R" "$n" "$data/lagged$n.csv"
  /usr/bin/time -f "%e %M" -o "$out/lagged$n.time" "$spiral" lmm --data "$data/lagged$n.csv" --formula "$f" \
    --format json --out "$out/lagged$n.json" 2> /dev/null
done
awk 'FNR == 1 { t[++k] = $1; m[k] = $2 } END {
  printf "lmm, the lagged model, 100k patients x 10 sessions: %.1f s, %.0f MB peak\n", t[1], m[1] / 1024
  printf "lmm, the lagged model, 1M patients x 10 sessions: %.1f s, %.0f MB peak (%.1fx the 100k fit; targets < 2 GB, <= 13x)\n",
    t[2], m[2] / 1024, t[2] / t[1] }' "$out/lagged100000.time" "$out/lagged1000000.time"
