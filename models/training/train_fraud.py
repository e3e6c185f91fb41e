#!/usr/bin/python3
"""Train and export the fraud scenario models.

  * data:      train 100,000 rows (seed 1001, no drift), holdout 20,000 rows (seed 2002, no drift),
               holdout-drift 20,000 rows (seed 3003, drift) -- see fraud_data.py.
               The two holdouts are written to models/data/fraud/holdout.csv and holdout-drift.csv.
               Training uses only rows that ever get a label (label_delay_ms not empty).
  * live:      logistic regression  = Standardize -> Linear(9, 1) -> sigmoid
  * candidate: MLP                  = Standardize -> Linear(9, 32) -> ReLU -> Linear(32, 16) -> ReLU
                                      -> Linear(16, 1) -> sigmoid
    Standardize uses mean/std of the training set and is part of the exported graph, so the ONNX
    models take RAW features.  Output is [P(legit), P(fraud)] (positive class = column 1).
  * exports:   models/shipped/fraud/{live,candidate}/{model.onnx,model.json,fixture.json}
  * metrics:   AUC, accuracy@threshold, log loss on both holdouts -> results.json["fraud"]
"""
import os
import sys

import numpy as np
import torch
from torch import nn
from sklearn import metrics

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import fraud_data as fd  # noqa: E402

SEED_TRAIN, SEED_HOLDOUT, SEED_DRIFT, SEED_TORCH = 1001, 2002, 3003, 7
N_TRAIN, N_HOLDOUT = 100_000, 20_000
THRESHOLD = 0.5


class Standardize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))

    def forward(self, x):
        return (x - self.mean) / self.std


class Binary(nn.Module):
    """Wraps a logit network: raw features -> [P(legit), P(fraud)]."""

    def __init__(self, mean, std, body):
        super().__init__()
        self.scale = Standardize(mean, std)
        self.body = body

    def logit(self, x):
        return self.body(self.scale(x))

    def forward(self, x):
        p = torch.sigmoid(self.logit(x))
        return torch.cat([1.0 - p, p], dim=1)


def make_live(mean, std):
    return Binary(mean, std, nn.Linear(9, 1))


def make_candidate(mean, std):
    return Binary(mean, std, nn.Sequential(nn.Linear(9, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(),
                                           nn.Linear(16, 1)))


def train(model, X, y, epochs, lr, weight_decay=0.0, batch=256, seed=SEED_TORCH):
    return common.train(model, model.logit, torch.from_numpy(X), torch.from_numpy(y.astype(np.float32))[:, None],
                        nn.BCEWithLogitsLoss(), epochs, lr, batch, seed, weight_decay=weight_decay, log_every=5)


def predict(model, X):
    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(X, dtype=np.float32))).numpy()


def evaluate(probs, y, thr):
    p = probs[:, 1].astype(np.float64)
    return {
        "rows": int(len(y)),
        "fraud_rate": round(float(np.mean(y)), 5),
        "auc": round(float(metrics.roc_auc_score(y, p)), 5),
        "accuracy": round(float(metrics.accuracy_score(y, (p >= thr).astype(int))), 5),
        "log_loss": round(float(metrics.log_loss(y, np.clip(p, 1e-7, 1 - 1e-7), labels=[0, 1])), 5),
        "average_precision": round(float(metrics.average_precision_score(y, p)), 5),
    }


