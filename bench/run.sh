#!/usr/bin/env bash
# The ratios of "fast at scale" (issue 16), measured in one run on cohorts written by
# `crit simulate`, each printed with its target. Usage (from anywhere in the repository):
#
#   bench/run.sh [--subjects N] [--big N] [--repeat R] [--skip-big] [--skip-benches]
#
#   --subjects N   cohort for the speed ratios (default 100000)
#   --big N        cohort for peak memory (default 1000000; about 2 GB of CSV, written once)
#   --repeat R     runs of each command; the median is used (default 3)
#
# Single-thread figures are CPU time (user + system), which other work on a shared machine
# disturbs least; the thread ratio is wall time. Peak memory is the maximum resident set.
# Cohorts are kept in target/bench (or $BENCH_DIR) and written again only when missing.
# Needs GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

subjects=100000 big=1000000 repeat=3 skip_big=0 skip_benches=0
while [ $# -gt 0 ]; do
  case "$1" in
    --subjects) subjects=$2; shift 2 ;;
    --big) big=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --skip-big) skip_big=1; shift ;;
    --skip-benches) skip_benches=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "bench/run.sh needs GNU time (/usr/bin/time)" >&2; exit 2; }

cargo build --release --quiet
crit=$PWD/target/release/crit
dir=${BENCH_DIR:-$PWD/target/bench}
mkdir -p "$dir"
fails=0

load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?"; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo 2>/dev/null)"
echo "load average at start: $(load)"

# A cohort of N subjects with CT and PET columns.
cohort() {
  local n=$1 out=$dir/sim-$1
  if [ ! -s "$out/lesions.csv" ]; then
    "$crit" simulate --subjects "$n" --pet --seed 1 --output "$out" >/dev/null
  fi
  echo "$out/lesions.csv"
}

# measure FIELD CMD...: runs CMD `repeat` times (output discarded) and prints the median of
# FIELD: cpu (user + system seconds), wall (seconds) or rss (peak KB).
measure() {
  local field=$1; shift
  local vals=()
  for _ in $(seq "$repeat"); do
    /usr/bin/time -f "%e %U %S %M" -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/stderr.txt" || {
      echo "failed: $*" >&2; cat "$dir/stderr.txt" >&2; exit 1; }
    read -r wall user sys rss <"$dir/time.txt"
    case $field in
      cpu) vals+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')") ;;
      wall) vals+=("$wall") ;;
      rss) vals+=("$rss") ;;
    esac
  done
  printf '%s\n' "${vals[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

