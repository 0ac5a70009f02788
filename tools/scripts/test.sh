#!/usr/bin/env bash
# `npm test`: set up what the tests need on a fresh machine (npm dependencies, Debian's PyTorch for the
# training tests, Debian's chromium for the dashboard test, the local Redis/PostgreSQL/NATS), then
# build, lint, typecheck, unit tests and integration tests against those services.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/ensure-installed.sh
bash tools/scripts/ensure-services.sh
PYTHON="$(bash tools/scripts/ensure-python.sh)"
bash tools/scripts/ensure-chromium.sh
export PYTHON
echo "==> build"
npm run --silent build
echo "==> lint"
npm run --silent lint
echo "==> typecheck (including tests)"
npm run --silent typecheck
echo "==> unit tests"
npm run --silent test:unit
echo "==> integration tests (training with $PYTHON)"
npm run --silent test:int
