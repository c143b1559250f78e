#!/usr/bin/env bash
# Run every server benchmark on SQLite and PostgreSQL and keep the raw output in bench/results/.
#
#   bench/run_all.sh [DIVISION_DIR]          (default ../shared/data/china-division)
#   DBS="sqlite" SOAK_SEEDS=200 bench/run_all.sh
#
# PostgreSQL: CUNZHI_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres);
# the benchmarks create and drop their own cunzhi_bench_* databases.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DIVISION=${1:-../shared/data/china-division}
DBS=${DBS:-"sqlite postgresql"}
SOAK_SEEDS=${SOAK_SEEDS:-2000}
OUT=bench/results
mkdir -p "$OUT"
status=0
run() {  # name db args...
  local name=$1 db=$2; shift 2
  echo "### $name --db $db $*" | tee "$OUT/$name-$db.txt"
  "$PY" "bench/$name.py" --db "$db" "$@" 2>&1 | tee -a "$OUT/$name-$db.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
}
for db in $DBS; do
  run push_throughput "$db"
  run first_pull "$db"
  run import_anhui "$db" "$DIVISION"
  run api_mix "$db"
  run soak_sync "$db" --seeds "$SOAK_SEEDS"
done
grep -h "FAIL" "$OUT"/*.txt && echo "(some figures are over budget: see above)"
exit $status
