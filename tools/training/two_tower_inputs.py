"""The two-tower model's inputs in Python: the same encoding as libs/features/src/two-tower-spec.ts.

Serving encodes requests and ads in TypeScript; training encodes the exported logs here. Both follow the
spec TypeScript defines (TWO_TOWER_SPEC), which the export writes into its meta.json, so bucket counts,
lengths and dense layouts come from that file rather than from constants repeated here; what is repeated
is the procedure (hash, tokenizer, which field goes where), and libs/features/fixtures/two-tower-fixtures.json
holds encodings TypeScript produced that tools/training/test_two_tower_inputs.py holds this file to.
"""

import math
import re

import numpy as np

from two_tower import hash_token

_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits: JavaScript's /[\p{L}\p{N}]+/gu

# The procedure below knows these groups, in this order; a spec with others needs new code here (and in TS).
AD_DENSE_GROUPS = ["ad.category", "ad.embedding"]
USER_DENSE_GROUPS = [
    "user.known",
    "user.impression_share",
    "user.click_share",
    "user.hide_share",
    "user.log_totals",
    "user.history_embedding",
    "ctx.device",
    "ctx.country",
    "ctx.surface",
    "ctx.has_query",
    "ctx.ad_present",
    "ctx.ad_category",
    "ctx.ad_embedding",
]
AD_ID_INPUTS = ["ad_id", "advertiser_id", "ad_text"]
USER_ID_INPUTS = ["history_ads", "history_advertisers", "query_tokens", "history_query_tokens", "context_ad"]


def tokenize(text):
    """textTokens of libs/features: lower-cased runs of letters and digits."""
    return _WORD.findall(text.lower())


def bucket(namespace, value, buckets):
    return hash_token(f"{namespace}:{value}", buckets)


def text_ids(fields, max_words, buckets):
    """Words then bigrams (within each field) of the first max_words words, hashed; unpadded."""
    words, kept = [], 0
    for field in fields:
        if kept >= max_words:
            break
        tokens = tokenize(field)[: max_words - kept]
        kept += len(tokens)
        words.append(tokens)
    out = [bucket("w", w, buckets) for tokens in words for w in tokens]
    for tokens in words:
        for i in range(1, len(tokens)):
            if len(out) >= 2 * max_words:
                break
            out.append(bucket("b", f"{tokens[i - 1]} {tokens[i]}", buckets))
    return out


class Tower:
    """One tower's layout, read from the spec TypeScript wrote (TWO_TOWER_SPEC.ad or .user)."""

    def __init__(self, spec, known_ids, known_dense):
        names = [i["name"] for i in spec["ids"]]
        groups = [g["name"] for g in spec["dense"]]
        if names != known_ids or groups != known_dense:
            raise ValueError(
                f"the two-tower spec has id inputs {names} and dense groups {groups}; this encoder knows "
                f"{known_ids} and {known_dense}: update tools/training/two_tower_inputs.py with libs/features"
            )
        self.token_length = spec["tokenLength"]
        self.token_buckets = spec["tokenBuckets"]
        self.dense_dim = spec["denseDim"]
        self.ids = {}
        column = base = 0
        for i in spec["ids"]:
            self.ids[i["name"]] = (column, base, i["length"], i["buckets"])
            column += i["length"]
            base += i["buckets"]
        self.dense = {}
        at = 0
        for g in spec["dense"]:
            self.dense[g["name"]] = at
            at += g["dim"]

    def empty(self, rows):
        return np.zeros((rows, self.token_length), dtype=np.int64), np.zeros((rows, self.dense_dim), dtype=np.float32)

    def put_ids(self, tokens, row, name, ids):
        column, base, length, _ = self.ids[name]
        ids = ids[:length]
        tokens[row, column : column + len(ids)] = [base + b for b in ids]

    def buckets(self, name):
        return self.ids[name][3]


