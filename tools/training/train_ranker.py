#!/usr/bin/python3
"""Trains the ranking model (multi-task MLP: pCTR, pCVR and pHide) and exports ONNX plus a manifest.

Reads the datasets written by generate-clicks (format: tools/training/README.md) with numpy only,
trains with PyTorch on the CPU, evaluates on the validation split against the simulator's true
probabilities, and writes <out-root>/<version>/{model.onnx, manifest.json, parity.json, model.pt}.
model.pt holds the PyTorch weights, so that a later training can start from them (--init-from).
Run with Debian's python: /usr/bin/python3 tools/training/train_ranker.py --help
"""

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
from torch import nn

DATASET_FORMAT = "adfunnel-ranking-clicks"
LABEL_COLUMNS = ["click", "conversion", "true_ctr", "true_cvr", "hidden", "true_hide"]
# Datasets written before hides were logged: no hide label, and a model without a hide head.
LEGACY_LABEL_COLUMNS = LABEL_COLUMNS[:4]
ONNX_OPSET = 17  # the newest torch 1.13 exports; onnxruntime 1.30 runs up to 23
EPS = 1e-7
STATE_FILE = "model.pt"
STATE_FORMAT = "adfunnel-ranker-state"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="tools/training/.data", help="directory holding train/ and validation/")
    p.add_argument("--out-root", default="models/ranking", help="where version directories are written")
    p.add_argument("--name", default="ranking", help="model name recorded in the manifest")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--hidden", default="128,64", help="trunk layer widths, comma separated")
    p.add_argument("--head", type=int, default=32, help="hidden width of each task head")
    p.add_argument("--cvr-weight", type=float, default=1.0, help="weight of the pCVR loss")
    p.add_argument("--hide-weight", type=float, default=1.0, help="weight of the pHide loss")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--parity-rows", type=int, default=8, help="validation rows stored for the ONNX parity test")
    p.add_argument("--no-current", action="store_true", help="do not point <out-root>/current at the new version")
    p.add_argument(
        "--pointer",
        default="current",
        help="pointer file in <out-root> to write the new version to (default current; e.g. cold-start)",
    )
    p.add_argument(
        "--position-bias",
        choices=["auto", "on", "off"],
        default="auto",
        help="learn P(examine | slot, surface) beside the model (PAL) from the context column of logged data; "
        "auto: on when the dataset has one",
    )
    p.add_argument("--description", default=None, help="free text recorded in the manifest (e.g. cold-start)")
    p.add_argument(
        "--init-from",
        default=None,
        metavar="DIR",
        help="a model version directory (<out-root>/<version>) whose model.pt the training starts from "
        "(fine-tuning, warm start) instead of random weights; its feature spec and architecture must be "
        "this training's. Fine-tuning usually wants a lower --lr and fewer --epochs",
    )
    return p.parse_args(argv)


def fail(message):
    print(f"train_ranker: {message}", file=sys.stderr)
    sys.exit(2)


