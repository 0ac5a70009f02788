"""Tests of the two-tower model: /usr/bin/python3 -m unittest tools/training/test_two_tower.py"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_tower as sut  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def planted(users=240, groups=4, items_per_group=40, train_per_user=12, test_per_user=4, seed=5):
    """Users and items in `groups` hidden groups; a user only interacts with items of its own group."""
    rng = np.random.default_rng(seed)
    user_group = np.arange(users) % groups
    item_group = np.arange(groups * items_per_group) // items_per_group
    train, test = [], {}
    for u in range(users):
        own = np.flatnonzero(item_group == user_group[u])
        picked = rng.choice(own, train_per_user + test_per_user, replace=False)
        train += [(u, int(i)) for i in picked[:train_per_user]]
        test[u] = set(int(i) for i in picked[train_per_user:])
    pairs = np.array(train, dtype=np.int64)
    return user_group, item_group, pairs[:, 0], pairs[:, 1], test


def recall_at(user_vecs, item_vecs, train_users, train_items, test, k):
    scores = user_vecs @ item_vecs.T
    scores[train_users, train_items] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :k]
    return float(np.mean([len(test[u] & set(top[u].tolist())) / len(test[u]) for u in test]))


class LossTest(unittest.TestCase):
    def test_without_log_q_it_is_the_softmax_cross_entropy_over_the_batch(self):
        torch.manual_seed(1)
        u = F.normalize(torch.randn(5, 8), dim=-1)
        v = F.normalize(torch.randn(5, 8), dim=-1)
        ids = torch.tensor([0, 1, 2, 3, 4])
        loss = sut.sampled_softmax_loss(u, v, ids, torch.zeros(5), 0.1)
        logits = (u @ v.T / 0.1).numpy().astype(np.float64)
        expected = np.mean([-logits[i, i] + np.log(np.exp(logits[i]).sum()) for i in range(5)])
        self.assertAlmostEqual(float(loss), expected, places=4)

    def test_log_q_is_subtracted_from_every_logit_and_duplicates_are_not_negatives(self):
        torch.manual_seed(2)
        u = F.normalize(torch.randn(4, 8), dim=-1)
        v = F.normalize(torch.randn(4, 8), dim=-1)
        ids = torch.tensor([3, 1, 3, 0])  # item 3 twice: rows 0 and 2 are not each other's negatives
        log_q = torch.log(torch.tensor([0.1, 0.2, 0.3, 0.4]))
        loss = sut.sampled_softmax_loss(u, v, ids, log_q, 0.5)
        logits = (u @ v.T / 0.5 - log_q[ids].unsqueeze(0)).numpy().astype(np.float64)
        terms = []
        for i in range(4):
            keep = [j for j in range(4) if j == i or int(ids[j]) != int(ids[i])]
            terms.append(-logits[i, i] + np.log(np.exp(logits[i, keep]).sum()))
        self.assertAlmostEqual(float(loss), float(np.mean(terms)), places=4)

    def test_log_q_is_the_log_share_of_training_interactions(self):
        log_q = sut.item_log_q(np.array([0, 0, 0, 1, 2, 2]), 4)
        np.testing.assert_allclose(torch.exp(log_q[:3]).numpy(), [0.5, 1 / 6, 1 / 3], rtol=1e-6)
        self.assertTrue(torch.isfinite(log_q[3]))  # never seen: finite, never used


class HashTest(unittest.TestCase):
    def test_tokens_hash_with_32_bit_fnv1a_into_buckets_above_the_padding_index(self):
        self.assertEqual(sut.fnv1a_32(b""), 0x811C9DC5)
        self.assertEqual(sut.fnv1a_32(b"a"), 0xE40C292C)
        self.assertEqual(sut.hash_token("a", 1001), 1 + 0xE40C292C % 1000)
        m = sut.token_matrix([["x", "y"], [], ["z"]], 64)
        self.assertEqual(m.shape, (3, 2))
        self.assertEqual(m[1].tolist(), [0, 0])
        self.assertTrue((m[m > 0] >= 1).all() and (m < 64).all())


class DeterminismTest(unittest.TestCase):
    def test_the_same_seed_gives_the_same_weights(self):
        _, _, users, items, _ = planted(users=40)

        def run():
            sut.seed_everything(9, 1)
            model = sut.TwoTower(sut.TowerConfig(num_ids=40, id_dim=8, hidden=(4,), out_dim=8),
                                 sut.TowerConfig(num_ids=160, id_dim=8, hidden=(), out_dim=8))
            sut.train(model, users, items, sut.TrainConfig(epochs=2, batch_size=32, seed=9), log=None)
            return sut.embed(model.item, 160)

        np.testing.assert_array_equal(run(), run())


class PlantedStructureTest(unittest.TestCase):
    def test_an_ids_only_model_recovers_the_hidden_groups(self):
        user_group, item_group, users, items, test = planted()
        sut.seed_everything(3, 1)
        model = sut.TwoTower(
            sut.TowerConfig(num_ids=len(user_group), id_dim=16, hidden=(), out_dim=16),
            sut.TowerConfig(num_ids=len(item_group), id_dim=16, hidden=(), out_dim=16),
        )
        history = sut.train(model, users, items, sut.TrainConfig(epochs=30, batch_size=128, lr=1e-2, seed=3), log=None)
        self.assertLess(history[-1], history[0])
        uv = sut.embed(model.user, len(user_group))
        iv = sut.embed(model.item, len(item_group))
        np.testing.assert_allclose(np.linalg.norm(iv, axis=1), 1.0, rtol=1e-5)
        # Held-out items of the user's group: 4 of 28 candidates of its group among 148; chance is 0.07.
        self.assertGreater(recall_at(uv, iv, users, items, test, 10), 0.25)
        top = np.argsort(-(uv @ iv.T), axis=1)[:, :10]
        self.assertGreater(float(np.mean(item_group[top] == user_group[:, None])), 0.9)

    def test_a_feature_only_item_tower_places_items_never_trained_on_beside_their_group(self):
        user_group, item_group, users, items, _ = planted(seed=8)
        groups = int(item_group.max()) + 1
        rng = np.random.default_rng(8)
        cold = rng.random(len(item_group)) < 0.25  # these items never appear in training
        keep = ~cold[items]
        tokens = sut.token_matrix([[f"group:{g}", f"noise:{rng.integers(50)}"] for g in item_group], 97)
        noise = rng.normal(0, 0.3, (len(item_group), groups)).astype(np.float32)
        dense = np.eye(groups, dtype=np.float32)[item_group] + noise
        features = sut.Features(dense=dense, tokens=tokens)
        sut.seed_everything(4, 1)
        model = sut.TwoTower(
            sut.TowerConfig(num_ids=len(user_group), id_dim=16, hidden=(), out_dim=16),
            sut.TowerConfig(num_ids=0, dense_dim=groups, token_buckets=97, token_dim=8, hidden=(32,), out_dim=16),
        )
        sut.train(
            model, users[keep], items[keep], sut.TrainConfig(epochs=25, batch_size=128, lr=1e-2, seed=4),
            item_features=features, log=None,
        )
        uv = sut.embed(model.user, len(user_group))
        iv = sut.embed(model.item, len(item_group), features)
        cold_items = np.flatnonzero(cold)
        nearest_user = np.argmax(iv[cold_items] @ uv.T, axis=1)
        self.assertGreater(float(np.mean(user_group[nearest_user] == item_group[cold_items])), 0.9)


def onnx_runner():
    """node and onnxruntime-node of the repo, or None: they check the export the way serving loads it."""
    node = shutil.which("node")
    if node is None or not os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")):
        return None
    return node


ORT_SCRIPT = """
import ort from 'onnxruntime-node';
const [model, inputsPath] = process.argv.slice(2);
const feeds = JSON.parse(await (await import('node:fs/promises')).readFile(inputsPath, 'utf8'));
const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
const tensors = {};
for (const [name, { dtype, data, shape }] of Object.entries(feeds))
  tensors[name] = new ort.Tensor(
    dtype, dtype === 'int64' ? BigInt64Array.from(data.map(BigInt)) : Float32Array.from(data), shape);
