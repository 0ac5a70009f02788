#!/usr/bin/env bash
# `npm test`: install, build, lint, typecheck, unit tests, then integration tests against the
# NATS, Redis and PostgreSQL running on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/ensure-installed.sh
echo "==> build"
npm run --silent build
echo "==> lint"
npm run --silent lint
echo "==> typecheck (including tests)"
npm run --silent typecheck
echo "==> unit tests"
npm run --silent test:unit
echo "==> integration tests"
npm run --silent test:int
