#!/usr/bin/python3
"""Writes the tiny two-tower model libs/models' tests load (libs/models/src/testing/models/retrieval/).

Trained by train_two_tower.py for one epoch on the planted export of test_train_two_tower.py with tables of
width 2, so the ONNX files stay small (~0.4 MB); re-run it after the two-tower input spec changes:
/usr/bin/python3 tools/training/make_two_tower_test_model.py
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_train_two_tower  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "libs", "models", "src", "testing", "models", "retrieval")

if __name__ == "__main__":
    work = tempfile.mkdtemp(prefix="two-tower-fixture-")
    try:
        test_train_two_tower.write_export(work, users=60, requests_per_user=6)
        shutil.rmtree(OUT, ignore_errors=True)
        subprocess.run(
            [sys.executable, os.path.join(HERE, "train_two_tower.py"), "--data", work, "--out-root", OUT,
             "--epochs", "1", "--token-dim", "2", "--hidden", "8", "--batch-size", "64", "--min-clicks", "10",
             "--description", "libs/models test fixture: one epoch on a planted export, tables of width 2"],
            check=True,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
