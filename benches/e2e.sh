#!/usr/bin/env bash
# End-to-end benchmark: the whole `billrisk run` against the jobs a competent user would write
# instead, in one run of this script, on the same folders made by `billrisk generate`.
#
#   bash benches/e2e.sh                 # 1M and 10M usage rows (10M is ~8-9 GB of CSV, ~1 h)
#   bash benches/e2e.sh --sizes 1m      # only 1M
#   bash benches/e2e.sh --smoke         # tiny sizes, the debug binary, 1 repetition (CI)
#
# The baselines (Python, from PyPI, installed by this script in a venv under the work folder):
# - floor: benches/polars_read_floor.py, Polars reading exactly the 20 usage columns billrisk
#   reads from the CSV exports, typing them, writing them and the daily cost per customer,
#   subscription, meter category and day as Parquet: the least the engine needs (csv form only);
# - duckdb: benches/duckdb_job.py, daily cost per customer, subscription and meter category with a
#   trailing 28-day mean/stddev z-score (window functions only) and the ledger's aging, to
#   Parquet, from each input form.
# Input forms: csv (the exports as generated), parquet (usage exported as typed Parquet, as a
# conversion tool writes it), ingested (the CSV data converted once by `billrisk ingest`; the
# conversion is timed apart).
#
# Prints, per size, form and job: median wall seconds, median CPU seconds (user + sys), peak
# memory (max RSS over the repetitions); then the ratios measured in this run against the
# targets of issue 18, and whether every repetition of billrisk wrote byte-identical tables (sha256
# of tables/, inputs/ and actions/ in the manifest). Jobs and sizes alternate within each
# repetition, and every job starts from the same warm page cache (the input folder is read once,
# untimed).
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
# Pinned, so that figures of different days compare the same baselines.
DUCKDB_VERSION=2.0.1
POLARS_VERSION=2.1.0
if ! "$VENV/bin/python" -c "import duckdb, polars; assert (duckdb.__version__, polars.__version__) == ('$DUCKDB_VERSION', '$POLARS_VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "duckdb==$DUCKDB_VERSION" "polars==$POLARS_VERSION"
fi
PY="$VENV/bin/python"
echo "baselines: duckdb $("$PY" -c 'import duckdb; print(duckdb.__version__)'), polars $("$PY" -c 'import polars; print(polars.__version__)')"

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

# One timed repetition of a command: appends "wall cpu rss_kib" to the file $1. The input folder
# $WARM is read once before, untimed, so every job starts from the same warm page cache (at 10M
# rows the 8 GB of CSV and the jobs' own memory do not all fit in RAM; otherwise the job that ran
# first would pay for reading from disk and the next one would not).
time_once() {
  local into="$1"; shift
  sync
  [ -n "${WARM:-}" ] && find "$WARM" -type f -exec cat {} + > /dev/null
  local log; log=$(mktemp)
  /usr/bin/time -f "%e %U %S %M" -o "$log" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; cat "$log" >&2; exit 1; }
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$log" >> "$into"
  rm -f "$log"
}

