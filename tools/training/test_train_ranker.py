"""Tests of the trainer's metrics and export: /usr/bin/python3 -m unittest tools/training/test_train_ranker.py"""

import contextlib
import io
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


SPEC = {"name": "test-features", "version": 1, "fingerprint": "0123456789abcdef", "dim": 4}


def write_split(root, split, rows, seed, spec=SPEC):
    """A logged dataset as export-served writes it: features, labels and the (slot, surface) context."""
    rng = np.random.default_rng(seed)
    x = rng.random((rows, spec["dim"])).astype("<f4")
    y = synthetic_labels(x, rng).astype("<f4")
    context = np.stack([rng.integers(0, 3, rows), rng.integers(0, 2, rows)], axis=1).astype("<i4")
    directory = os.path.join(root, split)
    os.makedirs(directory)
    x.tofile(os.path.join(directory, "features.f32"))
    y.tofile(os.path.join(directory, "labels.f32"))
    context.tofile(os.path.join(directory, "context.i32"))
    meta = {
        "format": sut.DATASET_FORMAT,
        "formatVersion": 1,
        "featureSpec": spec,
        "columns": {
            "features": {"file": "features.f32", "shape": [rows, spec["dim"]]},
            "labels": {"file": "labels.f32", "names": sut.LABEL_COLUMNS},
            "context": {"file": "context.i32", "surfaces": ["home_feed", "search"]},
        },
    }
    with open(os.path.join(directory, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f)


def train_version(data, out_root, *extra):
    """Runs the trainer as the loop does; returns (version directory, manifest, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["--data", data, "--out-root", out_root, "--epochs", "2", "--batch-size", "256"]
    argv += ["--hidden", "8", "--head", "4"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            sut.main(argv + ["--no-current", *extra])
        except SystemExit:
            return None, None, err.getvalue()
    version = out.getvalue().strip().split("\n")[-1].split("@")[1].split(" ")[0]
    directory = os.path.join(out_root, version)
    with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as f:
        return directory, json.load(f), err.getvalue()


def weights(directory):
    return torch.load(os.path.join(directory, sut.STATE_FILE), weights_only=True)


class InitFromTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.data = os.path.join(self.root, "data")
        write_split(self.data, "train", 3000, 1)
        write_split(self.data, "validation", 1000, 2)
        self.out = os.path.join(self.root, "models")
        self.first, self.first_manifest, _ = train_version(self.data, self.out)

    def tearDown(self):
        self.tmp.cleanup()

    def test_every_version_carries_its_weights_and_a_scratch_one_no_init(self):
        state = weights(self.first)
        self.assertEqual(state["version"], self.first_manifest["version"])
        self.assertEqual(set(state["ranker"]), set(sut.Ranker(4, [8], 4).state_dict()))
        self.assertEqual(state["positionBias"]["surfaces"], ["home_feed", "search"])
        self.assertIsNone(self.first_manifest["initFrom"])

    def test_fine_tuning_starts_from_the_weights_and_examination_table_of_the_version_named(self):
        tuned, manifest, _ = train_version(
            self.data, self.out, "--init-from", self.first, "--lr", "1e-5", "--epochs", "1"
        )
        self.assertEqual(manifest["initFrom"], self.first_manifest["version"])
        before, after = weights(self.first), weights(tuned)
        scratch = sut.Ranker(4, [8], 4).state_dict()
        for name, value in before["ranker"].items():
            self.assertLess(float((after["ranker"][name] - value).abs().max()), 1e-3, name)
        # A random start is nowhere near: the trained weights were loaded, not merely the shapes.
        self.assertGreater(float((scratch["trunk.0.weight"] - before["ranker"]["trunk.0.weight"]).abs().max()), 0.05)
        table = before["positionBias"]["state"]["logit"]
        self.assertLess(float((after["positionBias"]["state"]["logit"] - table).abs().max()), 0.01)
        self.assertGreater(float((table - sut.PositionBias(2, 3).logit.detach()).abs().max()), 0.05)

    def test_refuses_another_architecture_saying_which(self):
        _, manifest, err = train_version(self.data, self.out, "--init-from", self.first, "--hidden", "16")
        self.assertIsNone(manifest)
        self.assertIn("mlp trunk [8]", err)
        self.assertIn("mlp trunk [16]", err)

    def test_refuses_another_feature_spec_saying_both_fingerprints(self):
        other = os.path.join(self.root, "other")
        spec = {**SPEC, "fingerprint": "fedcba9876543210"}
        write_split(other, "train", 500, 3, spec)
        write_split(other, "validation", 200, 4, spec)
        _, manifest, err = train_version(other, self.out, "--init-from", self.first)
        self.assertIsNone(manifest)
        self.assertIn("fp=0123456789abcdef", err)
        self.assertIn("fp=fedcba9876543210", err)

    def test_refuses_a_version_without_model_pt(self):
        os.remove(os.path.join(self.first, sut.STATE_FILE))
        _, manifest, err = train_version(self.data, self.out, "--init-from", self.first)
        self.assertIsNone(manifest)
        self.assertIn("model.pt not found", err)


if __name__ == "__main__":
    unittest.main()
