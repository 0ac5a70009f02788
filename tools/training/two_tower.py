"""A two-tower retrieval model in PyTorch: user and item towers trained with an in-batch sampled softmax.

Each tower maps one entity (a user or an item) to a unit vector of `out_dim`; retrieval scores a pair by
the dot product of the two vectors (their cosine), so an item tower's outputs can go straight into an
inner-product ANN index (hnswlib 'ip', as libs/ad-index builds) and a user tower's output is the query.
A tower's input is its entity's integer id (an embedding row; ids are dense, 0..n-1) plus, optionally,
dense float features and a bag of hashed tokens (categories, words, ...) pooled by an EmbeddingBag.

Used by tools/training/retrieval_eval.py; reusable for any interactions-with-features data:

    model = TwoTower(TowerConfig(num_ids=n_users), TowerConfig(num_ids=n_items, dense_dim=8))
    history = train(model, user_idx, item_idx, TrainConfig(epochs=10), item_features=Features(dense=x))
    export_tower_onnx(model.item, "item_tower.onnx")

Run with Debian's python (torch 1.13): /usr/bin/python3; tests: tools/training/test_two_tower.py.
"""

import dataclasses
import random
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ONNX_OPSET = 17  # the newest torch 1.13 exports; onnxruntime 1.30 runs up to 23
PAD_TOKEN = 0  # token bags are [N, L] int64, padded with 0; hashed tokens fall in 1..buckets-1


def fnv1a_32(data: bytes) -> int:
    """32-bit FNV-1a: a stable hash (Python's hash() is salted per process) that TypeScript can repeat."""
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def hash_token(token: str, buckets: int) -> int:
    """The bag index of a token: 1 + FNV-1a(UTF-8) mod (buckets - 1); 0 stays the padding index."""
    if buckets < 2:
        raise ValueError(f"a token bag needs at least 2 buckets (one is padding), got {buckets}")
    return 1 + fnv1a_32(token.encode("utf-8")) % (buckets - 1)


def token_matrix(bags, buckets: int) -> np.ndarray:
    """Hashes a list of token lists into an [N, L] int64 matrix, L the longest bag, padded with 0."""
    width = max((len(bag) for bag in bags), default=0)
    out = np.zeros((len(bags), max(width, 1)), dtype=np.int64)
    for row, bag in enumerate(bags):
        for col, token in enumerate(bag):
            out[row, col] = hash_token(token, buckets)
    return out


@dataclasses.dataclass(frozen=True)
class TowerConfig:
    """One tower's inputs and shape. `num_ids` 0 means no id embedding (features only, e.g. cold items)."""

    num_ids: int
    dense_dim: int = 0
    token_buckets: int = 0
    id_dim: int = 64
    token_dim: int = 32
    hidden: tuple = (128,)
    out_dim: int = 64


@dataclasses.dataclass(frozen=True)
class Features:
    """Per-entity side inputs, row i for id i: dense [n, dense_dim] float32, tokens [n, L] int64."""

    dense: np.ndarray = None
    tokens: np.ndarray = None


class Tower(nn.Module):
    """id embedding ++ dense ++ mean of token embeddings -> MLP (ReLU) -> linear -> L2 normalisation."""

    def __init__(self, config: TowerConfig):
        super().__init__()
        if config.num_ids <= 0 and config.dense_dim <= 0 and config.token_buckets <= 0:
            raise ValueError("a tower needs at least one input: ids, dense features or a token bag")
        self.config = config
        # Sparse gradients: a batch touches a few hundred rows of tables that can hold 10^5 ids, and a
        # dense Adam step over the whole table would cost more than the rest of the step.
        self.ids = nn.Embedding(config.num_ids, config.id_dim, sparse=True) if config.num_ids > 0 else None
        # mode="sum" with per-sample weights 1/bag size gives the mean over real tokens: torch 1.13
        # cannot export padding_idx of an EmbeddingBag to ONNX, but exports per_sample_weights.
        self.tokens = None
        if config.token_buckets:
            self.tokens = nn.EmbeddingBag(config.token_buckets, config.token_dim, mode="sum", sparse=True)
        width = (config.id_dim if self.ids is not None else 0) + config.dense_dim
        width += config.token_dim if self.tokens is not None else 0
        layers = []
        for h in config.hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, config.out_dim))
        self.mlp = nn.Sequential(*layers)
        if self.ids is not None:
            nn.init.normal_(self.ids.weight, std=0.1)
        if self.tokens is not None:
            nn.init.normal_(self.tokens.weight, std=0.1)

    def input_names(self):
        return (["ids"] if self.ids is not None else []) + (["dense"] if self.config.dense_dim else []) + (
            ["tokens"] if self.tokens is not None else []
        )

    def forward(self, ids=None, dense=None, tokens=None):
        parts = []
        if self.ids is not None:
            parts.append(self.ids(ids))
        if self.config.dense_dim:
            parts.append(dense)
        if self.tokens is not None:
            real = (tokens != PAD_TOKEN).to(torch.float32)
            weights = real / real.sum(dim=1, keepdim=True).clamp(min=1.0)
            parts.append(self.tokens(tokens, per_sample_weights=weights))
        x = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        return F.normalize(self.mlp(x), dim=-1)


