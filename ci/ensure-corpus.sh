#!/usr/bin/env bash
# Installs the training corpus (Debian's python3.11-doc: the Python docs' reStructuredText sources,
# PSF license) when it is missing. Needs root or sudo for apt-get; skipped when the sources exist.
set -euo pipefail
src=/usr/share/doc/python3.11/html/_sources
if [ -d "$src" ] || [ -n "${NANOCHAT_CORPUS_DIR:-}" ]; then exit 0; fi
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq python3.11-doc >/dev/null
