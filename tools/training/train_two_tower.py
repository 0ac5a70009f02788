#!/usr/bin/python3
"""Trains the two-tower retrieval model on the funnel's logs and exports both towers to ONNX with a manifest.

Reads a retrieval export (node tools/training/dist/export-retrieval.js: meta.json with the two-tower input
spec, ads.jsonl, served.jsonl in time order), encodes it with two_tower_inputs.py (the encoding serving does
in libs/features), trains two_tower.TwoTower on the clicked served ads with the logQ-corrected in-batch
softmax, evaluates recall@K on the last part of the log in time (held out) against the most popular ads and
against the heuristic retrieval served without a model (the mean visual embedding of the user's recent ads,
popular ads for a user without any), and writes <out-root>/<version>/{user_tower.onnx, ad_tower.onnx,
manifest.json, parity.json}, then points <out-root>/current at it.
Run with Debian's python: /usr/bin/python3 tools/training/train_two_tower.py --help
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import two_tower  # noqa: E402
from two_tower_inputs import Encoder  # noqa: E402

DATASET_FORMAT = "adfunnel-retrieval-log"
MANIFEST_KIND = "two-tower"
RECALL_KS = (10, 50, 100, 200)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="directory written by export-retrieval")
    p.add_argument("--out-root", default="models/retrieval", help="where version directories are written")
    p.add_argument("--name", default="retrieval", help="model name recorded in the manifest")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--temperature", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.0, help="Adam weight decay (L2) on every parameter")
    p.add_argument("--dim", type=int, default=32, help="embedding width of both towers (the index's dim)")
    p.add_argument("--hidden", default="128", help="hidden layer widths of each tower, comma separated")
    p.add_argument("--token-dim", type=int, default=32, help="width of the shared id/token table of each tower")
    p.add_argument("--conversion-weight", type=int, default=1, help="extra copies of a converted click")
    p.add_argument("--validation-fraction", type=float, default=0.2, help="the latest share of clicks held out")
    p.add_argument("--no-logq", action="store_true", help="train without the logQ correction (for comparison)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--parity-rows", type=int, default=4, help="rows of each tower stored for the ONNX parity test")
    p.add_argument("--min-clicks", type=int, default=20, help="refuse to train on fewer training clicks")
    p.add_argument("--no-current", action="store_true", help="do not point <out-root>/current at the new version")
    p.add_argument("--description", default=None, help="free text recorded in the manifest")
    return p.parse_args(argv)


TOO_FEW_CLICKS = 3  # exit status when the log holds too few clicks: train.sh skips the model then


def fail(message, status=2):
    print(f"train_two_tower: {message}", file=sys.stderr)
    sys.exit(status)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load(data_dir):
    meta_path = os.path.join(data_dir, "meta.json")
    if not os.path.isfile(meta_path):
        fail(f"{meta_path} not found; export logs with node tools/training/dist/export-retrieval.js --out {data_dir}")
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("format") != DATASET_FORMAT or meta.get("formatVersion") != 1:
        fail(f"{meta_path} is not an {DATASET_FORMAT} v1 export")
    ads = read_jsonl(os.path.join(data_dir, meta["files"]["ads"]))
    served = read_jsonl(os.path.join(data_dir, meta["files"]["served"]))
    return meta, ads, served


def positives(served, conversion_weight):
    """Clicked served ads in time order; a converted click counts 1 + conversion_weight times."""
    rows = [r for r in served if r["click"] == 1]
    rows.sort(key=lambda r: (r["servedAt"], r["requestId"], r["slot"]))
    out = []
    for r in rows:
        out.append(r)
        if r["conversion"] == 1:
            out.extend([r] * conversion_weight)
    return out


def recall_at(user_vecs, ad_vecs, targets, ks, chunk=2048):
    """Share of held-out clicks whose ad is among the top k of the user's scores over all ads."""
    ranks = np.empty(len(targets), dtype=np.int64)
    for start in range(0, len(targets), chunk):
        scores = user_vecs[start : start + chunk] @ ad_vecs.T
        own = scores[np.arange(scores.shape[0]), targets[start : start + chunk]]
        ranks[start : start + chunk] = (scores > own[:, None]).sum(axis=1)
    return {str(k): float(np.mean(ranks < k)) if len(ranks) else None for k in ks}


def popular_recall(train_targets, val_targets, num_ads, ks):
    counts = np.bincount(train_targets, minlength=num_ads).astype(np.float64)
    # Ties (ads never clicked) broken by position: rank = ads with strictly more clicks.
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(num_ads, dtype=np.int64)
    rank[order] = np.arange(num_ads)
    ranks = rank[val_targets]
    return {str(k): float(np.mean(ranks < k)) if len(ranks) else None for k in ks}


