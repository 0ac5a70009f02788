#!/usr/bin/python3
"""Writes model.pt for a ranking version trained before train_ranker.py wrote it, from model.onnx.

The exported graph keeps every weight as an initializer named after its PyTorch parameter
(ranker.trunk.0.weight, ...), so the state dict is read back from the ONNX protobuf (a few fields
decoded by hand: no onnx package on Debian). The version name holds the first 8 hex digits of the
SHA-256 of the weights (train_ranker.weights_digest), so the file is written only when the recovered
weights give that digest and reproduce parity.json: the same model, bit for bit.
Usage: /usr/bin/python3 tools/training/state_dict_from_onnx.py models/ranking/<version> [...]
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_ranker  # noqa: E402

FLOAT = 1  # TensorProto.DataType.FLOAT


def varint(data, i):
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def fields(data):
    """(field number, value) of a protobuf message: ints for varints, bytes for everything else."""
    i = 0
    while i < len(data):
        key, i = varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(data, i)
        elif wire == 2:
            size, i = varint(data, i)
            value, i = data[i : i + size], i + size
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        else:
            raise ValueError(f"protobuf wire type {wire} at byte {i}")
        yield number, value


def initializers(onnx_path):
    """name -> float32 array of every initializer (ModelProto.graph = 7, GraphProto.initializer = 5;
    TensorProto: dims 1, data_type 2, name 8, raw_data 9)."""
    with open(onnx_path, "rb") as f:
        model = f.read()
    graph = next(value for number, value in fields(model) if number == 7)
    tensors = {}
    for number, value in fields(graph):
        if number != 5:
            continue
        dims, dtype, name, raw = [], None, None, None
        for n, v in fields(value):
            if n == 1:
                dims.append(v)
            elif n == 2:
                dtype = v
            elif n == 8:
                name = v.decode()
            elif n == 9:
                raw = v
        if dtype != FLOAT or raw is None:
            raise ValueError(f"{onnx_path}: initializer {name} is not raw float32 data")
        tensors[name] = np.frombuffer(raw, dtype="<f4").reshape(dims).copy()
    return tensors


def recover(directory):
    with open(os.path.join(directory, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    version = manifest["version"]
    has_hide = any(output["name"] == "p_hide" for output in manifest["outputs"])
    tensors = initializers(os.path.join(directory, manifest.get("file", "model.onnx")))
    state = {name[len("ranker.") :]: torch.from_numpy(t) for name, t in tensors.items() if name.startswith("ranker.")}
    trunk = sorted(int(k.split(".")[1]) for k in state if k.startswith("trunk.") and k.endswith(".weight"))
    hidden = [state[f"trunk.{i}.weight"].shape[0] for i in trunk]
    head = state["ctr.0.weight"].shape[0]
    model = train_ranker.Ranker(manifest["featureSpec"]["dim"], hidden, head, hide=has_hide)
    model.load_state_dict(state)
    architecture = train_ranker.architecture_of(hidden, head, has_hide)
    if manifest["training"]["architecture"] != architecture:
        raise ValueError(
            f"{directory}: the manifest says {manifest['training']['architecture']!r}, the ONNX graph is {architecture!r}"
        )
    digest = train_ranker.weights_digest(model)[:8]
    if not version.endswith(f"-{digest}"):
        raise ValueError(f"{directory}: the recovered weights hash to {digest}, the version is {version}")
    with open(os.path.join(directory, "parity.json"), encoding="utf-8") as f:
        parity = json.load(f)
    p_ctr, _, _ = train_ranker.predict(model, np.asarray(parity["features"], dtype=np.float32))
    gap = float(np.max(np.abs(p_ctr - np.asarray(parity["pCtr"]))))
    if gap > 1e-6:
        raise ValueError(f"{directory}: the recovered weights miss parity.json's pCtr by {gap}")
    # Trained on simulator rows (no slot context): no examination table to carry over.
    path = os.path.join(directory, train_ranker.STATE_FILE)
    train_ranker.save_state(path, model, None, [], version)
    print(f"wrote {path} (ranking@{version}: weights digest {digest}, parity.json reproduced)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    for d in sys.argv[1:]:
        recover(d)