def load_split(data_dir, split):
    directory = os.path.join(data_dir, split)
    meta_path = os.path.join(directory, "meta.json")
    if not os.path.isfile(meta_path):
        fail(f"{meta_path} not found; generate data with node tools/training/dist/generate-clicks.js")
    with open(meta_path, encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("format") != DATASET_FORMAT or meta.get("formatVersion") != 1:
        fail(f"{meta_path} is not a {DATASET_FORMAT} v1 dataset")
    rows, dim = meta["columns"]["features"]["shape"]
    names = meta["columns"]["labels"]["names"]
    if names not in (LABEL_COLUMNS, LEGACY_LABEL_COLUMNS):
        fail(f"{meta_path}: label columns {names}, expected {LABEL_COLUMNS} (or {LEGACY_LABEL_COLUMNS})")

    def read(column, width):
        path = os.path.join(directory, meta["columns"][column]["file"])
        values = np.fromfile(path, dtype="<f4")
        if values.size != rows * width:
            fail(f"{path} holds {values.size} float32 values, expected {rows} x {width}")
        return values.reshape(rows, width)

    features, labels = read("features", dim), read("labels", len(names))
    if names == LEGACY_LABEL_COLUMNS:
        labels = np.concatenate([labels, np.full((rows, 2), np.nan, dtype=np.float32)], axis=1)
    meta["hasHide"] = names == LABEL_COLUMNS
    context = None
    column = meta["columns"].get("context")
    if column is not None:
        path = os.path.join(directory, column["file"])
        values = np.fromfile(path, dtype="<i4")
        if values.size != rows * 2:
            fail(f"{path} holds {values.size} int32 values, expected {rows} x 2")
        context = values.reshape(rows, 2).astype(np.int64)
    return meta, features, labels, context


class Ranker(nn.Module):
    """Shared trunk, one head per task; returns logits (ctr, cvr, and hide when it has that head)."""

    def __init__(self, dim, hidden, head, hide=True):
        super().__init__()
        layers, width = [], dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.trunk = nn.Sequential(*layers)
        self.ctr = nn.Sequential(nn.Linear(width, head), nn.ReLU(), nn.Linear(head, 1))
        self.cvr = nn.Sequential(nn.Linear(width, head), nn.ReLU(), nn.Linear(head, 1))
        self.hide = nn.Sequential(nn.Linear(width, head), nn.ReLU(), nn.Linear(head, 1)) if hide else None

    def forward(self, x):
        h = self.trunk(x)
        logits = (self.ctr(h).squeeze(-1), self.cvr(h).squeeze(-1))
        return logits + (self.hide(h).squeeze(-1),) if self.hide is not None else logits


class Probabilities(nn.Module):
    """What serving runs: features [N, dim] -> p_ctr [N], p_cvr [N] and, with a hide head, p_hide [N].
    pCVR is P(conversion | click); pHide is P(hide | examined), the chance an examined ad is hidden
    (hides only happen to ads not clicked, so it is at most 1 - pCTR in the data)."""

    def __init__(self, ranker):
        super().__init__()
        self.ranker = ranker

    def forward(self, features):
        return tuple(torch.sigmoid(logit) for logit in self.ranker(features))


class PositionBias(nn.Module):
    """P(examine | slot, surface), learnt beside the model from logged clicks and left out of the export
    (PAL, Guo et al., RecSys 2019): P(click | shown) = P(examine | slot, surface) x P(click | examined).
    Slot 0 is taken as examined, which fixes the scale between the two factors."""

    def __init__(self, surfaces, slots):
        super().__init__()
        self.logit = nn.Parameter(torch.full((surfaces, slots), 1.0))

    def log_prob(self, context):
        slot, surface = context[:, 0], context[:, 1]
        lp = nn.functional.logsigmoid(self.logit[surface, slot])
        return torch.where(slot == 0, torch.zeros_like(lp), lp)

    def table(self, surface_names):
        with torch.no_grad():
            p = torch.sigmoid(self.logit).numpy()
        return {name: [1.0] + [round(float(v), 5) for v in p[i, 1:]] for i, name in enumerate(surface_names)}


def architecture_of(hidden, head, has_hide):
    """The manifest's training.architecture: --init-from compares it before loading any weight."""
    heads = "3 (ctr, cvr|click, hide)" if has_hide else "2 (ctr, cvr|click)"
    return f"mlp trunk {list(hidden)}, heads [{head}] x {heads}"


def save_state(path, model, position, surfaces, version):
    torch.save(
        {
            "format": STATE_FORMAT,
            "formatVersion": 1,
            "version": version,
            "ranker": model.state_dict(),
            "positionBias": (
                {"surfaces": list(surfaces), "state": position.state_dict()} if position is not None else None
            ),
        },
        path,
    )


class InitError(Exception):
    """Why a version directory cannot be the starting point of this training."""


def load_init(directory, spec, architecture):
    """(version, state) of the model in directory, after checking that it fits this training: its manifest
    has the same feature spec (fingerprint and dim) and architecture, and model.pt is there."""
    manifest_path = os.path.join(directory, "manifest.json")
    if not os.path.isfile(manifest_path):
        raise InitError(f"{manifest_path} not found: --init-from takes a model version directory")
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    version = manifest.get("version", os.path.basename(os.path.normpath(directory)))
    theirs = manifest.get("featureSpec", {})
    if theirs.get("fingerprint") != spec["fingerprint"] or theirs.get("dim") != spec["dim"]:
        raise InitError(
            f"ranking@{version} was trained on feature spec fp={theirs.get('fingerprint')} dim={theirs.get('dim')}, "
            f"this data has fp={spec['fingerprint']} dim={spec['dim']}: its weights read other features"
        )
    their_architecture = manifest.get("training", {}).get("architecture")
    if their_architecture != architecture:
        raise InitError(
            f"ranking@{version} is {their_architecture!r}, this training builds {architecture!r} "
            "(--hidden, --head, and whether the data has hide labels must match)"
        )
    path = os.path.join(directory, STATE_FILE)
    if not os.path.isfile(path):
        raise InitError(
            f"{path} not found: ranking@{version} has no PyTorch weights to start from "
            "(versions trained before model.pt was written: tools/training/state_dict_from_onnx.py recovers it)"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or state.get("formatVersion") != 1:
        raise InitError(f"{path} is not an {STATE_FORMAT} v1 file")
    if state.get("version") != version:
        raise InitError(f"{path} holds the weights of ranking@{state.get('version')}, its manifest says {version}")
    return version, state


def apply_init(model, position, surfaces, state):
    """Loads the weights into model (and the examination table into position when it is the same table);
    returns what was taken, for the log."""
    try:
        model.load_state_dict(state["ranker"])
    except RuntimeError as err:
        raise InitError(f"ranking@{state['version']}'s weights do not fit: {err}") from err
    if position is None:
        return "weights"
    theirs = state.get("positionBias")
    afresh = f"weights; the examination table is learnt afresh: ranking@{state['version']}"
    if theirs is None:
        return f"{afresh} has none"
    if theirs["surfaces"] != list(surfaces) or theirs["state"]["logit"].shape != position.logit.shape:
        return f"{afresh}'s has other slots or surfaces"
    position.load_state_dict(theirs["state"])
    return "weights and examination table"


def predict(model, features, batch=65536):
    """(p_ctr, p_cvr, p_hide) as numpy arrays; p_hide is None for a model without a hide head."""
    model.eval()
    heads = []
    with torch.no_grad():
        for start in range(0, features.shape[0], batch):
            heads.append([p.numpy() for p in Probabilities(model)(torch.from_numpy(features[start : start + batch]))])
    outputs = [np.concatenate([chunk[i] for chunk in heads]) for i in range(len(heads[0]))]
    return outputs[0], outputs[1], outputs[2] if len(outputs) > 2 else None


def auc(scores, labels):
    """ROC AUC by the rank-sum (Mann-Whitney) statistic, ties given their average rank."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels) > 0.5
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    _, inverse, counts = np.unique(scores[order], return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = (ends - counts + 1 + ends) / 2.0
    ranks = np.empty(scores.size, dtype=np.float64)
    ranks[order] = average_rank[inverse]
    return float((ranks[labels].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def logloss(p, y):
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def head_metrics(predicted, observed, true_p):
    rate = float(np.mean(observed))
    base = logloss(np.full(observed.shape, rate), observed)
    loss = logloss(predicted, observed)
    # Logged data has no true probabilities (NaN): no Bayes floor then.
    known = bool(np.all(np.isfinite(true_p))) and true_p.size > 0
    return {
        "rows": int(observed.size),
        "positives": int(observed.sum()),
        "auc": auc(predicted, observed),
        "logloss": loss,
        # Logloss of always predicting the observed rate: the entropy of the background rate.
        "baseRateLogloss": base,
        "normalizedEntropy": loss / base if base > 0 else float("nan"),
        "calibration": float(np.mean(predicted)) / rate if rate > 0 else float("nan"),
        "meanPredicted": float(np.mean(predicted)),
        "observedRate": rate,
        # Against the true mean probability: free of the label noise in the observed rate.
        "calibrationVsTruth": float(np.mean(predicted)) / float(np.mean(true_p)) if known else None,
        # The floor no model can beat on these labels: the simulator's own probabilities.
        "bayesLogloss": logloss(true_p, observed) if known else None,
        "bayesAuc": auc(true_p, observed) if known else None,
    }


def evaluate(model, features, labels, context=None, position=None):
    p_ctr, p_cvr, p_hide = predict(model, features)
    if position is not None:
        # Against logged events the served probability is scaled by the chance the slot was examined.
        with torch.no_grad():
            examined = torch.exp(position.log_prob(torch.from_numpy(context))).numpy()
        p_ctr = p_ctr * examined
        p_hide = p_hide * examined if p_hide is not None else None
    clicked = labels[:, 0] > 0.5
    metrics = {
        "ctr": head_metrics(p_ctr, labels[:, 0], labels[:, 2]),
        "cvr": head_metrics(p_cvr[clicked], labels[clicked, 1], labels[clicked, 3]),
    }
    if p_hide is not None:
        metrics["hide"] = head_metrics(p_hide, labels[:, 4], labels[:, 5])
    return metrics


def seed_everything(seed, threads):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def click_loss_sum(ctr_logit, click, log_exam):
    """BCE summed over rows of P(event | shown) = sigmoid(logit) x exp(log_exam): a click, or a hide
    (which also needs the ad examined)."""
    log_p = torch.clamp(nn.functional.logsigmoid(ctr_logit) + log_exam, max=-1e-6)
    return -(click * log_p + (1 - click) * torch.log1p(-torch.exp(log_p))).sum()


def train(model, features, labels, args, context=None, position=None):
    x = torch.from_numpy(features)
    click = torch.from_numpy(np.ascontiguousarray(labels[:, 0]))
    conversion = torch.from_numpy(np.ascontiguousarray(labels[:, 1]))
    hidden = torch.from_numpy(np.ascontiguousarray(labels[:, 4]))
    ctx = torch.from_numpy(context) if context is not None else None
    groups = [{"params": model.parameters()}]
    if position is not None:
        # A handful of parameters fed by every row: a larger step lets them settle within a few epochs.
        groups.append({"params": position.parameters(), "weight_decay": 0.0, "lr": args.lr * 10})
    optimizer = torch.optim.Adam(groups, lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    bce = nn.BCEWithLogitsLoss(reduction="sum")
    shuffler = torch.Generator().manual_seed(args.seed)
    rows = x.shape[0]
    for epoch in range(1, args.epochs + 1):
        model.train()
        started = time.time()
        order = torch.randperm(rows, generator=shuffler)
        total_ctr = total_cvr = total_hide = 0.0
        clicked_rows = 0
        for start in range(0, rows, args.batch_size):
            idx = order[start : start + args.batch_size]
            logits = model(x[idx])
            ctr_logit, cvr_logit = logits[0], logits[1]
            log_exam = position.log_prob(ctx[idx]) if position is not None else None
            if log_exam is not None:
                loss_ctr = click_loss_sum(ctr_logit, click[idx], log_exam)
            else:
                loss_ctr = bce(ctr_logit, click[idx])
            # pHide is P(hide | examined) over every row: a clicked row is a negative (no hide after a click).
            loss_hide = ctr_logit.sum() * 0
            if len(logits) > 2:
                if log_exam is not None:
                    loss_hide = click_loss_sum(logits[2], hidden[idx], log_exam)
                else:
                    loss_hide = bce(logits[2], hidden[idx])
            # pCVR is p(conversion | click): only clicked rows carry a conversion label.
            mask = click[idx] > 0.5
            n_clicked = int(mask.sum())
            loss_cvr = bce(cvr_logit[mask], conversion[idx][mask]) if n_clicked else ctr_logit.sum() * 0
            loss = (
                loss_ctr / idx.numel()
                + args.cvr_weight * loss_cvr / max(n_clicked, 1)
                + args.hide_weight * loss_hide / idx.numel()
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_ctr += float(loss_ctr)
            total_cvr += float(loss_cvr)
            total_hide += float(loss_hide)
            clicked_rows += n_clicked
        scheduler.step()
        print(
            f"epoch {epoch}/{args.epochs}: train logloss ctr {total_ctr / rows:.5f} "
            f"cvr|click {total_cvr / max(clicked_rows, 1):.5f}"
            + (f" hide {total_hide / rows:.5f}" if model.hide is not None else "")
            + f" ({time.time() - started:.1f} s)",
            flush=True,
        )


def weights_digest(model):
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().astype("<f4").tobytes())
    return digest.hexdigest()


def output_names(model):
    return ["p_ctr", "p_cvr"] + (["p_hide"] if model.hide is not None else [])


def export_onnx(model, dim, path):
    model.eval()
    outputs = output_names(model)
    torch.onnx.export(
        Probabilities(model),
        torch.zeros(2, dim),
        path,
        input_names=["features"],
        output_names=outputs,
        dynamic_axes={"features": {0: "N"}, **{name: {0: "N"} for name in outputs}},
        opset_version=ONNX_OPSET,
        do_constant_folding=True,
    )


def finite_or_none(value):
    """JSON has no NaN: an undefined metric (e.g. AUC without positives) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_or_none(v) for v in value]
    return value


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(finite_or_none(value), f, indent=2, allow_nan=False)
        f.write("\n")


def main(argv):
    args = parse_args(argv)
    hidden = [int(h) for h in args.hidden.split(",") if h.strip()]
    if not hidden or min(hidden) < 1:
        fail(f"--hidden must list positive widths, got {args.hidden!r}")
    seed_everything(args.seed, args.threads)

    train_meta, train_x, train_y, train_ctx = load_split(args.data, "train")
    val_meta, val_x, val_y, val_ctx = load_split(args.data, "validation")
    if train_x.shape[0] == 0 or val_x.shape[0] == 0:
        fail(f"{args.data}: train has {train_x.shape[0]} rows and validation {val_x.shape[0]}; both need some")
    spec = train_meta["featureSpec"]
    if val_meta["featureSpec"] != spec:
        fail(f"train and validation were built with different feature specs: {spec} vs {val_meta['featureSpec']}")
    dim = spec["dim"]
    print(
        f"train {train_x.shape[0]} rows (ctr {train_y[:, 0].mean():.4f}), validation {val_x.shape[0]} rows, "
        f"feature spec {spec['name']} v{spec['version']} fp={spec['fingerprint']} dim={dim}",
        flush=True,
    )

    use_position = args.position_bias == "on" or (args.position_bias == "auto" and train_ctx is not None)
    if use_position and (train_ctx is None or val_ctx is None):
        fail(f"--position-bias on needs the context column (slot, surface) of exported logs in {args.data}")
    surfaces = train_meta["columns"]["context"]["surfaces"] if use_position else []
    position = None
    if use_position:
        slots = int(max(train_ctx[:, 0].max(), val_ctx[:, 0].max())) + 1
        position = PositionBias(len(surfaces), slots)

    has_hide = bool(train_meta["hasHide"] and val_meta["hasHide"])
    if not has_hide:
        print("no hide labels in the data (written before hides were logged): a model without a hide head", flush=True)
    model = Ranker(dim, hidden, args.head, hide=has_hide)
    init_from = None
    if args.init_from is not None:
        try:
            init_from, state = load_init(args.init_from, spec, architecture_of(hidden, args.head, has_hide))
            taken = apply_init(model, position, surfaces, state)
        except InitError as err:
            fail(f"--init-from {args.init_from}: {err}")
        print(f"starting from ranking@{init_from} ({taken}): lr {args.lr}, {args.epochs} epochs", flush=True)
    started = time.time()
    train(model, train_x, train_y, args, train_ctx if use_position else None, position)
    train_seconds = time.time() - started
    metrics = evaluate(model, val_x, val_y, val_ctx if use_position else None, position)
    fmt = lambda v, spec: "n/a" if v is None else format(v, spec)  # noqa: E731
    for head, m in metrics.items():
        print(
            f"validation {head}: auc {m['auc']:.4f} (bayes {fmt(m['bayesAuc'], '.4f')}) logloss {m['logloss']:.5f} "
            f"base rate {m['baseRateLogloss']:.5f} bayes floor {fmt(m['bayesLogloss'], '.5f')} "
            f"NE {m['normalizedEntropy']:.4f} calibration {m['calibration']:.3f} "
            f"(vs truth {fmt(m['calibrationVsTruth'], '.3f')}) ({m['positives']}/{m['rows']})",
            flush=True,
        )
    if position is not None:
        print(f"P(examine | slot, surface) learnt: {json.dumps(position.table(surfaces))}", flush=True)

    now = dt.datetime.now(dt.timezone.utc)
    version = f"{now:%Y%m%d}-{weights_digest(model)[:8]}"
    out_dir = os.path.join(args.out_root, version)
    os.makedirs(out_dir, exist_ok=True)
    export_onnx(model, dim, os.path.join(out_dir, "model.onnx"))
    save_state(os.path.join(out_dir, STATE_FILE), model, position, surfaces, version)

    parity_x = np.ascontiguousarray(val_x[: args.parity_rows])
    parity_ctr, parity_cvr, parity_hide = predict(model, parity_x)
    write_json(
        os.path.join(out_dir, "parity.json"),
        {
            "description": "validation rows and the probabilities torch gives them; ONNX must agree",
            "rows": int(parity_x.shape[0]),
            "dim": dim,
            "features": [[float(v) for v in row] for row in parity_x],
            "pCtr": [float(v) for v in parity_ctr],
            "pCvr": [float(v) for v in parity_cvr],
            **({"pHide": [float(v) for v in parity_hide]} if parity_hide is not None else {}),
        },
    )

    parameters = sum(p.numel() for p in model.parameters())
    write_json(
        os.path.join(out_dir, "manifest.json"),
        {
            "name": args.name,
            "version": version,
            "createdAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "file": "model.onnx",
            "featureSpec": {k: spec[k] for k in ("name", "version", "fingerprint", "dim")},
            "inputs": [{"name": "features", "dtype": "float32", "shape": ["N", dim]}],
            "outputs": [
                {"name": "p_ctr", "dtype": "float32", "shape": ["N"], "description": "P(click | examined)"},
                {"name": "p_cvr", "dtype": "float32", "shape": ["N"], "description": "P(conversion | click)"},
            ]
            + (
                [
                    {
                        "name": "p_hide",
                        "dtype": "float32",
                        "shape": ["N"],
                        "description": "P(hide | examined): examined, not clicked, and hidden",
                    }
                ]
                if has_hide
                else []
            ),
            **({"description": args.description} if args.description else {}),
            # The version whose weights the training started from (--init-from); null: random weights.
            "initFrom": init_from,
            "metrics": metrics,
            "trainingData": {
                "rows": int(train_x.shape[0]),
                "seed": int(train_meta["seed"]) if train_meta.get("seed") is not None else 0,
                "validationRows": int(val_x.shape[0]),
                "source": train_meta.get("source", {"kind": "simulator"}),
                "marketplace": train_meta.get("marketplace"),
                "sampling": train_meta.get("sampling"),
            },
            "training": {
                "architecture": architecture_of(hidden, args.head, has_hide),
                "parameters": int(parameters),
                "epochs": args.epochs,
                "batchSize": args.batch_size,
                "lr": args.lr,
                "weightDecay": args.weight_decay,
                "cvrWeight": args.cvr_weight,
                **({"hideWeight": args.hide_weight} if has_hide else {}),
                "seed": args.seed,
                "seconds": round(train_seconds, 1),
                "torch": torch.__version__,
                "onnxOpset": ONNX_OPSET,
                # Metrics of ctr above are of P(click | shown) = P(examine) x p_ctr when this is set.
                "positionBias": position.table(surfaces) if position is not None else None,
            },
        },
    )
    if not args.no_current:
        if not args.pointer or "/" in args.pointer or args.pointer.startswith("."):
            fail(f"--pointer must be a plain file name, got {args.pointer!r}")
        # Written beside and renamed over: a watching ranking service never reads half a name.
        pointer = os.path.join(args.out_root, args.pointer)
        with open(pointer + ".tmp", "w", encoding="utf-8") as f:
            f.write(version + "\n")
        os.replace(pointer + ".tmp", pointer)
    size = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    print(f"wrote {args.name}@{version} to {out_dir} ({size / 1024:.1f} KiB, {parameters} parameters)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
