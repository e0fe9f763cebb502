#!/usr/bin/env bash
# Run the Postman collection with newman against the production stack, started here:
# a fresh MariaDB database, a dedicated (flushed) Redis db, gunicorn and one `xeno worker`.
# Everything started is stopped and the database dropped on exit, pass or fail.
#
#   scripts/postman.sh                 # needs MariaDB (root, no password) and Redis on 127.0.0.1
#
# Knobs (environment): XENO_POSTMAN_PORT (default: a free port), XENO_POSTMAN_REDIS_DB
# (default 11), XENO_POSTMAN_MYSQL (default "mysql -uroot -h127.0.0.1"),
# XENO_POSTMAN_DB_URL (SQLAlchemy server URL, default mysql+pymysql://root@127.0.0.1:3306),
# NEWMAN (default "npx --yes newman@6"). Extra arguments are passed on to newman.
set -euo pipefail
cd "$(dirname "$0")/.."

MYSQL=${XENO_POSTMAN_MYSQL:-"mysql -uroot -h127.0.0.1"}
DB_SERVER_URL=${XENO_POSTMAN_DB_URL:-"mysql+pymysql://root@127.0.0.1:3306"}
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
REDIS_DB=${XENO_POSTMAN_REDIS_DB:-11}
NEWMAN=${NEWMAN:-"npx --yes newman@6"}
PORT=${XENO_POSTMAN_PORT:-$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
BASE_URL="http://127.0.0.1:$PORT"
DB="xeno_postman_$(date +%s)_$$"
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/xeno-postman.XXXXXX")
PIDS=()
STATUS=1

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  $MYSQL -e "DROP DATABASE IF EXISTS \`$DB\`" || true
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" flushdb >/dev/null || true
  if [ "$STATUS" -ne 0 ]; then
    echo "== postman: failed; last lines of the server logs ($LOGS) ==" >&2
    tail -n 40 "$LOGS/gunicorn.log" "$LOGS/worker.log" >&2 2>/dev/null || true
  else
    rm -rf "$LOGS"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

healthy() {
  python - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
        sys.exit(response.status != 200)
except Exception:
    sys.exit(1)
PY
}

$MYSQL -e "CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4"
redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" flushdb >/dev/null

export XENO_DATABASE_URL="$DB_SERVER_URL/$DB"
export XENO_REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/$REDIS_DB"
XENO_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')
XENO_RECEIPT_SECRET=$(python -c 'import secrets; print(secrets.token_hex(32))')
export XENO_SECRET_KEY XENO_RECEIPT_SECRET
export XENO_PUBLIC_URL="$BASE_URL"
export XENO_COOKIE_SECURE=0
unset XENO_DEV_LOGIN GOOGLE_CLIENT_ID GOOGLE_CLIENT_SECRET

xeno db init 2>&1 | tail -n 1
TOKEN=$(xeno token create postman | tail -n 1)

gunicorn -w 2 -b "127.0.0.1:$PORT" --access-logfile - 'xeno:create_app()' >"$LOGS/gunicorn.log" 2>&1 &
PIDS+=($!)
xeno worker >"$LOGS/worker.log" 2>&1 &
PIDS+=($!)

for _ in $(seq 60); do
  healthy "$BASE_URL/healthz" && break
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "postman: a server process exited early" >&2; exit 1; }
  done
  sleep 0.5
done
healthy "$BASE_URL/healthz" || { echo "postman: $BASE_URL/healthz never answered 200" >&2; exit 1; }

$NEWMAN run postman/xeno.postman_collection.json \
  -e postman/xeno.postman_environment.json \
  --env-var "baseUrl=$BASE_URL" \
  --env-var "token=$TOKEN" \
  --env-var "receiptSecret=$XENO_RECEIPT_SECRET" \
  --timeout-request 30000 \
  --color off \
  "$@"
STATUS=0
