#!/usr/bin/env bash
# `npm run loop -- run`: install, build, then run the closed loop (see tools/loop/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/ensure-installed.sh
npm run --silent build
exec node tools/loop/dist/loop-cli.js "$@"
