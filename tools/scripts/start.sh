#!/usr/bin/env bash
# `npm start`: install, build, then run the whole funnel (see tools/funnel/src/funnel-cli.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/ensure-installed.sh
echo "==> building"
npm run --silent build
exec node tools/funnel/dist/funnel-cli.js start "$@"