def heuristic_recall(user_dense, history_at, ad_dense, embedding_at, dim, train_targets, val_targets, ks):
    """The retrieval served without a model: cosine of the recent ads' mean embedding, popular without one."""
    history = user_dense[:, history_at : history_at + dim]
    ad_vecs = ad_dense[:, embedding_at : embedding_at + dim]
    pop = np.bincount(train_targets, minlength=ad_dense.shape[0]).astype(np.float64)
    pop_rank = np.empty(len(pop), dtype=np.int64)
    pop_rank[np.argsort(-pop, kind="stable")] = np.arange(len(pop))
    ranks = np.empty(len(val_targets), dtype=np.int64)
    for i, target in enumerate(val_targets):
        if np.any(history[i] != 0):
            scores = ad_vecs @ history[i]
            ranks[i] = int((scores > scores[target]).sum())
        else:
            ranks[i] = pop_rank[target]
    return {str(k): float(np.mean(ranks < k)) if len(ranks) else None for k in ks}


def weights_digest(model):
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().astype("<f4").tobytes())
    return digest.hexdigest()


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, allow_nan=False)
        f.write("\n")


def tower_inputs_spec(tower_spec):
    return [
        {"name": "dense", "dtype": "float32", "shape": ["N", tower_spec["denseDim"]]},
        {"name": "tokens", "dtype": "int64", "shape": ["N", tower_spec["tokenLength"]]},
    ]


def embed_rows(tower, dense, tokens):
    tower.eval()
    with torch.no_grad():
        return tower(dense=torch.from_numpy(dense), tokens=torch.from_numpy(tokens)).numpy()


