#!/usr/bin/python3
"""Trains the retrieval models that `npm run retrieval-eval` compares and ranks every item for each user.

Reads a work directory written by tools/retrieval-eval (the CLI parses and validates the interaction
files, maps ids to dense indices and writes them here), trains

  two-tower  tools/training/two_tower.py, ids only (the interaction files have no features), in-batch
             sampled softmax with logQ correction;
  bpr        matrix factorisation with the BPR loss (Rendle et al., UAI 2009): one uniformly drawn item
             the user has not interacted with as the negative of each interaction;
  popular    most popular: an item's score is its number of training users, the same for everyone;

and writes, per model, the user and item vectors (float32, row-major, little-endian) and, for every
evaluated user, the indices of the top-K items by dot product over all items, the user's training
items excluded (full ranking; int32, row-major). The CLI computes Recall@K and NDCG@K from those lists
and searches the two-tower's item vectors with HNSW.

Work directory (format adfunnel-retrieval-eval, version 1):
  input.json       {"format", "formatVersion", "users", "items", "trainRows", "evalUsers", "topK"}
  train.i32        trainRows x 2 int32 (user, item), distinct pairs
  eval-users.i32   evalUsers int32 user indices to rank for
  output.json      written here: {"models": [{"name", "dim", "users", "items", "top", "seconds", ...}]}
  <model>.users.f32, <model>.items.f32, <model>.top.i32

Run with Debian's python: /usr/bin/python3 tools/training/retrieval_eval.py --help
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_tower  # noqa: E402

WORK_FORMAT = "adfunnel-retrieval-eval"
MODELS = ("two-tower", "bpr", "popular")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", required=True, help="work directory written by tools/retrieval-eval")
    p.add_argument("--models", default=",".join(MODELS), help=f"comma separated, of {', '.join(MODELS)}")
    p.add_argument("--dim", type=int, default=64, help="embedding dimension of the two-tower and BPR")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=1, help="torch threads (more rarely help these small batches)")
    p.add_argument("--batch-size", type=int, default=256, help="two-tower batch: also its number of negatives")
    p.add_argument("--epochs", type=int, default=None, help="two-tower epochs (default: 15, fewer above 80k rows)")
    p.add_argument("--lr", type=float, default=3e-3, help="two-tower Adam learning rate")
    p.add_argument("--temperature", type=float, default=0.2, help="two-tower softmax temperature")
    p.add_argument("--no-logq", action="store_true", help="two-tower without the logQ correction")
    p.add_argument("--hidden", default="", help="two-tower MLP widths after the id embedding, comma separated")
    p.add_argument("--bpr-epochs", type=int, default=None, help="default: 60, fewer above 80k rows")
    p.add_argument("--bpr-lr", type=float, default=3e-3)
    p.add_argument("--bpr-batch-size", type=int, default=1024)
    p.add_argument("--bpr-reg", type=float, default=1e-3, help="L2 weight on the embeddings of each triple")
    p.add_argument("--rank-chunk", type=int, default=512, help="users scored per matrix product when ranking")
    return p.parse_args(argv)


def default_epochs(rows, most, least):
    """`most` epochs up to 80k interactions (MovieLens-100k's training split: about a minute on two
    cores), then as many as keep the number of passes x rows near 80k x most, but at least `least`:
    a larger file needs fewer passes, and 1M interactions must train in minutes."""
    return max(least, min(most, round(most * 80_000 / max(rows, 1))))


def fail(message):
    print(f"retrieval_eval: {message}", file=sys.stderr)
    sys.exit(2)


def log(message):
    print(message, file=sys.stderr, flush=True)


def read_int32(path, count, width=1):
    values = np.fromfile(path, dtype="<i4")
    if values.size != count * width:
        fail(f"{path} holds {values.size} int32 values, expected {count} x {width}")
    return values.reshape(count, width) if width > 1 else values


def load(directory):
    path = os.path.join(directory, "input.json")
    if not os.path.isfile(path):
        fail(f"{path} not found: the work directory is written by npm run retrieval-eval")
    with open(path, encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("format") != WORK_FORMAT or meta.get("formatVersion") != 1:
        fail(f"{path} is not a {WORK_FORMAT} v1 work directory")
    train = read_int32(os.path.join(directory, "train.i32"), meta["trainRows"], 2).astype(np.int64)
    eval_users = read_int32(os.path.join(directory, "eval-users.i32"), meta["evalUsers"]).astype(np.int64)
    users, items = meta["users"], meta["items"]
    if train.size and (train[:, 0].min() < 0 or train[:, 0].max() >= users or train[:, 1].min() < 0 or train[:, 1].max() >= items):
        fail(f"train.i32 has indices outside {users} users x {items} items")
    return meta, train, eval_users


class TrainSets:
    """Each user's training items as CSR (sorted), and a sorted key array for membership tests."""

    def __init__(self, train, users, items):
        order = np.lexsort((train[:, 1], train[:, 0]))
        self.users, self.items = train[order, 0], train[order, 1]
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(self.users, minlength=users))])
        self.keys = self.users * items + self.items
        self.num_items = items

    def contains(self, users, items):
        keys = users * self.num_items + items
        at = np.searchsorted(self.keys, keys)
        at[at == self.keys.size] = 0
        return self.keys[at] == keys if self.keys.size else np.zeros(keys.shape, dtype=bool)


