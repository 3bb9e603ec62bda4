#!/usr/bin/env bash
# Reruns every benchmark (or the ones named) RUNS times, each run a fresh
# process, into bench/results, keeping each run's JSON in
# bench/results/runs/NAME/ and summarising them (median and spread of every
# figure) in bench/results/NAME_runs.{md,json} (scripts/bench_runs.mjs).
# The last run's NAME.{md,json} stays as the benchmark wrote it.
#
#   bash scripts/bench_all.sh [--quick] [--runs N] [NAME…]
#
# --quick: fewer, shorter rounds (BENCH_ROUNDS=5, BENCH_SAMPLE_MS=20 where a
# benchmark reads them) and imap_exact over 200 000 items instead of
# 2 000 000: every criterion rechecked in a few minutes, with a wider spread.
# NAME_deno runs bench/NAME.ts on Deno (codec_deno). Default: 3 runs of
# codec codec_deno pool state startup futures futures_wordcount imap_exact
# remote lambda.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
quick=0
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --runs) runs="$2"; shift ;;
    -*) echo "usage: bash scripts/bench_all.sh [--quick] [--runs N] [NAME…]" >&2; exit 2 ;;
    *) names+=("$1") ;;
  esac
  shift
done
[ ${#names[@]} -gt 0 ] || names=(codec codec_deno pool state startup futures futures_wordcount imap_exact remote lambda)
if [ "$quick" = 1 ]; then
  export BENCH_ROUNDS="${BENCH_ROUNDS:-5}" BENCH_SAMPLE_MS="${BENCH_SAMPLE_MS:-20}"
fi
node npm/build.mjs
for name in "${names[@]}"; do
  # NAME_deno: the benchmark's own Deno run (codec_deno: bench/codec.ts on Deno, writing codec_deno.*).
  if [ "${name%_deno}" != "$name" ]; then
    cmd=(node_modules/.bin/deno run -A --no-check "bench/${name%_deno}.ts")
    [ -f "bench/${name%_deno}.ts" ] || { echo "bench_all: no benchmark ${name%_deno}" >&2; exit 2; }
  else
    cmd=(node "npm/build/bench/$name.js")
    [ -f "${cmd[1]}" ] || { echo "bench_all: no benchmark $name (${cmd[1]})" >&2; exit 2; }
  fi
  args=()
  if [ "$name" = imap_exact ] && [ "$quick" = 1 ]; then args=(200000); fi
  mkdir -p "bench/results/runs/$name"
  kept=()
  for i in $(seq 1 "$runs"); do
    echo "== $name, run $i of $runs"
    "${cmd[@]}" ${args[@]+"${args[@]}"}
    if [ -f "bench/results/$name.json" ]; then
      cp "bench/results/$name.json" "bench/results/runs/$name/$i.json"
      kept+=("bench/results/runs/$name/$i.json")
    fi
  done
  if [ ${#kept[@]} -ge 2 ]; then node scripts/bench_runs.mjs "$name" "${kept[@]}"; fi
done