# check NAME VALUE OP TARGET [DETAIL]: prints the figure and whether it meets its target.
check() {
  local name=$1 value=$2 op=$3 target=$4 detail=${5:-}
  local ok
  ok=$(awk -v v="$value" -v t="$target" -v op="$op" 'BEGIN { print ((op == "<=" && v <= t) || (op == ">=" && v >= t) || (op == "<" && v < t)) ? "ok" : "MISSED" }')
  [ "$ok" = ok ] || fails=$((fails + 1))
  printf '%-58s %8s  (target %s %s) %s  %s\n' "$name" "$value" "$op" "$target" "$ok" "$detail"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

data=$(cohort "$subjects")
echo "cohort: $subjects subjects, $(($(wc -l <"$data") - 1)) rows ($data); each figure the median of $repeat runs"
echo

# 1. eval / validate, one thread.
validate=$(measure cpu "$crit" validate --criteria recist-1.1 "$data" --threads 1)
eval1=$(measure cpu "$crit" eval --criteria recist-1.1 "$data" --threads 1 --format csv)
check "1. eval / validate, recist-1.1, one thread" "$(ratio "$eval1" "$validate")" "<=" 1.5 "(${eval1} s / ${validate} s CPU)"

# 2. one thread / two threads, wall time.
wall1=$(measure wall "$crit" eval --criteria recist-1.1 "$data" --threads 1 --format csv)
wall2=$(measure wall "$crit" eval --criteria recist-1.1 "$data" --threads 2 --format csv)
check "2. eval 1 thread / 2 threads (wall)" "$(ratio "$wall1" "$wall2")" ">=" 1.7 "(${wall1} s / ${wall2} s; load $(load))"

# 3. interpreter / RECIST 1.1 by hand, same cohort in memory (benches/interpreter, its own workspace).
if [ "$skip_benches" = 0 ]; then
  # The benchmark's paired measurement (`--paired`): runs of the two over the cohort in turn,
  # the median of the pairs' ratios, so that a slower spell of a shared machine slows both
  # sides of a pair; the median of `repeat` such measurements, as for the other figures.
  ratios=()
  for _ in $(seq "$repeat"); do
    out=$(cargo bench --quiet --manifest-path benches/interpreter/Cargo.toml --bench interpreter -- --paired 2>/dev/null)
    ratios+=("$(echo "$out" | sed -n 's/^paired ratio interpreted \/ by hand: \([0-9.]*\).*/\1/p')")
  done
  agree=$(echo "$out" | grep -m1 '^by hand' || true)
  runs=$(printf '%s ' "${ratios[@]}")
  check "3. interpreter / RECIST 1.1 by hand (in memory)" \
    "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR]=$1} END {printf "%.2f", v[int((NR+1)/2)]}')" \
    "<=" 2 "(runs: ${runs% }; $agree)"
  # The same ratio in instructions, which do not depend on the load (valgrind, when installed):
  # each run evaluates the 2,000 subjects twice (the agreement count, then one sample).
  if command -v valgrind >/dev/null; then
    bin=$(cargo bench --manifest-path benches/interpreter/Cargo.toml --bench interpreter --no-run 2>&1 |
      sed -n 's/.*Executable .*(\(.*\))/\1/p' | tail -1)
    instructions() { # FUNCTION BENCH
      valgrind --tool=callgrind --toggle-collect="$1" --callgrind-out-file="$dir/callgrind.out" \
        "$bin" --bench "$2" --sample-count 1 --sample-size 1 >/dev/null 2>&1
      callgrind_annotate "$dir/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
    }
    ir_interp=$(instructions 'crit::eval::engine::Engine::evaluate' interpreted)
    ir_hand=$(instructions 'interpreter::recist::recist' by_hand)
    printf '%-58s %8s  (%s / %s instructions per subject; callgrind)\n' \
      "3. the same in instructions" "$(ratio "$ir_interp" "$ir_hand")" \
      "$((ir_interp / 4000))" "$((ir_hand / 4000))"
  fi
fi

# 5. other criteria and compare, each / recist-1.1 (one thread).
for c in irecist percist-1.0 dr-recist; do
  t=$(measure cpu "$crit" eval --criteria "$c" "$data" --threads 1 --format csv)
  check "5. $c / recist-1.1" "$(ratio "$t" "$eval1")" "<=" 1.5 "(${t} s CPU)"
done
three=(--criteria recist-1.1 --criteria irecist --criteria dr-recist)
cmp_text=$(measure cpu "$crit" compare "$data" "${three[@]}" --threads 1 --output /dev/null)
check "5. compare of 3 criteria / recist-1.1" "$(ratio "$cmp_text" "$eval1")" "<=" 3 "(${cmp_text} s CPU)"

# 6. compare html / compare json.
cmp_json=$(measure cpu "$crit" compare "$data" "${three[@]}" --threads 1 --format json --output "$dir/compare.json")
cmp_html=$(measure cpu "$crit" compare "$data" "${three[@]}" --threads 1 --format html --output "$dir/compare.html")
check "6. compare html / compare json" "$(ratio "$cmp_html" "$cmp_json")" "<=" 2 "(${cmp_html} s / ${cmp_json} s CPU)"

# 4. peak memory of eval on the big cohort, every output format.
if [ "$skip_big" = 0 ]; then
  bigdata=$(cohort "$big")
  echo "big cohort: $big subjects, $(du -h "$bigdata" | cut -f1)"
  for f in text json csv sdtm-rs; do
    extra=()
    [ "$f" = sdtm-rs ] && extra=(--studyid SIM)
    kb=$(repeat=1 measure rss "$crit" eval --criteria recist-1.1 "$bigdata" --format "$f" "${extra[@]}")
    check "4. peak memory, eval $big subjects, --format $f (MB)" "$((kb / 1024))" "<" 200
  done
fi

echo
echo "load average at end: $(load)"
[ "$fails" = 0 ] && echo "every target met" || echo "$fails target(s) missed"
