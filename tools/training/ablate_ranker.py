#!/usr/bin/python3
"""Lift of each feature modality of the ranking model, by ablation.

Trains the ranker once with every feature group and once per modality with that modality's groups
zeroed (in training and in validation), on the same data, seed and settings, and prints, per head,
AUC and the logloss gap to the Bayes floor (the simulator's true probabilities; n/a for exported
logs, which have none) for each variant, and the change against the full model. Nothing is written
to models/. Run with Debian's python:

  /usr/bin/python3 tools/training/ablate_ranker.py --data tools/training/.data [--epochs 4] [--json]

The modalities are named in MODALITIES below, by feature group (libs/features FEATURE_SPEC).
"""

import argparse
import contextlib
import json
import sys

import train_ranker as tr

MODALITIES = {
    "activity": [
        "user.known",
        "user.activity",
        "cross.category_exposure",
        "cross.engaged",
        "cross.recent_cosine",
    ],
    # cross.interest_match is the affinity over the mixture decoded from the embedding: both reveal it.
    "affinity": ["user.affinity", "cross.category_affinity", "cross.interest_match"],
    "visual": [
        "ad.embedding",
        "ad.category_mixture",
        "cross.recent_cosine",
        "cross.interest_match",
        "cross.context",
    ],
    "category": ["ad.category"],
    "category mixture": ["ad.category_mixture", "cross.interest_match"],
    "query text": ["cross.query_match"],
    "context item": ["cross.context"],
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="tools/training/.data", help="directory holding train/ and validation/")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--hidden", default="128,64")
    p.add_argument("--head", type=int, default=32)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", default=None, help="comma-separated modalities to ablate (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    return p.parse_args(argv)


def zeroed(features, groups, names):
    """A copy of the features with the named groups' columns set to 0."""
    out = features.copy()
    for name in names:
        group = groups.get(name)
        if group is None:
            tr.fail(f"feature group {name!r} is not in the dataset's spec (groups: {', '.join(sorted(groups))})")
        out[:, group["offset"] : group["offset"] + group["dim"]] = 0
    return out


def run(args, train, val, names):
    meta, train_x, train_y, train_ctx = train
    _, val_x, val_y, val_ctx = val
    groups = {g["name"]: g for g in meta["featureGroups"]}
    tr.seed_everything(args.seed, args.threads)
    x_train, x_val = zeroed(train_x, groups, names), zeroed(val_x, groups, names)
    position = None
    if train_ctx is not None and val_ctx is not None:
        slots = int(max(train_ctx[:, 0].max(), val_ctx[:, 0].max())) + 1
        position = tr.PositionBias(len(meta["columns"]["context"]["surfaces"]), slots)
    has_hide = bool(meta["hasHide"])
    model = tr.Ranker(x_train.shape[1], [int(h) for h in args.hidden.split(",")], args.head, hide=has_hide)
    args.cvr_weight, args.hide_weight = 1.0, 1.0
    with contextlib.redirect_stdout(sys.stderr):  # the epoch log; stdout carries the table or the JSON
        tr.train(model, x_train, train_y, args, train_ctx if position else None, position)
    return tr.evaluate(model, x_val, val_y, val_ctx if position else None, position)


def summary(metrics):
    out = {}
    for head, m in metrics.items():
        gap = None if m["bayesLogloss"] is None else m["logloss"] - m["bayesLogloss"]
        out[head] = {"auc": m["auc"], "logloss": m["logloss"], "gapToBayes": gap, "bayesAuc": m["bayesAuc"]}
    return out


def main(argv):
    args = parse_args(argv)
    train = tr.load_split(args.data, "train")
    val = tr.load_split(args.data, "validation")
    wanted = list(MODALITIES) if args.only is None else [m.strip() for m in args.only.split(",") if m.strip()]
    for name in wanted:
        if name not in MODALITIES:
            tr.fail(f"unknown modality {name!r}; known: {', '.join(MODALITIES)}")
    results = {"all features": summary(run(args, train, val, []))}
    for name in wanted:
        print(f"ablating {name}: {', '.join(MODALITIES[name])}", file=sys.stderr, flush=True)
        results[f"without {name}"] = summary(run(args, train, val, MODALITIES[name]))
    if args.json:
        print(json.dumps({"data": args.data, "rows": int(train[1].shape[0]), "variants": results}, indent=2))
        return
    full = results["all features"]
    fmt = lambda v, spec: "n/a" if v is None else format(v, spec)  # noqa: E731
    print(f"{'variant':<24} {'head':<5} {'auc':>7} {'Δauc':>8} {'gap to bayes':>13} {'Δgap':>9}")
    for variant, heads in results.items():
        for head, m in heads.items():
            base = full[head]
            d_auc = m["auc"] - base["auc"]
            d_gap = None if m["gapToBayes"] is None else m["gapToBayes"] - base["gapToBayes"]
            print(
                f"{variant:<24} {head:<5} {m['auc']:>7.4f} {d_auc:>+8.4f} "
                f"{fmt(m['gapToBayes'], '.5f'):>13} {fmt(d_gap, '+.5f'):>9}"
            )
    print(f"(bayes AUC: " + ", ".join(f"{h} {fmt(m['bayesAuc'], '.4f')}" for h, m in full.items()) + ")")


if __name__ == "__main__":
    main(sys.argv[1:])