const out = await session.run(tensors);
const { dims, data } = out.embedding;
console.log(JSON.stringify({ names: session.inputNames, dims, data: Array.from(data) }));
"""


class OnnxExportTest(unittest.TestCase):
    def test_each_tower_exports_with_a_dynamic_batch_and_matches_torch(self):
        torch.manual_seed(6)
        model = sut.TwoTower(
            sut.TowerConfig(num_ids=10, dense_dim=3, token_buckets=20, id_dim=4, token_dim=4, hidden=(8,), out_dim=6),
            sut.TowerConfig(num_ids=7, id_dim=4, hidden=(), out_dim=6),
        )
        node = onnx_runner()
        with tempfile.TemporaryDirectory(dir=REPO, prefix=".two-tower-test-") as d:
            user_path, item_path = os.path.join(d, "user.onnx"), os.path.join(d, "item.onnx")
            self.assertEqual(sut.export_tower_onnx(model.user, user_path), ["ids", "dense", "tokens"])
            self.assertEqual(sut.export_tower_onnx(model.item, item_path), ["ids"])
            self.assertGreater(os.path.getsize(user_path), 0)
            if node is None:
                self.skipTest("node with onnxruntime-node not found: exported, not run")
            ids = torch.tensor([1, 4, 9, 0, 2])
            dense = torch.randn(5, 3)
            tokens = torch.tensor([[3, 5, 0, 0], [7, 0, 0, 0], [1, 2, 3, 4], [0, 0, 0, 0], [19, 19, 0, 0]])
            with torch.no_grad():
                expected = model.user(ids=ids, dense=dense, tokens=tokens).numpy()
            feeds = {
                "ids": {"dtype": "int64", "data": ids.tolist(), "shape": [5]},
                "dense": {"dtype": "float32", "data": dense.flatten().tolist(), "shape": [5, 3]},
                "tokens": {"dtype": "int64", "data": tokens.flatten().tolist(), "shape": [5, 4]},
            }
            inputs_path, script = os.path.join(d, "feeds.json"), os.path.join(d, "run.mjs")
            with open(inputs_path, "w", encoding="utf-8") as f:
                json.dump(feeds, f)
            with open(script, "w", encoding="utf-8") as f:
                f.write(ORT_SCRIPT)
            run = subprocess.run([node, script, user_path, inputs_path], check=True, capture_output=True, text=True)
            out = json.loads(run.stdout)
            self.assertEqual(out["names"], ["ids", "dense", "tokens"])
            self.assertEqual(out["dims"], [5, 6])
            np.testing.assert_allclose(np.array(out["data"]).reshape(5, 6), expected, atol=1e-5)


if __name__ == "__main__":
    unittest.main()