def train_two_tower(train, users, items, args):
    hidden = tuple(int(h) for h in args.hidden.split(",") if h.strip())
    # Seeded before the towers are built: their initial weights come from torch's global generator.
    two_tower.seed_everything(args.seed, args.threads)
    model = two_tower.TwoTower(
        two_tower.TowerConfig(num_ids=users, id_dim=args.dim, hidden=hidden, out_dim=args.dim),
        two_tower.TowerConfig(num_ids=items, id_dim=args.dim, hidden=hidden, out_dim=args.dim),
    )
    config = two_tower.TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        temperature=args.temperature,
        logq=not args.no_logq,
        seed=args.seed,
        threads=args.threads,
    )
    history = two_tower.train(model, train[:, 0], train[:, 1], config, log=log)
    details = {
        "epochs": args.epochs,
        "batchSize": args.batch_size,
        "lr": args.lr,
        "temperature": args.temperature,
        "logQ": not args.no_logq,
        "hidden": list(hidden),
        "finalLoss": history[-1] if history else None,
    }
    return two_tower.embed(model.user, users), two_tower.embed(model.item, items), details


def sample_negatives(sets, users, generator, items):
    """One item per row drawn uniformly from those the row's user has not interacted with: the rows that
    hit a training item are redrawn, fewer each round (a user who has every item keeps its last draw)."""
    neg = torch.randint(items, users.shape, generator=generator).numpy()
    for _ in range(1000):
        hit = sets.contains(users, neg)
        if not hit.any():
            break
        neg[hit] = torch.randint(items, (int(hit.sum()),), generator=generator).numpy()
    return neg


def train_bpr(train, users, items, sets, args):
    """BPR-MF: x_ui = <p_u, q_i> + b_i, loss -log sigmoid(x_ui - x_uj) + reg (|p_u|^2 + |q_i|^2 + |q_j|^2)."""
    two_tower.seed_everything(args.seed, args.threads)
    # Sparse tables and SparseAdam, as the two-tower: a batch touches a small share of the rows.
    p, q = torch.nn.Embedding(users, args.dim, sparse=True), torch.nn.Embedding(items, args.dim, sparse=True)
    b = torch.nn.Embedding(items, 1, sparse=True)
    torch.nn.init.normal_(p.weight, std=0.1)
    torch.nn.init.normal_(q.weight, std=0.1)
    torch.nn.init.zeros_(b.weight)
    optimizer = torch.optim.SparseAdam([p.weight, q.weight, b.weight], lr=args.bpr_lr)
    generator = torch.Generator().manual_seed(args.seed + 1)
    u_all, i_all = torch.from_numpy(train[:, 0]), torch.from_numpy(train[:, 1])
    rows = train.shape[0]
    loss_value = None
    for epoch in range(1, args.bpr_epochs + 1):
        started = time.time()
        neg_all = torch.from_numpy(sample_negatives(sets, train[:, 0], generator, items))
        order = torch.randperm(rows, generator=generator)
        total, batches = 0.0, 0
        for start in range(0, rows, args.bpr_batch_size):
            idx = order[start : start + args.bpr_batch_size]
            u, i, j = u_all[idx], i_all[idx], neg_all[idx]
            pu, qi, qj = p(u), q(i), q(j)
            diff = (pu * (qi - qj)).sum(1) + (b(i) - b(j)).squeeze(1)
            reg = (pu.pow(2).sum(1) + qi.pow(2).sum(1) + qj.pow(2).sum(1)).mean()
            loss = -F.logsigmoid(diff).mean() + args.bpr_reg * reg
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss)
            batches += 1
        loss_value = total / max(batches, 1)
        log(f"bpr epoch {epoch}/{args.bpr_epochs}: loss {loss_value:.4f} ({time.time() - started:.1f} s)")
    with torch.no_grad():
        # The item bias rides along as one more dimension: user 1, item b_i, so ranking stays a dot product.
        user_vecs = torch.cat([p.weight, torch.ones(users, 1)], dim=1).numpy()
        item_vecs = torch.cat([q.weight, b.weight], dim=1).numpy()
    details = {
        "epochs": args.bpr_epochs,
        "batchSize": args.bpr_batch_size,
        "lr": args.bpr_lr,
        "reg": args.bpr_reg,
        "finalLoss": loss_value,
    }
    return user_vecs, item_vecs, details


