"""Tests of the trainer's metrics and export: /usr/bin/python3 -m unittest tools/training/test_train_ranker.py"""

import json
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
        p_ctr, p_cvr, p_hide = sut.Probabilities(model)(torch.zeros(3, 5))
        self.assertEqual(tuple(p_ctr.shape), (3,))
        self.assertEqual(tuple(p_cvr.shape), (3,))
        self.assertEqual(tuple(p_hide.shape), (3,))
        self.assertEqual(sut.output_names(model), ["p_ctr", "p_cvr", "p_hide"])

    def test_a_model_without_a_hide_head_exports_two_outputs(self):
        model = sut.Ranker(5, [8], 4, hide=False)
        self.assertEqual(sut.output_names(model), ["p_ctr", "p_cvr"])
        self.assertEqual(len(sut.Probabilities(model)(torch.zeros(3, 5))), 2)
        _, _, p_hide = sut.predict(model, np.zeros((3, 5), dtype=np.float32))
        self.assertIsNone(p_hide)


def synthetic_labels(x, rng):
    """Clicks follow feature 0, hides feature 1, and a hide only ever falls on a row not clicked."""
    click = rng.random(len(x)) < 0.05 + 0.5 * x[:, 0] ** 2
    conversion = click & (rng.random(len(x)) < 0.3)
    hidden = ~click & (rng.random(len(x)) < 0.02 + 0.5 * x[:, 1] ** 2)
    nan = np.full(len(x), np.nan)
    return np.stack([click, conversion, nan, nan, hidden, nan], axis=1).astype(np.float32)


class HideHeadTest(unittest.TestCase):
    ARGS = ["--epochs", "6", "--batch-size", "128", "--lr", "1e-2", "--seed", "3"]

    def test_the_hide_head_learns_p_hide_beside_ctr_and_cvr(self):
        sut.seed_everything(3, 1)
        rng = np.random.default_rng(3)
        x = rng.random((6000, 4)).astype(np.float32)
        y = synthetic_labels(x, rng)
        vx = rng.random((3000, 4)).astype(np.float32)
        vy = synthetic_labels(vx, rng)
        model = sut.Ranker(4, [16], 8)
        sut.train(model, x, y, sut.parse_args(self.ARGS))
        metrics = sut.evaluate(model, vx, vy)
        self.assertEqual(set(metrics), {"ctr", "cvr", "hide"})
        self.assertGreater(metrics["hide"]["auc"], 0.7)
        self.assertGreater(metrics["ctr"]["auc"], 0.7)
        self.assertLess(abs(metrics["hide"]["calibration"] - 1), 0.25)
        self.assertIsNone(metrics["hide"]["bayesLogloss"])

    def test_reads_a_dataset_written_before_hides_as_one_without_a_hide_label(self):
        with tempfile.TemporaryDirectory() as d:
            split = os.path.join(d, "train")
            os.makedirs(split)
            np.zeros((3, 2), dtype="<f4").tofile(os.path.join(split, "features.f32"))
            np.ones((3, 4), dtype="<f4").tofile(os.path.join(split, "labels.f32"))
            meta = {
                "format": sut.DATASET_FORMAT,
                "formatVersion": 1,
                "columns": {
                    "features": {"file": "features.f32", "shape": [3, 2]},
                    "labels": {"file": "labels.f32", "names": sut.LEGACY_LABEL_COLUMNS},
                },
            }
            with open(os.path.join(split, "meta.json"), "w", encoding="utf-8") as f:
                json.dump(meta, f)
            meta, _, labels, _ = sut.load_split(d, "train")
        self.assertFalse(meta["hasHide"])
        self.assertEqual(labels.shape, (3, 6))
        self.assertTrue(np.isnan(labels[:, 4]).all())


if __name__ == "__main__":
    unittest.main()
