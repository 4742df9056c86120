#!/usr/bin/env bash
# Every check: lint, types, the layers' import contracts, migrations, and the suite on SQLite and (when reachable) PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv/bin

# The browser tests drive Debian's Chromium (Playwright's own browser download cannot work
# without internet): install it when it is missing.
if ! command -v chromium >/dev/null 2>&1 && [ -z "${ACCORD_CHROMIUM:-}" ]; then
  echo "== installing Chromium for the browser tests (Debian package chromium)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null; }
fi

echo "== lint and types"
$VENV/ruff check .
$VENV/ruff format --check .
$VENV/mypy services workflows bench
$VENV/lint-imports

echo "== suite on SQLite"
ACCORD_TEST_DATABASE=sqlite $VENV/python -m pytest "$@"

if $VENV/python -c "import socket,sys; s=socket.socket(); s.settimeout(2); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then
  echo "== suite on PostgreSQL (127.0.0.1:5432)"
  ACCORD_TEST_DATABASE=postgresql $VENV/python -m pytest "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable on 127.0.0.1:5432; CI must run the suite on both databases" >&2
  exit 1
else
  echo "== PostgreSQL not reachable on 127.0.0.1:5432: skipped the PostgreSQL run"
fi
