#!/usr/bin/env bash
# End-to-end benchmark: the whole `billrisk run` against the same job in DuckDB and against the
# floor (reading the files once), on inputs made by `billrisk generate`, in one run on one machine.
#
#   bash benches/e2e.sh                 # 1M and 10M usage rows (10M is ~8-9 GB of CSV, ~1 h)
#   bash benches/e2e.sh --sizes 1m      # only 1M
#   bash benches/e2e.sh --smoke         # tiny sizes, the debug binary, 1 repetition (CI)
#
# Prints, per size and input format: median seconds of billrisk, DuckDB and cat, peak memory
# (max RSS) of each, the ratios billrisk/DuckDB and billrisk/floor, and whether every repetition
# of billrisk wrote byte-identical tables (sha256 of tables/, inputs/ and actions/ in the manifest).
# Input formats: csv (the exports as generated), parquet (usage exported as typed Parquet, as a
# conversion tool writes it), ingested (the CSV data converted once by `billrisk ingest`; the
# conversion is timed separately). Last, how much faster each Parquet form runs than CSV.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES="1m 10m"
DATA_VERSION=2
REPS=3
PROFILE=release
SMOKE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --smoke) SMOKE=1; SIZES="smoke"; REPS=1; PROFILE=dev; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/billrisk/target}"
if [ "$PROFILE" = release ]; then
  cargo build --release --locked -q
  BIN="$CARGO_TARGET_DIR/release/billrisk"
else
  cargo build --locked -q
  BIN="$CARGO_TARGET_DIR/debug/billrisk"
fi

WORK="${BENCH_DIR:-${TMPDIR:-/tmp}/billrisk-bench}"
mkdir -p "$WORK"
VENV="$WORK/venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q duckdb
fi
PY="$VENV/bin/python"

# customers x days x ~6 meters: 2,000 x 90 ~ 1M rows; 4,000 x 90 ~ 2M; 20,000 x 90 ~ 10M rows.
args_for() {
  case "$1" in
    smoke) echo "--customers 60 --days 40" ;;
    1m) echo "--customers 2000 --days 90" ;;
    2m) echo "--customers 4000 --days 90" ;;
    10m) echo "--customers 20000 --days 90" ;;
    *) echo "unknown size $1" >&2; exit 2 ;;
  esac
}

# Runs a command REPS times; prints "median_seconds max_rss_mib". Before each repetition the
# input folder is read once, untimed ($WARM), so every tool starts from the same warm page cache:
# at 10M rows the 8 GB of CSV and the tools' own memory do not all fit in RAM, and otherwise the
# tool that ran first would pay for reading from disk and the next one would not.
measure() {
  local times=() rss=0
  for _ in $(seq "$REPS"); do
    sync
    [ -n "${WARM:-}" ] && find "$WARM" -type f -exec cat {} + > /dev/null
    local log; log=$(mktemp)
    /usr/bin/time -f "%e %M" -o "$log" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; cat "$log" >&2; exit 1; }
    [ -n "${AFTER_REP:-}" ] && eval "$AFTER_REP"
    read -r t m < "$log"; rm -f "$log"
    times+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  local median; median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  echo "$median $((rss / 1024))"
}

ingest_notes=()
declare -A secs
printf '%-6s %-8s %10s %10s %10s %10s %10s %10s %9s %9s %9s\n' size format billrisk_s duckdb_s floor_s billrisk_MiB duckdb_MiB rows ratio_db ratio_fl identical
for size in $SIZES; do
  for format in csv parquet ingested; do
    data="$WORK/data-$size-$format"
    if [ "$format" = ingested ]; then
      # The CSV data converted once by `billrisk ingest` (checked canonical Parquet), made again
      # at every invocation because it depends on the binary; the conversion is timed once.
      rm -rf "$data"
      sync; find "$WORK/data-$size-csv" -type f -exec cat {} + > /dev/null
      log=$(mktemp)
      /usr/bin/time -f "%e %M" -o "$log" "$BIN" -q ingest --input "$WORK/data-$size-csv" --out "$data" > /dev/null
      read -r i_s i_m < "$log"; rm -f "$log"
      ingest_notes+=("$size: billrisk ingest of the CSV data took $i_s s and $((i_m / 1024)) MiB (once)")
    # .done holds the version of the generated data: bump DATA_VERSION when `billrisk generate`
    # writes different files (2: typed Parquet usage), so old data is made again.
    elif [ "$(cat "$data/.done" 2>/dev/null)" != "$DATA_VERSION" ]; then
      rm -rf "$data"
      extra=""; [ "$format" = parquet ] && extra="--parquet"
      # shellcheck disable=SC2046
      "$BIN" -q generate $(args_for "$size") --seed 7 --out "$data" $extra
      echo "$DATA_VERSION" > "$data/.done"
    fi
    # After each repetition, the sha256 of every table, input table and action list (from the
    # manifest): the same inputs must give byte-identical tables, run after run.
    digests="$WORK/digests-$size-$format"
    rm -f "$digests"
    AFTER_REP="python3 -c \"import json;print(sorted((o['file'], o['sha256']) for o in json.load(open('$WORK/out-billrisk/manifest.json'))['outputs'] if o['file'].startswith(('tables/', 'inputs/', 'actions/'))))\" | sha256sum >> '$digests'"
    WARM="$data"
    read -r b_s b_m < <(measure "$BIN" -q run --input "$data" --out "$WORK/out-billrisk")
    AFTER_REP=""
    same="yes"; [ "$(sort -u "$digests" | wc -l)" = 1 ] || same="NO"
    rows=$(python3 -c "import json;print(sum(f['rows_read'] for f in json.load(open('$WORK/out-billrisk/manifest.json'))['inputs'] if f['source'] == 'usage'))" 2>/dev/null || echo "?")
    read -r d_s d_m < <(measure "$PY" benches/duckdb_job.py "$data" "$WORK/out-duckdb" "$format")
    read -r f_s _ < <(measure sh -c "find '$data' -type f -exec cat {} + > /dev/null")
    WARM=""
    r_db=$(awk -v a="$b_s" -v b="$d_s" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
    r_fl=$(awk -v a="$b_s" -v b="$f_s" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')
    secs[$size-$format]=$b_s
    printf '%-6s %-8s %10s %10s %10s %10s %10s %10s %9s %9s %9s\n' "$size" "$format" "$b_s" "$d_s" "$f_s" "$b_m" "$d_m" "$rows" "$r_db" "$r_fl" "$same"
  done
done
for n in "${ingest_notes[@]}"; do echo "$n"; done
for size in $SIZES; do
  for format in parquet ingested; do
    awk -v s="$size" -v f="$format" -v c="${secs[$size-csv]}" -v p="${secs[$size-$format]}" \
      'BEGIN {printf "%s: billrisk from %s is %.2fx faster than from csv\n", s, f, (p > 0 ? c / p : 0)}'
  done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -m); profile $PROFILE; $REPS repetitions (median)"
[ "$SMOKE" = 1 ] && echo "smoke run: sizes too small for the ratios to mean anything"
exit 0