class TwoTower(nn.Module):
    def __init__(self, user: TowerConfig, item: TowerConfig):
        super().__init__()
        if user.out_dim != item.out_dim:
            raise ValueError(f"the towers must share out_dim, got user {user.out_dim} and item {item.out_dim}")
        self.user = Tower(user)
        self.item = Tower(item)


def item_log_q(item_idx: np.ndarray, num_items: int) -> torch.Tensor:
    """log q_j: the chance that a slot of a shuffled training batch holds item j, its share of the
    training interactions. Items never seen in training get the smallest observed share (they are never
    sampled, so their correction is never used in training)."""
    counts = np.bincount(item_idx, minlength=num_items).astype(np.float64)
    seen = counts > 0
    share = counts / max(counts.sum(), 1.0)
    share[~seen] = share[seen].min() if seen.any() else 1.0
    return torch.from_numpy(np.log(share)).to(torch.float32)


def sampled_softmax_loss(user_vecs, item_vecs, item_ids, log_q, temperature):
    """In-batch sampled softmax with logQ correction (Yi et al., "Sampling-bias-corrected neural modeling
    for large corpus item recommendations", RecSys 2019).

    Row i of the batch is a (user, item) interaction; the other rows' items are its negatives. The full
    softmax over the corpus would be P(j | u) = exp(s(u, j)) / sum_k exp(s(u, k)), with s = <u, v> / T
    (unit vectors, so s is a cosine scaled by the temperature T: a small T sharpens the distribution,
    which unit vectors need since their dot products lie in [-1, 1]). Using the batch as the sample of
    negatives draws items in proportion to their training frequency q_j, so popular items are negatives
    far more often than under the full softmax and the model learns to push them down: the sampled
    softmax is biased against popularity. Subtracting log q_j from every logit (the positive's too) makes
    the sampled softmax a consistent estimate of the full one: s_c(u, j) = s(u, j) - log q_j.

    An item that appears twice in a batch would be its own negative: those other copies are masked out.
    Returns the mean cross-entropy of the positives.
    """
    logits = user_vecs @ item_vecs.T / temperature - log_q[item_ids].unsqueeze(0)
    same = item_ids.unsqueeze(0) == item_ids.unsqueeze(1)
    same.fill_diagonal_(False)
    logits = logits.masked_fill(same, float("-inf"))
    target = torch.arange(user_vecs.shape[0])
    return F.cross_entropy(logits, target)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 1024
    lr: float = 3e-3
    weight_decay: float = 0.0  # on the MLP only: the sparse embedding tables take none
    temperature: float = 0.05
    logq: bool = True
    seed: int = 7
    # One thread: the batches are small, and OpenMP's hand-offs between threads cost more than they
    # save (an embedding lookup of 1024 rows took 10 ms on two threads of a busy machine, 30 us on one).
    threads: int = 1
    log_every_epoch: bool = True


