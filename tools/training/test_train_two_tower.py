"""train_two_tower.py on a small generated export: /usr/bin/python3 -m unittest tools/training/test_train_two_tower.py

The export is planted: each user favours one category and clicks only its ads; the activity logged with
each served ad holds the user's earlier clicks, as logging writes it. A model that learns must beat the most
popular ads on the latest clicks, which it never trained on.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(REPO, "libs", "features", "fixtures", "two-tower-fixtures.json")
TOPICS = 16
SURFACES = ["home_feed", "search", "related_items"]


def spec():
    with open(FIXTURES, encoding="utf-8") as f:
        fx = json.load(f)
    return {**fx["spec"], "fingerprint": fx["fingerprint"]}


def write_export(out, users=120, ads_per_topic=12, topics=6, requests_per_user=10, seed=3):
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(TOPICS, 32))
    ads = []
    for k in range(topics):
        for j in range(ads_per_topic):
            vec = basis[k] + 0.6 * rng.normal(size=32)
            ads.append(
                {
                    "id": len(ads) + 1,
                    "advertiserId": 1 + k * 3 + j % 3,
                    "campaignId": 1 + k * 3 + j % 3,
                    "title": f"Brand{k}: product {j}",
                    "text": f"Topic {k} things",
                    "category": f"t{k}",
                    "categoryIndex": k,
                    "status": "active",
                    "campaignStatus": "active",
                    "embedding": (vec / np.linalg.norm(vec)).astype(np.float32).tolist(),
                }
            )
    by_topic = [[a for a in ads if a["categoryIndex"] == k] for k in range(topics)]
    served, t = [], 1_000_000
    for step in range(requests_per_user):
        for u in range(users):
            favourite = u % topics
            history = [r for r in served if r["userId"] == f"u{u}" and r["click"] == 1]
            recent = [r["adId"] for r in reversed(history)][:20]
            clicks = [0.0] * TOPICS
            for r in history:
                clicks[by_topic[favourite][0]["categoryIndex"]] += 1
            activity = {
                "impressionsByCategory": [c * 3 for c in clicks],
                "clicksByCategory": clicks,
                "hidesByCategory": [0.0] * TOPICS,
                "conversionsByCategory": [0.0] * TOPICS,
                "recentAdIds": recent,
                "recentAdvertiserIds": list(dict.fromkeys(next(a["advertiserId"] for a in ads if a["id"] == i) for i in recent)),
                "recentQueries": [],
                "updatedAt": t,
            }
            shown = [by_topic[favourite][rng.integers(ads_per_topic)], ads[rng.integers(len(ads))]]
            for slot, ad in enumerate(shown):
                t += 1
                served.append(
                    {
                        "requestId": f"r{step}-{u}",
                        "servedAt": t,
                        "userId": f"u{u}",
                        "surface": SURFACES[u % 3],
                        "country": "US",
                        "device": "mobile",
                        "slot": slot,
                        "adId": ad["id"],
                        "click": 1 if ad["categoryIndex"] == favourite else 0,
                        "conversion": 0,
                        "hidden": 0,
                        "query": None,
                        "contextAdId": None,
                        "activity": activity if step > 0 else None,
                    }
                )
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "ads.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(a) + "\n" for a in ads)
    with open(os.path.join(out, "served.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in served)
    meta = {
        "format": "adfunnel-retrieval-log",
        "formatVersion": 1,
        "twoTowerSpec": spec(),
        "files": {"ads": "ads.jsonl", "served": "served.jsonl"},
        "source": {"kind": "generated"},
    }
    with open(os.path.join(out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f)


class TrainTwoTowerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="two-tower-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_learns_more_than_popularity_and_writes_a_manifest(self):
        data = os.path.join(self.tmp, "data")
        models = os.path.join(self.tmp, "models")
        write_export(data)
        run = subprocess.run(
            [sys.executable, os.path.join(HERE, "train_two_tower.py"), "--data", data, "--out-root", models,
             "--epochs", "8", "--batch-size", "64", "--threads", "1"],
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(run.returncode, 0, run.stderr[-2000:])
        with open(os.path.join(models, "current"), encoding="utf-8") as f:
            version = f.read().strip()
        with open(os.path.join(models, version, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        self.assertEqual(manifest["version"], version)
        self.assertEqual(manifest["kind"], "two-tower")
        self.assertEqual(manifest["inputSpec"]["fingerprint"], spec()["fingerprint"])
        self.assertEqual(manifest["dim"], 32)
        for tower in ("user", "ad"):
            self.assertTrue(os.path.getsize(os.path.join(models, version, manifest["towers"][tower]["file"])) > 0)
        recall = manifest["metrics"]["recallAtK"]
        # 72 ads, 12 per favourite category: popularity finds a user's category by chance only.
        self.assertGreater(recall["model"]["10"], recall["popular"]["10"] + 0.2, run.stdout)
        self.assertGreater(recall["model"]["10"], 0.5, run.stdout)

    def test_refuses_an_export_with_too_few_clicks(self):
        data = os.path.join(self.tmp, "data")
        write_export(data, users=6, requests_per_user=2)
        run = subprocess.run(
            [sys.executable, os.path.join(HERE, "train_two_tower.py"), "--data", data, "--out-root", self.tmp],
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(run.returncode, 3)
        self.assertIn("too few to train", run.stderr)


if __name__ == "__main__":
    unittest.main()
