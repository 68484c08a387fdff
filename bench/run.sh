#!/usr/bin/env bash
# Side-by-side benchmark of todoapp against the shared peer servers (flask, fastapi, naive
# quart, raw asyncpg), with the shared harness (wrk + one embedded PostgreSQL for all).
#
#   bench/run.sh [--connections 32,128] [--reps 3] [--duration 7] [--workers N]
#                [--peers flask_sync,fastapi_1w,...] [--scenarios list,get,create,toggle]
#                [-- extra bench.py args]
#
# Every option has an env twin: CONNECTIONS, REPS, DURATION, WORKERS (todoapp's worker count;
# raw_granian gets the same), PEERS, SCENARIOS. Others:
#   PEERS_DIR      the shared harness (default: ../shared/bench next to the repository)
#   BENCH_WORKDIR  keep the harness copy (and its venvs) there between runs instead of a
#                  throw-away temp dir: setup.sh then reinstalls nothing
#   TODOAPP_ENV    extra environment for todoapp's server, e.g. 'DB_POOL_SIZE=8 MAX_IN_FLIGHT=512'
#   TODOAPP_VARIANTS  extra todoapp servers, ';'-separated 'name=ENV ASSIGNMENTS', e.g.
#                  'todoapp_1w=WORKERS=1;todoapp_pool4=DB_POOL_SIZE=4' (for tuning runs)
# Results: bench/results/<stamp>.json (+ -logs/), <stamp>.txt (harness output), <stamp>.md.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PEERS_DIR="${PEERS_DIR:-$REPO/../shared/bench}"
CONNECTIONS="${CONNECTIONS:-32,128}"
REPS="${REPS:-3}"
DURATION="${DURATION:-7}"
WORKERS="${WORKERS:-2}"
PEERS="${PEERS:-flask_sync,fastapi_1w,fastapi_2w,quart_hypercorn,raw_granian}"
SCENARIOS="${SCENARIOS:-list,get,create,toggle}"
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --workers) WORKERS="$2"; shift 2 ;;
    --peers) PEERS="$2"; shift 2 ;;
    --scenarios) SCENARIOS="$2"; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -f "$PEERS_DIR/bench.py" ] || { echo "no harness at $PEERS_DIR (set PEERS_DIR)" >&2; exit 2; }
TODOAPP="$REPO/.venv/bin/todoapp"
[ -x "$TODOAPP" ] || { echo "$TODOAPP missing: python3 -m venv .venv && .venv/bin/pip install -e ." >&2; exit 2; }

if [ -n "${BENCH_WORKDIR:-}" ]; then
  WORK="$BENCH_WORKDIR"; mkdir -p "$WORK"
else
  WORK="$(mktemp -d -t todoapp-bench-XXXXXX)"
  trap 'rm -rf "$WORK"' EXIT
fi
# The shared folder is read-only; the copy must be writable (setup.sh puts venvs in it).
mkdir -p "$WORK/peers"
cp -r "$PEERS_DIR/." "$WORK/peers/"
chmod -R u+w "$WORK/peers"
"$WORK/peers/setup.sh"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT_DIR="$REPO/bench/results"; mkdir -p "$OUT_DIR"
OUT="$OUT_DIR/$STAMP.json"
P="$WORK/peers"
SERVERS=(--server "cd '$REPO' && WORKERS=$WORKERS ${TODOAPP_ENV:-} exec '$TODOAPP' serve --port \$PORT"
         --name todoapp --setup "cd '$REPO' && '$TODOAPP' db upgrade head"
         --reset-sql "$P/examples/todoapp-reset.sql")
if [ -n "${TODOAPP_VARIANTS:-}" ]; then
  IFS=';' read -ra VARIANTS <<< "$TODOAPP_VARIANTS"
  for v in "${VARIANTS[@]}"; do
    name="${v%%=*}"; envs="${v#*=}"
    SERVERS+=(--server "cd '$REPO' && WORKERS=$WORKERS ${TODOAPP_ENV:-} $envs exec '$TODOAPP' serve --port \$PORT"
              --name "$name" --setup "cd '$REPO' && '$TODOAPP' db upgrade head"
              --reset-sql "$P/examples/todoapp-reset.sql")
  done
fi
IFS=',' read -ra PEER_LIST <<< "$PEERS"
for peer in "${PEER_LIST[@]}"; do
  case "$peer" in
    flask_sync) SERVERS+=(--server "'$P/flask_sync/run.sh'" --name flask_sync) ;;
    fastapi_1w) SERVERS+=(--server "WORKERS=1 '$P/fastapi_async/run.sh'" --name fastapi_1w) ;;
    fastapi_2w) SERVERS+=(--server "WORKERS=2 '$P/fastapi_async/run.sh'" --name fastapi_2w) ;;
    quart_hypercorn) SERVERS+=(--server "WORKERS=1 '$P/quart_async/run.sh'" --name quart_hypercorn) ;;
    raw_granian) SERVERS+=(--server "WORKERS=$WORKERS '$P/raw_limit/run.sh'" --name raw_granian) ;;
    "") ;;
    *) echo "unknown peer $peer" >&2; exit 2 ;;
  esac
done

cd "$WORK"
set +e
"$P/bench.sh" "${SERVERS[@]}" --duration "$DURATION" --connections "$CONNECTIONS" \
  --reps "$REPS" --scenarios "$SCENARIOS" --out "$OUT" "${EXTRA[@]}" 2>&1 | tee "$OUT_DIR/$STAMP.txt"
rc=${PIPESTATUS[0]}
set -e
if [ -f "$OUT" ]; then
  "$REPO/.venv/bin/python" "$REPO/bench/table.py" "$OUT" > "$OUT_DIR/$STAMP.md"
  echo "markdown table: $OUT_DIR/$STAMP.md"
fi
exit "$rc"
