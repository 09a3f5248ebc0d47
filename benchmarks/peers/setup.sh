#!/usr/bin/env bash
# Create the side virtualenvs used to benchmark Yinji's MPC engine against peers.
#
#   benchmarks/.peers/spu   Python 3.11 + spu==0.9.5 (pins numpy<2, jax<=0.4.34; ~420 MB)
#   benchmarks/.peers/mpyc  Python 3.11 + mpyc + numpy (+ gmpy2 when it installs)
#
# Idempotent: a venv whose stamp file matches the requested packages is left alone.
# Packages come from PyPI through pip only. Usage: benchmarks/peers/setup.sh [spu|mpyc ...]
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)/.peers"
PYTHON="${PEERS_PYTHON:-python3.11}"

SPU_PKGS="spu==0.9.5"
MPYC_PKGS="mpyc==0.11 numpy"

say() { printf '[peers/setup] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set PEERS_PYTHON to a Python 3.11 interpreter)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' \
    || die "$PYTHON is not Python 3.11 (spu 0.9.5 supports 3.10-3.11 only)"

# make_venv NAME "PKGS" "OPTIONAL_PKGS" "IMPORT_CHECK"
make_venv() {
    local name="$1" pkgs="$2" optional="$3" check="$4"
    local dir="$ROOT/$name" stamp="$ROOT/$name/.installed"
    local want="pkgs=$pkgs optional=$optional"
    if [[ -f "$stamp" ]] && [[ "$(head -n1 "$stamp")" == "$want" ]] \
        && "$dir/bin/python" -c "$check" >/dev/null 2>&1; then
        say "$name: already installed ($dir), skipping"
        return 0
    fi
    mkdir -p "$ROOT"
    if [[ ! -x "$dir/bin/python" ]]; then
        say "$name: creating venv $dir with $PYTHON"
        "$PYTHON" -m venv "$dir" || die "$name: could not create venv at $dir"
    fi
    say "$name: pip install $pkgs"
    "$dir/bin/python" -m pip install --quiet --upgrade pip \
        || die "$name: could not upgrade pip"
    # shellcheck disable=SC2086
    "$dir/bin/python" -m pip install --quiet $pkgs \
        || die "$name: pip could not install: $pkgs"
    local opt
    for opt in $optional; do
        if "$dir/bin/python" -m pip install --quiet "$opt"; then
            say "$name: optional $opt installed"
        else
            say "$name: optional $opt could not be installed; continuing without it"
        fi
    done
    "$dir/bin/python" -c "$check" >/dev/null || die "$name: installed, but the import check failed: $check"
    {
        echo "$want"
        "$dir/bin/python" -m pip freeze
    } >"$stamp"
    say "$name: ready ($("$dir/bin/python" -c "$check"))"
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(spu mpyc)
for t in "${targets[@]}"; do
    case "$t" in
        spu) make_venv spu "$SPU_PKGS" "" \
            'import spu, jax, numpy; print("spu", spu.__version__, "jax", jax.__version__, "numpy", numpy.__version__)' ;;
        mpyc) make_venv mpyc "$MPYC_PKGS" "gmpy2" \
            'import mpyc, numpy; print("mpyc", mpyc.__version__, "numpy", numpy.__version__)' ;;
        *) die "unknown peer '$t' (expected: spu, mpyc)" ;;
    esac
done
say "done: venvs under $ROOT"
