#!/usr/bin/env bash
# Prints the path of a Python that can import torch and numpy (model training and its tests).
# Uses $PYTHON when it can; otherwise Debian's /usr/bin/python3, installing Debian's python3-torch and
# python3-numpy when it cannot import them (there is no PyPI on these machines). Messages go to stderr.
set -euo pipefail

can_train() { "$1" -c 'import torch, numpy' >/dev/null 2>&1; }

if [ -n "${PYTHON:-}" ] && can_train "$PYTHON"; then
  echo "$PYTHON"
  exit 0
fi
[ -n "${PYTHON:-}" ] && echo "==> PYTHON=$PYTHON cannot import torch and numpy; using Debian's /usr/bin/python3" >&2

DEBIAN_PYTHON=/usr/bin/python3
if ! can_train "$DEBIAN_PYTHON"; then
  echo "==> installing Debian's python3-torch and python3-numpy: $DEBIAN_PYTHON cannot import them, and model training and its tests need them" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "not root and no sudo: run 'apt-get install -y python3-torch python3-numpy' as root, then again" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" apt-get install -y -qq python3-torch python3-numpy >&2
  can_train "$DEBIAN_PYTHON" || { echo "$DEBIAN_PYTHON still cannot import torch and numpy" >&2; exit 1; }
fi
echo "$DEBIAN_PYTHON"
