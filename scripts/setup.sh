#!/usr/bin/env bash
# Install everything the project needs on a fresh Debian machine: system packages (for the
# browser tests and the stemmer word list), the Python virtualenv, and lunr.js from npm.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -f /usr/share/dict/words ] || need_apt+=(wamerican)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# lunr.js comes from the npm registry at the exact version in package-lock.json; it must be
# there before the Python package is installed, because the wheel carries a copy of it.
npm ci --no-audit --no-fund --loglevel=error

python=$(command -v python3.11 || command -v python3)
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# This machine's pip config names local mirrors that may be absent; pip says so for every
# package, which buries real errors, so those lines are dropped (pip's exit status still counts).
quiet_pip() { .venv/bin/python -m pip "$@" 2>&1 | sed '/is ignored: it is neither a file nor a directory/d'; }
quiet_pip install -q --upgrade pip
quiet_pip install -q -e '.[test]'
