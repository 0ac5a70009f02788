"""Tests of the retrieval-eval trainer: /usr/bin/python3 -m unittest tools/training/test_retrieval_eval.py"""

import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import retrieval_eval as sut  # noqa: E402
from test_two_tower import planted  # noqa: E402


class RankingTest(unittest.TestCase):
    def test_top_k_excludes_train_items_and_breaks_ties_by_the_lower_index(self):
        train = np.array([[0, 1], [1, 0], [1, 3]], dtype=np.int64)
        sets = sut.TrainSets(train, 2, 5)
        user_vecs = np.ones((2, 1), dtype=np.float32)
        item_vecs = np.array([[3], [5], [3], [9], [1]], dtype=np.float32)
        top = sut.top_k(user_vecs, item_vecs, np.array([0, 1]), sets, 3, chunk=1)
        self.assertEqual(top.tolist(), [[3, 0, 2], [1, 2, 4]])
        deep = sut.top_k(user_vecs, item_vecs, np.array([1]), sets, 5, chunk=4)
        self.assertEqual(deep.tolist(), [[1, 2, 4, -1, -1]])  # padded, never a train item

    def test_negatives_are_items_the_user_has_not_interacted_with(self):
        train = np.array([[0, i] for i in range(8)] + [[1, 0]], dtype=np.int64)
        sets = sut.TrainSets(train, 2, 10)
        users = np.zeros(2000, dtype=np.int64)
        neg = sut.sample_negatives(sets, users, torch.Generator().manual_seed(1), 10)
        self.assertEqual(set(neg.tolist()), {8, 9})

    def test_default_epochs_fall_with_the_number_of_interactions(self):
        self.assertEqual(sut.default_epochs(80_000, 15, 3), 15)
        self.assertEqual(sut.default_epochs(1000, 15, 3), 15)
        self.assertEqual(sut.default_epochs(800_000, 15, 3), 3)
        self.assertEqual(sut.default_epochs(800_000, 60, 8), 8)


class EndToEndTest(unittest.TestCase):
    def test_every_model_writes_vectors_and_top_lists_and_bpr_learns_the_groups(self):
        user_group, item_group, users, items, _ = planted(seed=2)
        with tempfile.TemporaryDirectory() as d:
            np.stack([users, items], axis=1).astype("<i4").tofile(os.path.join(d, "train.i32"))
            np.arange(len(user_group), dtype="<i4").tofile(os.path.join(d, "eval-users.i32"))
            meta = {"format": sut.WORK_FORMAT, "formatVersion": 1, "users": len(user_group),
                    "items": len(item_group), "trainRows": len(users), "evalUsers": len(user_group), "topK": 10}
            with open(os.path.join(d, "input.json"), "w", encoding="utf-8") as f:
                json.dump(meta, f)
            sut.main(["--dir", d, "--dim", "16", "--epochs", "3", "--bpr-epochs", "30", "--batch-size", "128"])
            with open(os.path.join(d, "output.json"), encoding="utf-8") as f:
                out = json.load(f)
            self.assertEqual([m["name"] for m in out["models"]], ["two-tower", "bpr", "popular"])
            for m in out["models"]:
                top = np.fromfile(os.path.join(d, m["top"]), dtype="<i4").reshape(len(user_group), 10)
                items_vecs = np.fromfile(os.path.join(d, m["items"]), dtype="<f4")
                self.assertEqual(items_vecs.size, len(item_group) * m["dim"])
                seen = set(zip(users.tolist(), items.tolist()))
                self.assertFalse(any((u, int(i)) in seen for u in range(len(user_group)) for i in top[u]))
                if m["name"] == "bpr":
                    self.assertGreater(float(np.mean(item_group[top] == user_group[:, None])), 0.8)
            self.assertEqual(out["models"][1]["dim"], 17)  # BPR's item bias rides as one more dimension


if __name__ == "__main__":
    unittest.main()
