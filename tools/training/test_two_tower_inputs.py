"""The Python two-tower encoder against TypeScript's: /usr/bin/python3 -m unittest tools/training/test_two_tower_inputs.py

libs/features/fixtures/two-tower-fixtures.json holds inputs and the arrays libs/features encoded them to
(libs/features/src/two-tower-spec.spec.ts checks TypeScript against the same file).
"""

import json
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_tower  # noqa: E402
import two_tower_inputs as sut  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "libs", "features", "fixtures", "two-tower-fixtures.json")


def load():
    with open(FIXTURES, encoding="utf-8") as f:
        return json.load(f)


class HashAndTokensTest(unittest.TestCase):
    def test_fnv1a_matches_typescript(self):
        for value, expected in load()["hashes"]:
            self.assertEqual(two_tower.fnv1a_32(value.encode("utf-8")), expected, value)

    def test_tokenizer_matches_typescript(self):
        for text, expected in load()["tokens"]:
            self.assertEqual(sut.tokenize(text), expected, text)


class EncoderTest(unittest.TestCase):
    def setUp(self):
        self.fx = load()
        self.encoder = sut.Encoder(self.fx["spec"])
        self.catalog = {int(k): v for k, v in self.fx["catalog"].items()}

    def test_ad_inputs_match_typescript(self):
        tokens, dense = self.encoder.ads(self.fx["ads"])
        expected = self.fx["adInputs"]
        self.assertEqual(tokens.reshape(-1).tolist(), expected["tokens"])
        np.testing.assert_array_equal(dense.reshape(-1), np.asarray(expected["dense"], dtype=np.float32))

    def test_user_inputs_match_typescript(self):
        tokens, dense = self.encoder.requests(self.fx["requests"], self.catalog)
        expected = self.fx["userInputs"]
        self.assertEqual(tokens.reshape(-1).tolist(), expected["tokens"])
        np.testing.assert_allclose(dense.reshape(-1), np.asarray(expected["dense"], dtype=np.float32), atol=1e-6)

    def test_refuses_a_spec_with_groups_it_does_not_know(self):
        spec = json.loads(json.dumps(self.fx["spec"]))
        spec["user"]["dense"].append({"name": "user.age", "dim": 1, "description": ""})
        with self.assertRaisesRegex(ValueError, "update tools/training/two_tower_inputs.py"):
            sut.Encoder(spec)


if __name__ == "__main__":
    unittest.main()
