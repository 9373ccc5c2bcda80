#!/usr/bin/env bash
# The README's "Beyond one machine" figures (issue 23): one converted input folder run locally and
# on a loopback Ballista cluster of 1 executor (2 task slots) and of 2 executors (1 slot each),
# all processes started from the same billrisk binary (built with --features cluster).
#
#   scripts/cluster_bench.sh BIN CONVERTED_DIR RESULTS_DIR [PORT]
#
# Writes into RESULTS_DIR, per configuration (local, exec1, exec2): the client's /usr/bin/time
# (wall, CPU, peak memory), its manifest (stage times; on the cluster every job's seconds, rows
# and IPC bytes), the scheduler's /api/jobs (job start and end) and each job's stages
# (/api/job/ID/stages), and the CPU seconds the scheduler and executors used during the run
# (utime + stime from /proc). local.plans has the local reductions' times (BILLRISK_TIME_PLANS,
# a second local run). Every run's outputs are compared by sha256 with the local run's
# (same.txt), then removed (disk).
set -u
BIN=$(realpath "$1")
DATA=$(realpath "$2")
RES=$3
PORT=${4:-47050}
SCHED=127.0.0.1:$PORT
mkdir -p "$RES"
RES=$(realpath "$RES")
TICK=$(getconf CLK_TCK)

cpu_of() { # utime + stime of the given pids, in seconds
    local t=0
    for p in "$@"; do
        t=$(awk -v t="$t" -v k="$TICK" '{print t + ($14 + $15) / k}' "/proc/$p/stat")
    done
    echo "$t"
}

outputs() { # file sha256, sorted, from a run's manifest
    jq -r '.outputs[] | "\(.file) \(.sha256)"' "$1/manifest.json" | sort
}

run() { # label, extra args...
    local label=$1
    shift
    /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak" -o "$RES/$label.time" \
        "$BIN" -q run --input "$DATA" --out "$RES/out-$label" --no-previous "$@" \
        2>"$RES/$label.err"
    echo "exit $?" >>"$RES/$label.time"
    cp "$RES/out-$label/manifest.json" "$RES/$label.manifest.json"
}

SCHED_PID=
EXEC_PIDS=()
start_cluster() { # executors, slots each
    "$BIN" cluster scheduler --bind "$SCHED" >"$RES/scheduler.log" 2>&1 &
    SCHED_PID=$!
    until curl -sf "http://$SCHED/api/state" >/dev/null; do
        kill -0 "$SCHED_PID" 2>/dev/null || { echo "the scheduler exited: $RES/scheduler.log" >&2; exit 1; }
        sleep 0.2
    done
    EXEC_PIDS=()
    for i in $(seq 1 "$1"); do
        "$BIN" cluster executor --scheduler "$SCHED" --bind "127.0.0.1:$((PORT + 10 * i))" \
            --concurrency "$2" >"$RES/executor$i.log" 2>&1 &
        EXEC_PIDS+=($!)
    done
    until [ "$(curl -sf "http://$SCHED/api/executors" | jq length)" = "$1" ]; do
        for p in "${EXEC_PIDS[@]}"; do
            kill -0 "$p" 2>/dev/null || { echo "an executor exited: $RES/executor*.log" >&2; exit 1; }
        done
        sleep 0.2
    done
}

stop_cluster() {
    kill "${EXEC_PIDS[@]}" "$SCHED_PID" 2>/dev/null
    wait "${EXEC_PIDS[@]}" "$SCHED_PID" 2>/dev/null
}

run_cluster() { # label
    local label=$1
    local before
    before=$(cpu_of "$SCHED_PID" "${EXEC_PIDS[@]}")
    run "$label" --cluster "df://$SCHED"
    echo "scheduler+executors cpu: $(awk -v a="$(cpu_of "$SCHED_PID" "${EXEC_PIDS[@]}")" -v b="$before" 'BEGIN{print a - b}') s" >>"$RES/$label.time"
    curl -sf "http://$SCHED/api/jobs" >"$RES/$label.jobs.json"
    for j in $(jq -r '.[].job_id' "$RES/$label.jobs.json"); do
        curl -sf "http://$SCHED/api/job/$j/stages" >"$RES/$label.stages.$j.json"
    done
    if diff <(outputs "$RES/out-local") <(outputs "$RES/out-$label") >"$RES/$label.diff"; then
        echo "$label: all $(outputs "$RES/out-local" | wc -l) outputs byte-identical to local" >>"$RES/same.txt"
    else
        echo "$label: outputs DIFFER from local (see $label.diff)" >>"$RES/same.txt"
    fi
    rm -rf "$RES/out-$label"
}

: >"$RES/same.txt"
run local
BILLRISK_TIME_PLANS=1 "$BIN" -q run --input "$DATA" --out "$RES/out-plans" --no-previous \
    2>"$RES/local.plans"
rm -rf "$RES/out-plans"
start_cluster 1 2
run_cluster exec1
stop_cluster
start_cluster 2 1
run_cluster exec2
stop_cluster
rm -rf "$RES/out-local"
cat "$RES/same.txt"