def train_popular(train, users, items):
    counts = np.bincount(train[:, 1], minlength=items).astype(np.float32)
    return np.ones((users, 1), dtype=np.float32), counts.reshape(items, 1), {}


def top_k(user_vecs, item_vecs, eval_users, sets, k, chunk):
    """Indices of the k best items by dot product for each evaluated user, training items excluded, best
    first, -1 past the user's last item; ties go to the lower item index (a stable order for most-popular)."""
    items = torch.from_numpy(np.ascontiguousarray(item_vecs))
    # Ties are broken by a tiny index penalty far below any score gap that matters in float32.
    k = min(k, item_vecs.shape[0])
    out = np.zeros((eval_users.size, k), dtype=np.int32)
    order = torch.arange(item_vecs.shape[0], dtype=torch.float64)
    for start in range(0, eval_users.size, chunk):
        batch = eval_users[start : start + chunk]
        scores = (torch.from_numpy(np.ascontiguousarray(user_vecs[batch])) @ items.T).to(torch.float64)
        for row, user in enumerate(batch):
            seen = sets.items[sets.indptr[user] : sets.indptr[user + 1]]
            scores[row, torch.from_numpy(seen)] = float("-inf")
        # Stable tie-break: sort by (score desc, index asc) through a lexicographic key.
        scores = scores - order.unsqueeze(0) * 1e-12
        best = torch.topk(scores, k, dim=1)
        # A user with fewer than k items left gets -1 after them, never one of its train items.
        best.indices[torch.isinf(best.values)] = -1
        out[start : start + batch.size] = best.indices.numpy().astype(np.int32)
    return out


def write(directory, name, array):
    path = os.path.join(directory, name)
    np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tofile(path)
    return name


def main(argv):
    args = parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        fail(f"--models must list some of {', '.join(MODELS)}, got {args.models!r}")
    meta, train, eval_users = load(args.dir)
    if args.epochs is None:
        args.epochs = default_epochs(train.shape[0], 15, 3)
    if args.bpr_epochs is None:
        args.bpr_epochs = default_epochs(train.shape[0], 60, 8)
    if args.dim < 1 or args.epochs < 1 or args.bpr_epochs < 1 or args.batch_size < 2:
        fail("--dim, --epochs and --bpr-epochs must be positive and --batch-size at least 2")
    users, items = meta["users"], meta["items"]
    sets = TrainSets(train, users, items)
    log(f"{train.shape[0]} training interactions, {users} users x {items} items, ranking for {eval_users.size} users")
    results = []
    for name in models:
        started = time.time()
        if name == "two-tower":
            user_vecs, item_vecs, details = train_two_tower(train, users, items, args)
        elif name == "bpr":
            user_vecs, item_vecs, details = train_bpr(train, users, items, sets, args)
        else:
            user_vecs, item_vecs, details = train_popular(train, users, items)
        trained = time.time() - started
        top = top_k(user_vecs, item_vecs, eval_users, sets, meta["topK"], args.rank_chunk)
        ranked = time.time() - started - trained
        log(f"{name}: trained in {trained:.1f} s, ranked {items} items for {eval_users.size} users in {ranked:.1f} s")
        results.append(
            {
                "name": name,
                "dim": int(user_vecs.shape[1]),
                "users": write(args.dir, f"{name}.users.f32", user_vecs.astype(np.float32)),
                "items": write(args.dir, f"{name}.items.f32", item_vecs.astype(np.float32)),
                "top": write(args.dir, f"{name}.top.i32", top),
                "topK": int(top.shape[1]),
                "trainSeconds": round(trained, 2),
                "rankSeconds": round(ranked, 2),
                "training": details,
            }
        )
    with open(os.path.join(args.dir, "output.json"), "w", encoding="utf-8") as f:
        json.dump({"format": WORK_FORMAT, "formatVersion": 1, "torch": torch.__version__, "seed": args.seed, "models": results}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
