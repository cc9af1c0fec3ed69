#!/usr/bin/env bash
# Run the suite on SQLite and on PostgreSQL at once (one pass per core), then report both.
# A pass that fails prints its whole log; the exit status is non-zero if either failed.
set -u
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
KINDRED_TEST_DB=sqlite .venv/bin/python -m pytest -p no:cacheprovider "$@" >"$logs/sqlite.log" 2>&1 &
sqlite_pid=$!
KINDRED_TEST_DB=postgres .venv/bin/python -m pytest -p no:cacheprovider "$@" >"$logs/postgres.log" 2>&1 &
postgres_pid=$!
wait $sqlite_pid; sqlite_status=$?
wait $postgres_pid; postgres_status=$?
status=0
for pass in sqlite postgres; do
  eval "code=\$${pass}_status"
  if [ "$code" -ne 0 ]; then
    echo "=== $pass pass FAILED (exit $code) ==="
    cat "$logs/$pass.log"
    status=1
  else
    echo "=== $pass pass ==="
    grep -E "^(SKIPPED|FAILED|ERROR)|skipped" "$logs/$pass.log" | tail -5
  fi
done
# The closing line CI reads: one summary per pass, then the total.
python3 - "$logs" <<'PY'
import re, sys, pathlib
passed = failed = skipped = 0
for name in ("sqlite", "postgres"):
    text = (pathlib.Path(sys.argv[1]) / f"{name}.log").read_text()
    lines = [line for line in text.splitlines() if re.search(r"\d+ (passed|failed|skipped|error)", line)]
    summary = lines[-1] if lines else "no summary"
    print(f"{name}: {summary.strip('= ')}")
    for count, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary):
        if kind == "passed": passed += int(count)
        elif kind == "skipped": skipped += int(count)
        else: failed += int(count)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
rm -rf "$logs"
exit $status