# "median_wall median_cpu max_rss_mib" of the repetitions in a file written by time_once.
summarize() {
  local med_wall med_cpu rss
  med_wall=$(awk '{print $1}' "$1" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  med_cpu=$(awk '{print $2}' "$1" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  rss=$(awk 'BEGIN {m = 0} {if ($3 > m) m = $3} END {printf "%d", m / 1024}' "$1")
  echo "$med_wall $med_cpu $rss"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }

notes=()
declare -A wall cpu mib out
# Sizes alternate within each repetition (1M, 10M, 1M, 10M...) as jobs do, so that the growth
# from the small size to the large one compares runs under the same state of the host (a shared
# host drifted by 30-50 % within an hour: with each size's repetitions one after the other, the
# floor itself "grew" 14.6x from 1M to 10M in one run of the script).
for format in csv parquet ingested; do
  jobs="billrisk duckdb"; [ "$format" = csv ] && jobs="billrisk duckdb floor"
  for size in $SIZES; do
    data="$WORK/data-$size-$format"
    if [ "$format" = ingested ]; then
      # The CSV data converted once by `billrisk ingest` (checked canonical Parquet), made again
      # at every invocation because it depends on the binary; the conversion is timed once.
      rm -rf "$data"
      conv="$WORK/times-ingest"; rm -f "$conv"
      WARM="$WORK/data-$size-csv" time_once "$conv" "$BIN" -q ingest --input "$WORK/data-$size-csv" --out "$data"
      read -r i_w i_c i_m < <(summarize "$conv")
      notes+=("$size: billrisk ingest of the CSV data took $i_w s wall, $i_c s CPU, $i_m MiB (once, not in the ratios)")
    # .done holds the version of the generated data: bump DATA_VERSION when `billrisk generate`
    # writes different files (2: typed Parquet usage), so old data is made again.
    elif [ "$(cat "$data/.done" 2>/dev/null)" != "$DATA_VERSION" ]; then
      rm -rf "$data"
      extra=""; [ "$format" = parquet ] && extra="--parquet"
      # shellcheck disable=SC2046
      "$BIN" -q generate $(args_for "$size") --seed 7 --out "$data" $extra
      echo "$DATA_VERSION" > "$data/.done"
    fi
    for job in $jobs; do rm -f "$WORK/times-$size-$job"; done
    rm -f "$WORK/digests-$size-$format"
  done
  for _ in $(seq "$REPS"); do
    for size in $SIZES; do
      data="$WORK/data-$size-$format"
      digests="$WORK/digests-$size-$format"
      WARM="$data"
      for job in $jobs; do
        times="$WORK/times-$size-$job"
        case "$job" in
          billrisk)
            time_once "$times" "$BIN" -q run --input "$data" --out "$WORK/out-billrisk" --no-previous
            # The sha256 of every table, input table and action list (from the manifest): the
            # same inputs must give byte-identical tables, run after run.
            python3 -c "import json;print(sorted((o['file'], o['sha256']) for o in json.load(open('$WORK/out-billrisk/manifest.json'))['outputs'] if o['file'].startswith(('tables/', 'inputs/', 'actions/'))))" | sha256sum >> "$digests"
            python3 -c "import json;print(sum(f['rows_read'] for f in json.load(open('$WORK/out-billrisk/manifest.json'))['inputs'] if f['source'] == 'usage'))" > "$WORK/rows-$size-$format" 2>/dev/null || echo "?" > "$WORK/rows-$size-$format" ;;
          duckdb) rm -rf "$WORK/out-duckdb"; time_once "$times" "$PY" benches/duckdb_job.py "$data" "$WORK/out-duckdb" "$format" ;;
          floor) rm -rf "$WORK/out-floor"; time_once "$times" "$PY" benches/polars_read_floor.py "$data" "$WORK/out-floor" ;;
        esac
      done
      WARM=""
    done
  done
  for size in $SIZES; do
    same="yes"; [ "$(sort -u "$WORK/digests-$size-$format" | wc -l)" = 1 ] || same="NO"
    rows=$(cat "$WORK/rows-$size-$format")
    for job in $jobs; do
      read -r w c m < <(summarize "$WORK/times-$size-$job")
      wall[$size-$format-$job]=$w; cpu[$size-$format-$job]=$c; mib[$size-$format-$job]=$m
      ident="-"; [ "$job" = billrisk ] && ident=$same
      out[$size-$format-$job]=$(printf '%-6s %-9s %-9s %9s %9s %9s %11s %9s' "$size" "$format" "$job" "$w" "$c" "$m" "$rows" "$ident")
    done
  done
done
printf '%-6s %-9s %-9s %9s %9s %9s %11s %9s\n' size form job wall_s cpu_s peak_MiB usage_rows identical
for size in $SIZES; do
  for format in csv parquet ingested; do
    for job in billrisk duckdb floor; do
      if [ -n "${out[$size-$format-$job]:-}" ]; then echo "${out[$size-$format-$job]}"; fi
    done
  done
done
for n in "${notes[@]}"; do echo "$n"; done
echo
echo "ratios (this run; targets of issue 18 in brackets):"
for size in $SIZES; do
  echo "$size: billrisk from csv / floor: wall $(ratio "${wall[$size-csv-billrisk]}" "${wall[$size-csv-floor]}") [<= 2.0], CPU $(ratio "${cpu[$size-csv-billrisk]}" "${cpu[$size-csv-floor]}") [<= 2.5]"
  echo "$size: billrisk from ingested / duckdb from ingested: wall $(ratio "${wall[$size-ingested-billrisk]}" "${wall[$size-ingested-duckdb]}") [<= 2.0]"
  for format in csv parquet; do
    echo "$size: billrisk from $format / duckdb from $format: wall $(ratio "${wall[$size-$format-billrisk]}" "${wall[$size-$format-duckdb]}") (for information)"
  done
  echo "$size: billrisk peak memory: $(for f in csv parquet ingested; do printf '%s %s MiB  ' "$f" "${mib[$size-$f-billrisk]}"; done)[<= 3072 MiB at 10m]"
done
set -- $SIZES
if [ $# -ge 2 ]; then
  small=$1; large=${!#}
  for format in csv parquet ingested; do
    echo "growth $small -> $large, billrisk from $format: $(ratio "${wall[$large-$format-billrisk]}" "${wall[$small-$format-billrisk]}")x [<= 10.5x]"
  done
  # The baselines' own growth in the same run: how much of billrisk's is the data, not the host.
  echo "growth $small -> $large of the baselines (for information): floor $(ratio "${wall[$large-csv-floor]}" "${wall[$small-csv-floor]}")x, duckdb from ingested $(ratio "${wall[$large-ingested-duckdb]}" "${wall[$small-ingested-duckdb]}")x"
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -m); profile $PROFILE; $REPS repetitions (median)"
[ "$SMOKE" = 1 ] && echo "smoke run: sizes too small for the ratios to mean anything"
exit 0
