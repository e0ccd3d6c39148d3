#!/usr/bin/env bash
# Creates or refreshes the two Python environments from their pinned locks:
#   .venv/rasa      Python 3.10: rasa server + action server (+ test tools)
#   .venv/payments  Python >= 3.11: payments service, localstripe, honcho (+ test tools)
# An environment is reinstalled only when its requirement files or lock changed (stamp file).
# pip's output goes to var/log/pip-<name>.log; the terminal gets one line per step, and the
# log's last lines when pip fails.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

find_python310() {
  # 1. $PYTHON310, 2. a python3.10 on PATH that really runs, 3. any 3.10 that pyenv has.
  local candidate
  for candidate in "${PYTHON310:-}" "$(command -v python3.10 || true)"; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null; then
    local version
    version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -V | tail -n 1 || true)
    if [ -n "$version" ] && [ -x "$(pyenv prefix "$version")/bin/python" ]; then
      echo "$(pyenv prefix "$version")/bin/python"; return 0
    fi
  fi
  cat >&2 <<'MSG'
Evenkeel needs Python 3.10 for Rasa 3.6 (it does not run on 3.11+), and none was found.
Install one of:
  pyenv install 3.10.13                  (any OS with pyenv; found automatically)
  sudo apt-get install python3.10-venv   (Debian/Ubuntu with python3.10 available)
  brew install python@3.10               (macOS)
or point PYTHON310 at a Python 3.10 interpreter, then run the command again.
MSG
  return 1
}

find_python_payments() {
  local candidate="${PYTHON_PAYMENTS:-python3}"
  if "$candidate" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
    echo "$candidate"; return 0
  fi
  echo "The payments service needs Python 3.11 or newer as python3 (or set PYTHON_PAYMENTS)." >&2
  return 1
}

# ensure_env NAME PYTHON LOCK REQUIREMENT_FILES...
ensure_env() {
  local name=$1 python=$2 lock=$3; shift 3
  local venv=".venv/$name" stamp
  stamp=$(cat "$lock" "$@" | sha256sum | cut -d' ' -f1)
  if [ -f "$venv/.evenkeel-stamp" ] && [ "$(cat "$venv/.evenkeel-stamp")" = "$stamp" ] && [ -x "$venv/bin/python" ]; then
    say "$name environment up to date ($venv)"
    return 0
  fi
  local started=$SECONDS log="var/log/pip-$name.log"
  mkdir -p var/log
  [ -x "$venv/bin/python" ] || { say "creating $venv with $("$python" --version)"; "$python" -m venv "$venv"; }
  say "installing $name dependencies from $lock (Rasa's take a few minutes the first time; log: $log)"
  local args=()
  for f in "$@"; do args+=(-r "$f"); done
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-color "${args[@]}" -c "$lock" >"$log" 2>&1; then
    say "pip failed after $((SECONDS - started))s installing $name; the last lines of $log:"
    tail -n 40 "$log" >&2
    return 1
  fi
  local warnings
  warnings=$(grep -cE '^(WARNING|DEPRECATION):' "$log" || true)
  [ "$warnings" != 0 ] || warnings=""
  echo "$stamp" > "$venv/.evenkeel-stamp"
  say "$name environment ready in $((SECONDS - started))s${warnings:+ ($warnings pip warnings in $log)}"
}

mkdir -p .venv
ensure_env rasa "$(find_python310)" requirements/rasa.lock \
  bot/requirements.txt actions/requirements.txt channels/requirements.txt tests/requirements.txt requirements/lint.txt
ensure_env payments "$(find_python_payments)" requirements/payments.lock \
  payments/requirements.txt requirements/dev.txt tests/requirements.txt requirements/lint.txt
