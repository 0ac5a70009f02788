#!/usr/bin/env bash
# Installs Debian's chromium when /usr/bin/chromium is missing: the dashboard's integration test drives it
# headless through playwright-core (no browser is downloaded by npm). Messages go to stderr.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
echo "==> installing Debian's chromium: the dashboard test drives $CHROMIUM headless" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
  echo "not root and no sudo: run 'apt-get install -y chromium' as root, then again" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq chromium >&2
[ -x "$CHROMIUM" ] || { echo "$CHROMIUM still missing after apt-get install chromium" >&2; exit 1; }
