"""Tests of the trainer's metrics and export: /usr/bin/python3 -m unittest tools/training/test_train_ranker.py"""

import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_ranker as sut  # noqa: E402


def pairwise_auc(scores, labels):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


class MetricsTest(unittest.TestCase):
    def test_auc_matches_the_pairwise_definition_with_ties(self):
        rng = np.random.default_rng(1)
        scores = rng.integers(0, 5, 300).astype(np.float32)  # many ties
        labels = (rng.random(300) < 0.3).astype(np.float32)
        self.assertAlmostEqual(sut.auc(scores, labels), pairwise_auc(scores, labels), places=12)

    def test_base_rate_prediction_has_normalized_entropy_one_and_perfect_calibration(self):
        labels = np.array([1, 0, 0, 0] * 50, dtype=np.float32)
        m = sut.head_metrics(np.full(labels.shape, 0.25), labels, np.full(labels.shape, 0.25))
        self.assertAlmostEqual(m["normalizedEntropy"], 1.0, places=6)
        self.assertAlmostEqual(m["calibration"], 1.0, places=6)
        self.assertAlmostEqual(m["logloss"], m["baseRateLogloss"], places=9)

    def test_exported_onnx_takes_a_dynamic_batch(self):
        model = sut.Ranker(5, [8], 4)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.onnx")
            sut.export_onnx(model, 5, path)
            self.assertGreater(os.path.getsize(path), 0)
        p_ctr, p_cvr = sut.Probabilities(model)(torch.zeros(3, 5))
        self.assertEqual(tuple(p_ctr.shape), (3,))
        self.assertEqual(tuple(p_cvr.shape), (3,))


if __name__ == "__main__":
    unittest.main()
