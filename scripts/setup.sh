#!/usr/bin/env bash
# Installs everything ggufkit needs to build and test on Debian 12:
# Debian packages (apt, non-interactive, only what is missing) and a Python
# venv in .venv with the reference packages of scripts/requirements.txt.
# Idempotent: a second run changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libhwy-dev libeigen3-dev libabsl-dev libbenchmark-dev libgtest-dev libgmock-dev
  libzstd-dev zstd
  clang libclang-rt-14-dev
  python3 python3-venv python3-pip
)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import gguf, numpy, safetensors, pytest' 2>/dev/null; then
  echo "setup: installing Python reference packages into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements.txt
fi
echo "setup: ok"
