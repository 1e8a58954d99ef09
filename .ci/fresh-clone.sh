#!/usr/bin/env bash
# What a new user does: clone into a private folder (mktemp -d is mode 0700, as
# root's home is), `npm install && npm start`, and expect /readyz 200; then stop
# it with SIGINT and expect a clean shutdown (no "final ledger flush not
# completed"), and run an API test file there (the suite's own embedded
# PostgreSQL). As root this is the case where the postgres user cannot reach
# the checkout.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -INT "$pid"; sleep 3; fi
  rm -rf "$dir"
}
trap cleanup EXIT
git clone --quiet "$repo" "$dir/tds"
cd "$dir/tds"
npm install --no-audit --no-fund >/dev/null
port=$((20000 + RANDOM % 10000))
npm run build >/dev/null
PORT=$port node dist/src/main.js >"$dir/start.log" 2>&1 &
pid=$!
code=000
for _ in $(seq 1 90); do
  code=$(node -e "fetch('http://127.0.0.1:$port/readyz').then(r=>console.log(r.status),()=>console.log('000'))")
  [ "$code" = 200 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
if [ "$code" != 200 ]; then echo "fresh clone: /readyz answered $code"; cat "$dir/start.log"; exit 1; fi
echo "fresh clone in $dir (mode $(stat -c %a "$dir")): npm start -> /readyz 200"
kill -INT "$pid"
wait "$pid" || true
pid=""
if grep -q 'final ledger flush not completed' "$dir/start.log"; then echo 'fresh clone: unclean shutdown'; cat "$dir/start.log"; exit 1; fi
npm test -- test/api/participants.api.test.ts
echo "fresh clone: npm test (participants API suite, embedded PostgreSQL) passed"
