#!/usr/bin/env bash
# Writes the `eval` target's seeds to seeds/eval: every lesion table of the case corpus and the
# example cohorts, each behind the byte that picks its ruleset (its index among the shipped
# rulesets, sorted as the registry sorts them), its output format, and CSV or JSON.
set -euo pipefail
cd "$(dirname "$0")"
out=seeds/eval
rm -rf "$out" && mkdir -p "$out"
mapfile -t ids < <(ls ../criteria | sed -n 's/\.crit$//p' | LC_ALL=C sort)
index() { local i; for i in "${!ids[@]}"; do [[ ${ids[$i]} == "$1" ]] && echo "$i" && return; done; return 1; }
n=0
seed() { # seed NAME RULESET JSON(0|1) < table
  local i; i=$(index "$2") || { cat >/dev/null; return 0; }
  local byte=$(( i | (n % 3) << 5 | $3 << 7 ))
  n=$((n + 1))
  { printf "\\$(printf %03o "$byte")"; cat; } >"$out/$1"
}
for f in ../tests/cases/eval/*/*.case ../tests/cases/data/*.case; do
  [[ -f $f ]] || continue
  crit=$(sed -n 's/^criteria: *//p' "$f" | head -1); crit=${crit:-recist-1.1}
  json=0; grep -q '^file: .*\.json' "$f" && json=1
  sep=$(sed -n '/^---$/=' "$f" | head -1)
  name=$(basename "$(dirname "$f")")-$(basename "$f" .case)
  seed "$name" "$crit" "$json" < <(tail -n +$((sep + 1)) "$f")
done
for pair in recist-1.1:recist irecist:immunotherapy dr-recist:immunotherapy dr-organ:recist \
  percist-1.0:pet impercist5:pet dr-percist:pet ipercist:pet percimt:pet; do
  seed "${pair%%:*}--${pair#*:}-cohort.csv" "${pair%%:*}" 0 <"../examples/${pair#*:}-cohort.csv"
done
echo "$n seeds in $out"