def main():
    common.setup_torch(SEED_TORCH)
    out_data = os.path.join(common.DATA, "fraud")
    os.makedirs(out_data, exist_ok=True)

    print("generating data ...")
    train_d = fd.generate(N_TRAIN, SEED_TRAIN, drift=False)
    hold_d = fd.generate(N_HOLDOUT, SEED_HOLDOUT, drift=False)
    drift_d = fd.generate(N_HOLDOUT, SEED_DRIFT, drift=True)
    fd.write_csv(hold_d, os.path.join(out_data, "holdout.csv"))
    fd.write_csv(drift_d, os.path.join(out_data, "holdout-drift.csv"))

    lab = train_d["labelled"]
    X = fd.feature_matrix(train_d)[lab]
    y = train_d["label"][lab]
    Xh, yh = fd.feature_matrix(hold_d), hold_d["label"]
    Xd, yd = fd.feature_matrix(drift_d), drift_d["label"]
    print(f"  train rows {len(X)} (labelled only), fraud rate {y.mean():.4f}; "
          f"holdout {yh.mean():.4f}; holdout-drift {yd.mean():.4f}")
    mean = X.astype(np.float64).mean(axis=0)
    std = X.astype(np.float64).std(axis=0)
    std[std == 0] = 1.0

    specs = {
        "live": dict(name="fraud-logreg", version="1.0.0", make=make_live, epochs=20, lr=1e-2, wd=0.0),
        "candidate": dict(name="fraud-mlp", version="2.0.0", make=make_candidate, epochs=40, lr=3e-3, wd=1e-5),
    }
    results = {"features": fd.FEATURES, "threshold": THRESHOLD,
               "data": {"train": {"rows": int(len(X)), "seed": SEED_TRAIN, "drift": False},
                        "holdout": {"file": "models/data/fraud/holdout.csv", "rows": N_HOLDOUT,
                                    "seed": SEED_HOLDOUT, "drift": False},
                        "holdout_drift": {"file": "models/data/fraud/holdout-drift.csv", "rows": N_HOLDOUT,
                                          "seed": SEED_DRIFT, "drift": True}},
               "models": {}}

    # fixture rows: random holdout rows, some fraud rows, and per-feature extremes
    rng = np.random.default_rng(42)
    fix = list(rng.choice(len(Xh), size=104, replace=False))
    fix += list(rng.choice(np.flatnonzero(yh == 1), size=24, replace=False))
    for j in range(Xh.shape[1]):
        fix += [int(np.argmax(Xh[:, j])), int(np.argmin(Xh[:, j]))]
    seen = set()
    fix = [i for i in fix if not (i in seen or seen.add(i))]
    Xfix = Xh[fix]

    for role, s in specs.items():
        print(f"training {role} ({s['name']}) ...")
        torch.manual_seed(SEED_TORCH)
        model = s["make"](mean, std)
        train(model, X, y, s["epochs"], s["lr"], s["wd"])
        mdir = os.path.join(common.SHIPPED, "fraud", role)
        onnx_path = common.export_onnx(model, torch.from_numpy(Xh[:4]), os.path.join(mdir, "model.onnx"),
                                       "features", "probabilities")
        desc = common.write_descriptor(mdir, {
            "name": s["name"], "version": s["version"], "task": "binary",
            "input": {"tensor": "features", "features": fd.FEATURES},
            "output": {"tensor": "probabilities", "positive_class": 1},
            "threshold": THRESHOLD,
        })
        fix_out = predict(model, Xfix)
        common.write_fixture(os.path.join(mdir, "fixture.json"), Xfix, fix_out)
        check = common.verify_onnx(onnx_path, "features", Xfix, fix_out)
        res = {"name": s["name"], "version": s["version"], "sha256": desc["sha256"],
               "holdout": evaluate(predict(model, Xh), yh, THRESHOLD),
               "holdout_drift": evaluate(predict(model, Xd), yd, THRESHOLD),
               "onnx": check, "fixture_rows": len(fix)}
        print(f"  holdout       {res['holdout']}")
        print(f"  holdout-drift {res['holdout_drift']}")
        results["models"][role] = res

    live_auc = results["models"]["live"]["holdout"]["auc"]
    cand_auc = results["models"]["candidate"]["holdout"]["auc"]
    assert cand_auc > live_auc + 0.03, (live_auc, cand_auc)
    common.update_results("fraud", results)
    print("fraud done")


if __name__ == "__main__":
    main()