class Encoder:
    def __init__(self, spec):
        self.spec = spec
        self.ad = Tower(spec["ad"], AD_ID_INPUTS, AD_DENSE_GROUPS)
        self.user = Tower(spec["user"], USER_ID_INPUTS, USER_DENSE_GROUPS)
        limits = spec["limits"]
        self.ad_max_words = limits["adMaxWords"]
        self.query_max_words = limits["queryMaxWords"]
        self.history_queries = limits["historyQueries"]
        self.history_length = limits["historyLength"]
        vocab = spec["vocabularies"]
        self.topics = len(vocab["topics"])
        self.devices = list(vocab["devices"])
        self.countries = list(vocab["countries"])
        self.surfaces = list(vocab["surfaces"])

    def ads(self, ads):
        """Ad tower inputs (tokens int64 [N, L], dense float32 [N, D]) of catalog ads (dicts with id,
        advertiserId, title, text, categoryIndex, embedding)."""
        t = self.ad
        tokens, dense = t.empty(len(ads))
        for row, ad in enumerate(ads):
            t.put_ids(tokens, row, "ad_id", [bucket("ad", ad["id"], t.buckets("ad_id"))])
            t.put_ids(tokens, row, "advertiser_id", [bucket("adv", ad["advertiserId"], t.buckets("advertiser_id"))])
            t.put_ids(
                tokens, row, "ad_text", text_ids([ad["title"], ad["text"]], self.ad_max_words, t.buckets("ad_text"))
            )
            dense[row, t.dense["ad.category"] + self._category(ad["categoryIndex"])] = 1
            dense[row, t.dense["ad.embedding"] : t.dense["ad.embedding"] + len(ad["embedding"])] = ad["embedding"]
        return tokens, dense

    def requests(self, requests, catalog):
        """User tower inputs of requests (dicts with activity (or None), device, country, surface, query,
        contextAdId); catalog maps an ad id to a dict with categoryIndex and embedding."""
        t = self.user
        tokens, dense = t.empty(len(requests))
        for row, r in enumerate(requests):
            self._request(t, tokens, dense, row, r, catalog)
        return tokens, dense

    def _request(self, t, tokens, dense, row, r, catalog):
        d = t.dense
        activity = r.get("activity")
        if activity is not None:
            ads = list(activity["recentAdIds"])[: self.history_length]
            t.put_ids(tokens, row, "history_ads", [bucket("ad", a, t.buckets("history_ads")) for a in ads])
            advertisers = list(activity["recentAdvertiserIds"])[: self.history_length]
            buckets = t.buckets("history_advertisers")
            t.put_ids(tokens, row, "history_advertisers", [bucket("adv", a, buckets) for a in advertisers])
            queries = list(activity["recentQueries"])[: self.history_queries]
            buckets = t.buckets("history_query_tokens")
            t.put_ids(tokens, row, "history_query_tokens", text_ids(queries, 2 * self.query_max_words, buckets))
            totals = [
                self._share(activity["impressionsByCategory"], dense, row, d["user.impression_share"]),
                self._share(activity["clicksByCategory"], dense, row, d["user.click_share"]),
                self._share(activity["hidesByCategory"], dense, row, d["user.hide_share"]),
                sum(self._categories(activity["conversionsByCategory"])),
            ]
            for k, total in enumerate(totals):
                dense[row, d["user.log_totals"] + k] = math.log1p(total)
            known = any(total > 0 for total in totals) or len(ads) > 0 or len(activity["recentQueries"]) > 0
            dense[row, d["user.known"]] = 1 if known else 0
            mean = None
            for a in ads:
                ad = catalog.get(a)
                if ad is None:
                    continue
                vec = np.asarray(ad["embedding"], dtype=np.float64)
                mean = vec.copy() if mean is None else mean + vec
            if mean is not None:
                norm = math.sqrt(float(np.dot(mean, mean)))
                if norm > 0:
                    at = d["user.history_embedding"]
                    dense[row, at : at + len(mean)] = mean / norm
        dense[row, d["ctx.device"] + self._index(self.devices, r["device"], "device")] = 1
        country = self.countries.index(r["country"]) if r["country"] in self.countries else len(self.countries)
        dense[row, d["ctx.country"] + country] = 1
        dense[row, d["ctx.surface"] + self._index(self.surfaces, r["surface"], "surface")] = 1
        query = text_ids([r.get("query") or ""], self.query_max_words, t.buckets("query_tokens"))
        t.put_ids(tokens, row, "query_tokens", query)
        dense[row, d["ctx.has_query"]] = 1 if query else 0
        context = r.get("contextAdId")
        if context is not None:
            t.put_ids(tokens, row, "context_ad", [bucket("ad", context, t.buckets("context_ad"))])
            ad = catalog.get(context)
            if ad is not None:
                dense[row, d["ctx.ad_present"]] = 1
                dense[row, d["ctx.ad_category"] + self._category(ad["categoryIndex"])] = 1
                at = d["ctx.ad_embedding"]
                dense[row, at : at + len(ad["embedding"])] = ad["embedding"]

    def _categories(self, values):
        if len(values) != self.topics:
            raise ValueError(f"activity counts have {len(values)} categories, expected {self.topics}")
        return values

    def _share(self, values, dense, row, at):
        total = float(sum(self._categories(values)))
        if total > 0:
            dense[row, at : at + self.topics] = np.asarray(values, dtype=np.float64) / total
        return total

    def _category(self, index):
        if not (0 <= index < self.topics):
            raise ValueError(f"ad category index {index} outside 0..{self.topics - 1}")
        return index

    @staticmethod
    def _index(values, value, what):
        if value not in values:
            raise ValueError(f'unknown {what} "{value}"; known: {", ".join(values)}')
        return values.index(value)
