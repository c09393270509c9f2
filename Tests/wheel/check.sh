#!/usr/bin/env bash
# Installs the wheel `make wheel` built into a fresh venv, in an environment
# with no Swift toolchain and no library path (PATH without the toolchain,
# LD_LIBRARY_PATH, SWERL_LIBRARY and PYTHONPATH unset, offline: --no-index),
# then runs smoke.py there: what a Python user who only has the wheel gets.
#
#   Tests/wheel/check.sh WHEEL PYTHON
set -euo pipefail
wheel=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
python=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clean=(env -i HOME="$work" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8)
if "${clean[@]}" sh -c 'command -v swift' >/dev/null; then
    echo "check.sh: swift is on the clean PATH: the check would not show the wheel needs no toolchain" >&2
    exit 1
fi
"${clean[@]}" "$python" -m venv "$work/venv"
"${clean[@]}" "$work/venv/bin/python" -m pip install -q --no-index "$wheel"
cp "$here/smoke.py" "$work/"
cd "$work"
"${clean[@]}" "$work/venv/bin/python" smoke.py
