#!/usr/bin/env bash
# `make contract`: schemathesis' command line against a live `timeline serve` over real HTTP.
#
# A fresh, seeded database (SQLite in a temporary directory, or CONTRACT_DATABASE_URL), an admin
# key, a server on 127.0.0.1:$CONTRACT_PORT, every check, positive and negative data, stateful
# runs over the document's links. The settings shared with the in-process tests are in
# schemathesis.toml. Exit status: schemathesis' own (0 when it finds nothing).
set -euo pipefail

UV=${UV:-uv}
PORT=${CONTRACT_PORT:-8123}
EXAMPLES=${CONTRACT_EXAMPLES:-50}
work=$(mktemp -d)
server=""
cleanup() {
  if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export TIMELINE_DATABASE_URL=${CONTRACT_DATABASE_URL:-sqlite:///$work/contract.db}
# The fuzzer writes far faster than any newsroom, and its subscriptions must not call out.
export TIMELINE_WRITE_RATE_LIMIT=0 TIMELINE_WEBHOOK_CONCURRENCY=0

echo "contract: database $TIMELINE_DATABASE_URL" >&2
"$UV" run timeline db upgrade >&2
"$UV" run timeline seed >&2
key=$("$UV" run timeline keys create --name contract --scope admin 2>/dev/null | tail -n 1)

"$UV" run timeline serve --host 127.0.0.1 --port "$PORT" >"$work/server.log" 2>&1 &
server=$!
base="http://127.0.0.1:$PORT"
if ! "$UV" run python - "$base/v1/health" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=2) as answer:
            sys.exit(0 if answer.status == 200 else 1)
    except OSError:
        time.sleep(0.2)
sys.exit(1)
PY
then
  echo "contract: the server did not answer on $base within 60 s; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

echo "contract: schemathesis against $base ($EXAMPLES examples per operation)" >&2
"$UV" run schemathesis run "$base/v1/openapi.json" \
  --checks all \
  --max-examples "$EXAMPLES" \
  --generation-deterministic \
  --phases examples,coverage,fuzzing,stateful \
  -H "Authorization: Bearer $key"
