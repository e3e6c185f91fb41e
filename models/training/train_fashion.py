#!/usr/bin/python3
"""Train and export the Fashion-MNIST scenario models.

  * data:      Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist):
               60,000 training and 10,000 test images in idx-ubyte.gz format, parsed here with
               numpy + gzip.  The 10k test split is copied byte-for-byte to
               models/data/fashion-mnist/ (t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).
  * input:     tensor "pixels", [N, 784] float32, raw pixel / 255.0 (0..1), row-major 28x28
  * live:      multinomial logistic regression: Linear(784, 10) -> softmax
  * candidate: MLP: Linear(784, 128) -> ReLU -> Linear(128, 10) -> softmax
  * output:    tensor "probabilities", [N, 10] float32 (softmax inside the graph)
  * exports:   models/shipped/fashion/{live,candidate}/{model.onnx,model.json,fixture.json}
  * metrics:   accuracy, macro-F1, log loss on the 10k test split -> results.json["fashion"]
"""
import gzip
import os
import shutil
import sys

import numpy as np
import torch
from torch import nn
from sklearn import metrics

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SRC = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
SEED = 11
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]


def read_idx(path):
    """Parse an idx file (optionally gzipped): magic 0x0000 <dtype=0x08 ubyte> <ndim>, big-endian dims."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 0x08, f"unsupported idx header in {path}"
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    assert data.size == int(np.prod(dims)), path
    return data.reshape(dims)


def load(split):
    imgs = read_idx(os.path.join(SRC, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(SRC, f"{split}-labels-idx1-ubyte.gz"))
    x = imgs.reshape(len(imgs), 784).astype(np.float32) / np.float32(255.0)
    return x, labels.astype(np.int64)


class Multiclass(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return torch.softmax(self.body(x), dim=1)


def make_live():
    return Multiclass(nn.Linear(784, 10))


def make_candidate():
    return Multiclass(nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)))


def train(model, X, y, epochs, lr, batch=128, wd=0.0):
    return common.train(model, model.body, torch.from_numpy(X), torch.from_numpy(y), nn.CrossEntropyLoss(),
                        epochs, lr, batch, SEED, weight_decay=wd)


def predict(model, X):
    with torch.no_grad():
        return model(torch.from_numpy(X)).numpy()


def evaluate(probs, y):
    pred = probs.argmax(axis=1)
    p = probs.astype(np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    return {
        "rows": int(len(y)),
        "accuracy": round(float(metrics.accuracy_score(y, pred)), 5),
        "macro_f1": round(float(metrics.f1_score(y, pred, average="macro")), 5),
        "log_loss": round(float(metrics.log_loss(y, np.clip(p, 1e-7, 1.0), labels=list(range(10)))), 5),
    }


def main():
    common.setup_torch(SEED)
    Xtr, ytr = load("train")
    Xte, yte = load("t10k")
    assert Xtr.shape == (60000, 784) and Xte.shape == (10000, 784)
    print(f"loaded train {Xtr.shape}, test {Xte.shape}")

    out = os.path.join(common.DATA, "fashion-mnist")
    os.makedirs(out, exist_ok=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copyfile(os.path.join(SRC, name), os.path.join(out, name))

    # fixture: 128 test images, stratified-ish (first rows + some per class), fixed seed
    rng = np.random.default_rng(5)
    fix = list(range(16))
    for c in range(10):
        fix += list(rng.choice(np.flatnonzero(yte == c), size=12, replace=False))
    seen = set()
    fix = [i for i in fix if not (i in seen or seen.add(i))]
    Xfix = Xte[fix]

    specs = {
        "live": dict(name="fashion-logreg", version="1.0.0", make=make_live, epochs=12, lr=2e-3, wd=0.0),
        "candidate": dict(name="fashion-mlp", version="2.0.0", make=make_candidate, epochs=15, lr=1e-3, wd=0.0),
    }
    results = {"classes": CLASSES, "data": {"train_rows": 60000, "test_rows": 10000, "source": SRC,
                                            "test_copy": "models/data/fashion-mnist/"}, "models": {}}
    for role, s in specs.items():
        print(f"training {role} ({s['name']}) ...")
        torch.manual_seed(SEED)
        model = s["make"]()
        train(model, Xtr, ytr, s["epochs"], s["lr"], wd=s["wd"])
        mdir = os.path.join(common.SHIPPED, "fashion", role)
        onnx_path = common.export_onnx(model, torch.from_numpy(Xte[:4]), os.path.join(mdir, "model.onnx"),
                                       "pixels", "probabilities")
        desc = common.write_descriptor(mdir, {
            "name": s["name"], "version": s["version"], "task": "multiclass",
            "input": {"tensor": "pixels", "vector_field": "vector", "vector_length": 784},
            "output": {"tensor": "probabilities", "num_classes": 10},
        })
        fix_out = predict(model, Xfix)
        common.write_fixture(os.path.join(mdir, "fixture.json"), Xfix, fix_out)
        check = common.verify_onnx(onnx_path, "pixels", Xfix, fix_out)
        res = {"name": s["name"], "version": s["version"], "sha256": desc["sha256"],
               "test": evaluate(predict(model, Xte), yte), "onnx": check, "fixture_rows": len(fix)}
        print(f"  test {res['test']}")
        results["models"][role] = res

    assert results["models"]["candidate"]["test"]["accuracy"] > results["models"]["live"]["test"]["accuracy"] + 0.02
    common.update_results("fashion", results)
    print("fashion done")


if __name__ == "__main__":
    main()