def seed_everything(seed, threads):
    """Fixed seeds and deterministic kernels: the same data and config give the same weights."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def _inputs(tower, idx, features):
    """The keyword inputs of `tower` for entity indices idx (a LongTensor)."""
    out = {}
    if tower.ids is not None:
        out["ids"] = idx
    if tower.config.dense_dim:
        out["dense"] = features.dense[idx]
    if tower.tokens is not None:
        out["tokens"] = features.tokens[idx]
    return out


def _as_tensors(features, tower, what):
    dense = tokens = None
    if tower.config.dense_dim:
        if features is None or features.dense is None:
            raise ValueError(f"the {what} tower takes {tower.config.dense_dim} dense features; none given")
        if features.dense.shape[1] != tower.config.dense_dim:
            got, expected = features.dense.shape[1], tower.config.dense_dim
            raise ValueError(f"{what} dense features have {got} columns, expected {expected}")
        dense = torch.from_numpy(np.ascontiguousarray(features.dense, dtype=np.float32))
    if tower.tokens is not None:
        if features is None or features.tokens is None:
            raise ValueError(f"the {what} tower takes a token bag; none given")
        tokens = torch.from_numpy(np.ascontiguousarray(features.tokens, dtype=np.int64))
    return Features(dense=dense, tokens=tokens)


def _optimizers(model, config):
    """SparseAdam for the embedding tables (Adam restricted to the rows a batch touched), Adam for the rest."""
    sparse = [m.weight for m in model.modules() if isinstance(m, (nn.Embedding, nn.EmbeddingBag))]
    ids = {id(p) for p in sparse}
    dense = [p for p in model.parameters() if id(p) not in ids]
    out = [torch.optim.SparseAdam(sparse, lr=config.lr)] if sparse else []
    if dense:
        out.append(torch.optim.Adam(dense, lr=config.lr, weight_decay=config.weight_decay))
    return out


def train(model, user_idx, item_idx, config: TrainConfig, user_features=None, item_features=None, log=print):
    """Trains on interactions (user_idx[i], item_idx[i]) with Adam and the logQ-corrected in-batch softmax.
    Returns the mean training loss of each epoch. The shuffling is seeded here; the initial weights are
    drawn when the model is built, so call seed_everything before building it for a repeatable run."""
    seed_everything(config.seed, config.threads)
    users = torch.from_numpy(np.asarray(user_idx, dtype=np.int64))
    items = torch.from_numpy(np.asarray(item_idx, dtype=np.int64))
    if users.shape != items.shape or users.ndim != 1:
        shapes = f"{tuple(users.shape)} and {tuple(items.shape)}"
        raise ValueError(f"user_idx and item_idx must be 1-d of one length, got {shapes}")
    num_items = model.item.config.num_ids or int(items.max()) + 1
    log_q = item_log_q(items.numpy(), num_items) if config.logq else torch.zeros(num_items)
    uf = _as_tensors(user_features, model.user, "user")
    itf = _as_tensors(item_features, model.item, "item")
    optimizers = _optimizers(model, config)
    shuffler = torch.Generator().manual_seed(config.seed)
    rows = users.shape[0]
    history = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        started = time.time()
        order = torch.randperm(rows, generator=shuffler)
        total, batches = 0.0, 0
        for start in range(0, rows, config.batch_size):
            idx = order[start : start + config.batch_size]
            if idx.numel() < 2:
                continue  # one row has no in-batch negative
            u, i = users[idx], items[idx]
            loss = sampled_softmax_loss(
                model.user(**_inputs(model.user, u, uf)),
                model.item(**_inputs(model.item, i, itf)),
                i,
                log_q,
                config.temperature,
            )
            for optimizer in optimizers:
                optimizer.zero_grad()
            loss.backward()
            for optimizer in optimizers:
                optimizer.step()
            total += float(loss)
            batches += 1
        history.append(total / max(batches, 1))
        if config.log_every_epoch and log is not None:
            log(f"two-tower epoch {epoch}/{config.epochs}: loss {history[-1]:.4f} ({time.time() - started:.1f} s)")
    return history


def embed(tower, count, features=None, batch=65536):
    """The unit vectors of entities 0..count-1 as a float32 numpy array [count, out_dim]."""
    tower.eval()
    feats = _as_tensors(features, tower, "this")
    chunks = []
    with torch.no_grad():
        for start in range(0, count, batch):
            idx = torch.arange(start, min(start + batch, count))
            chunks.append(tower(**_inputs(tower, idx, feats)).numpy())
    return np.concatenate(chunks) if chunks else np.zeros((0, tower.config.out_dim), dtype=np.float32)


def example_inputs(tower, batch=2, bag=3):
    """Zero inputs of the shapes `tower` takes (ids, dense, tokens as present), for export and checks."""
    out = []
    if tower.ids is not None:
        out.append(torch.zeros(batch, dtype=torch.int64))
    if tower.config.dense_dim:
        out.append(torch.zeros(batch, tower.config.dense_dim))
    if tower.tokens is not None:
        out.append(torch.zeros(batch, bag, dtype=torch.int64))
    return tuple(out)


class _Positional(nn.Module):
    """A tower called with its present inputs in order (ids, dense, tokens), as ONNX feeds them."""

    def __init__(self, tower):
        super().__init__()
        self.tower = tower

    def forward(self, *inputs):
        return self.tower(**dict(zip(self.tower.input_names(), inputs)))


def export_tower_onnx(tower, path):
    """Writes one tower as ONNX: inputs `ids` [N] int64, `dense` [N, D] float32 and `tokens` [N, L] int64
    (those the tower has; 0 pads a bag), output `embedding` [N, out_dim], unit rows. N and L are dynamic.
    Returns the input names."""
    tower.eval()
    names = tower.input_names()
    dynamic = {"ids": {0: "N"}, "dense": {0: "N"}, "tokens": {0: "N", 1: "L"}, "embedding": {0: "N"}}
    torch.onnx.export(
        _Positional(tower),
        example_inputs(tower),
        path,
        input_names=names,
        output_names=["embedding"],
        dynamic_axes={name: dynamic[name] for name in names + ["embedding"]},
        opset_version=ONNX_OPSET,
        do_constant_folding=True,
    )
    return names
