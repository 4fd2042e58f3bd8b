#!/usr/bin/env bash
# Runs a command against a throwaway stripemeter server: `stripemeter serve` from the
# repository's virtualenv on a free 127.0.0.1 port, on a SQLite file in a private temporary
# directory, with a random bootstrap admin key. The command sees STRIPEMETER_URL,
# STRIPEMETER_API_KEY and STRIPEMETER_TENANT (the bootstrap tenant, "default"). The server is
# stopped (its whole process group) and the directory removed when the command ends. If the
# server cannot start, this fails loudly with the end of its log: tests are never skipped.
#   usage: scripts/with-server.sh COMMAND [ARGS...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="$root/.venv/bin/python"
server="$root/.venv/bin/stripemeter"
if [ ! -x "$server" ]; then
  echo "stripemeter is not installed at .venv/bin/stripemeter: run \`make install\` first" >&2
  exit 1
fi
dir="$(mktemp -d "${TMPDIR:-/tmp}/stripemeter-server.XXXXXX")"
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
key="smk_test_$("$python" -c 'import secrets; print(secrets.token_hex(16))')"

# The server gets none of the caller's STRIPEMETER_* settings, only its own.
unset_args=()
while IFS= read -r name; do unset_args+=(-u "$name"); done < <(compgen -e | grep '^STRIPEMETER_' || true)
# setsid: the server leads its own process group, so one kill also stops any worker it forks.
env "${unset_args[@]}" \
  STRIPEMETER_DATABASE_URL="sqlite:///$dir/db.sqlite3" \
  STRIPEMETER_BOOTSTRAP_KEY="$key" \
  setsid "$server" serve --host 127.0.0.1 --port "$port" >"$dir/server.log" 2>&1 &
pid=$!

url="http://127.0.0.1:$port"
if ! "$python" - "$url/health/ready" "$pid" <<'PY'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("the server exited during start-up")
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            if answer.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit("the server was not ready within 60 s")
PY
then
  echo "--- end of the server log ---" >&2
  tail -n 40 "$dir/server.log" >&2
  exit 1
fi
echo "stripemeter test server ready at $url (SQLite, tenant default)"

STRIPEMETER_URL="$url" STRIPEMETER_API_KEY="$key" STRIPEMETER_TENANT=default "$@"