def main(argv):
    args = parse_args(argv)
    hidden = tuple(int(h) for h in args.hidden.split(",") if h.strip())
    if not hidden or min(hidden) < 1:
        fail(f"--hidden must list positive widths, got {args.hidden!r}")
    if not 0 < args.validation_fraction < 1:
        fail(f"--validation-fraction must be within (0, 1), got {args.validation_fraction}")
    meta, ads, served = load(args.data)
    spec = meta["twoTowerSpec"]
    encoder = Encoder(spec)
    if not ads:
        fail(f"{args.data} holds no catalog ads")
    ad_row = {ad["id"]: i for i, ad in enumerate(ads)}
    catalog = {ad["id"]: ad for ad in ads}

    clicks = [r for r in positives(served, args.conversion_weight) if r["adId"] in ad_row]
    split = int(round(len(clicks) * (1 - args.validation_fraction)))
    train_rows, val_rows = clicks[:split], clicks[split:]
    with_activity = sum(1 for r in served if r.get("activity") is not None)
    print(
        f"{len(served)} served ads ({with_activity} with logged activity), {len(clicks)} clicks (with conversion "
        f"copies) on {len(ads)} catalog ads: train {len(train_rows)}, held out (latest) {len(val_rows)}; "
        f"input spec {spec['name']} v{spec['version']} fp={spec['fingerprint']}",
        flush=True,
    )
    if len(train_rows) < args.min_clicks or not val_rows:
        fail(
            f"{len(train_rows)} training clicks and {len(val_rows)} held out: too few to train (--min-clicks)",
            TOO_FEW_CLICKS,
        )

    ad_tokens, ad_dense = encoder.ads(ads)
    train_tokens, train_dense = encoder.requests(train_rows, catalog)
    val_tokens, val_dense = encoder.requests(val_rows, catalog)
    train_targets = np.array([ad_row[r["adId"]] for r in train_rows], dtype=np.int64)
    val_targets = np.array([ad_row[r["adId"]] for r in val_rows], dtype=np.int64)

    user_cfg = two_tower.TowerConfig(
        num_ids=0,
        dense_dim=encoder.user.dense_dim,
        token_buckets=encoder.user.token_buckets,
        token_dim=args.token_dim,
        hidden=hidden,
        out_dim=args.dim,
    )
    ad_cfg = two_tower.TowerConfig(
        num_ids=0,
        dense_dim=encoder.ad.dense_dim,
        token_buckets=encoder.ad.token_buckets,
        token_dim=args.token_dim,
        hidden=hidden,
        out_dim=args.dim,
    )
    two_tower.seed_everything(args.seed, args.threads)
    model = two_tower.TwoTower(user_cfg, ad_cfg)
    config = two_tower.TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        temperature=args.temperature,
        logq=not args.no_logq,
        seed=args.seed,
        threads=args.threads,
    )
    started = time.time()
    history = two_tower.train(
        model,
        np.arange(len(train_rows), dtype=np.int64),
        train_targets,
        config,
        user_features=two_tower.Features(dense=train_dense, tokens=train_tokens),
        item_features=two_tower.Features(dense=ad_dense, tokens=ad_tokens),
        log=lambda line: print(line, flush=True),
    )
    train_seconds = time.time() - started

    ad_vecs = embed_rows(model.item, ad_dense, ad_tokens)
    val_vecs = embed_rows(model.user, val_dense, val_tokens)
    dim_emb = len(ads[0]["embedding"])
    metrics = {
        "heldOutClicks": len(val_rows),
        "candidates": len(ads),
        "recallAtK": {
            "model": recall_at(val_vecs, ad_vecs, val_targets, RECALL_KS),
            "popular": popular_recall(train_targets, val_targets, len(ads), RECALL_KS),
            "heuristic": heuristic_recall(
                val_dense,
                encoder.user.dense["user.history_embedding"],
                ad_dense,
                encoder.ad.dense["ad.embedding"],
                dim_emb,
                train_targets,
                val_targets,
                RECALL_KS,
            ),
        },
        "trainLoss": [round(v, 5) for v in history],
    }
    for name, values in metrics["recallAtK"].items():
        shown = ", ".join(f"@{k} {v:.3f}" for k, v in values.items() if v is not None)
        print(f"held-out recall {name}: {shown}", flush=True)

    now = dt.datetime.now(dt.timezone.utc)
    version = f"{now:%Y%m%d}-{weights_digest(model)[:8]}"
    out_dir = os.path.join(args.out_root, version)
    os.makedirs(out_dir, exist_ok=True)
    two_tower.export_tower_onnx(model.user, os.path.join(out_dir, "user_tower.onnx"))
    two_tower.export_tower_onnx(model.item, os.path.join(out_dir, "ad_tower.onnx"))

    n = min(args.parity_rows, len(val_rows))
    write_json(
        os.path.join(out_dir, "parity.json"),
        {
            "description": "tower inputs and the unit vectors torch gives them; the ONNX towers must agree",
            "user": {
                "rows": n,
                "dense": val_dense[:n].tolist(),
                "tokens": val_tokens[:n].tolist(),
                "embedding": val_vecs[:n].tolist(),
            },
            "ad": {
                "rows": min(n, len(ads)),
                "dense": ad_dense[:n].tolist(),
                "tokens": ad_tokens[:n].tolist(),
                "embedding": ad_vecs[:n].tolist(),
            },
        },
    )
    parameters = sum(p.numel() for p in model.parameters())
    output = {"name": "embedding", "dtype": "float32", "shape": ["N", args.dim], "description": "unit vector"}
    manifest = {
        "name": args.name,
        "version": version,
        "kind": MANIFEST_KIND,
        "createdAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "inputSpec": {
            "name": spec["name"],
            "version": spec["version"],
            "fingerprint": spec["fingerprint"],
        },
        "dim": args.dim,
        "towers": {
            "user": {"file": "user_tower.onnx", "inputs": tower_inputs_spec(spec["user"]), "output": output},
            "ad": {"file": "ad_tower.onnx", "inputs": tower_inputs_spec(spec["ad"]), "output": output},
        },
        **({"description": args.description} if args.description else {}),
        "metrics": metrics,
        "trainingData": {
            "served": len(served),
            "withActivity": with_activity,
            "clicks": len(clicks),
            "trainClicks": len(train_rows),
            "ads": len(ads),
            "split": f"time: the latest {args.validation_fraction:g} of clicks held out",
            "heldOutFrom": val_rows[0]["servedAt"],
            "source": meta.get("source"),
        },
        "training": {
            "architecture": f"two towers: shared id/token table (mean) ++ dense -> mlp {list(hidden)} -> {args.dim}, unit",
            "parameters": int(parameters),
            "epochs": args.epochs,
            "batchSize": args.batch_size,
            "lr": args.lr,
            "weightDecay": args.weight_decay,
            "temperature": args.temperature,
            "logq": not args.no_logq,
            "conversionWeight": args.conversion_weight,
            "seed": args.seed,
            "seconds": round(train_seconds, 1),
            "torch": torch.__version__,
            "onnxOpset": two_tower.ONNX_OPSET,
        },
    }
    write_json(os.path.join(out_dir, "manifest.json"), manifest)
    if not args.no_current:
        pointer = os.path.join(args.out_root, "current")
        with open(pointer + ".tmp", "w", encoding="utf-8") as f:
            f.write(version + "\n")
        os.replace(pointer + ".tmp", pointer)
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    print(f"wrote {args.name}@{version} to {out_dir} ({size / 1024:.1f} KiB, {parameters} parameters)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
