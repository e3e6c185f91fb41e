#!/usr/bin/python3
"""Train and export a deliberately OVERCONFIDENT credit-default MLP (saturated scores).

Purpose: a real-data binary model whose held-out scores pile up at 0 and 1, to test ROC AUC
computed from fixed-width score bins (1000 equal-width bins on [0, 1] cannot order the many
scores that fall into the first and the last bin, so the binned AUC is visibly lower than the
exact one).

  * data:      models/data/credit/credit_data.csv (modeldata's credit_data, written by
               export_credit_data.R). label = 1 for Status "bad" (default = positive class),
               0 for "good". Rows with ANY missing value are DROPPED (no imputation): 4454 -> 4039.
               Split: seeded permutation (numpy default_rng(SEED_SPLIT)) of the complete rows,
               the first 70 % (round(0.7 * n)) train, the rest holdout.
  * features:  9 numeric columns, standardised with the TRAIN split's mean and population std
               (ddof 0), then the one-hot columns of Home, Marital, Records, Job (0/1, not
               standardised), levels in R's factor-level (alphabetical) order -- FEATURES below.
               The encoded matrix, as float32, with `label` and `split` is written to
               models/data/credit/credit_features.csv (complete rows in their original order), so
               a consumer feeds those values straight to the model; the graph does no encoding.
  * model:     Linear(26, 256) -> ReLU -> Linear(256, 256) -> ReLU -> Linear(256, 1) = logit z,
               output Softmax([-z/2, z/2]) = [P(good), P(bad)] = [sigmoid(-z), sigmoid(z)], the
               same [N, 2] output as the fraud models (positive class = column 1). Softmax instead
               of their Sigmoid -> Concat[1-p, p]: ONNX Runtime's Sigmoid rounds outputs near 0 to
               multiples of ~3e-8 (see forward()); its Softmax keeps the relative precision of tiny
               probabilities, so ORT Java reproduces the trainer's ranking of saturated scores.
               Adam, no weight decay, no dropout, EPOCHS epochs on the train split only, so it
               memorises the train split and becomes overconfident on the holdout.
  * exports:   models/shipped/credit/overconfident/{model.onnx,model.json,fixture.json}
  * metrics:   on the holdout split: exact ROC AUC (sklearn, on the float32 P(bad)), the AUC from
               1000 equal-width bins (ties within a bin count 1/2), their difference, the share of
               scores < 1e-4 or > 1 - 1e-4 -> descriptor "metadata" and results.json["credit"].
"""
import csv
import os
import sys

import numpy as np
import torch
from torch import nn
from sklearn import metrics

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SEED_SPLIT, SEED_TORCH = 4454, 7
TRAIN_SHARE = 0.7
HIDDEN = 256
EPOCHS, LR, BATCH = 150, 3e-3, 128
THRESHOLD = 0.5
BINS = 1000
SATURATION = 1e-4
MIN_AUC_GAP = 0.002

NUMERIC = ["Seniority", "Time", "Age", "Expenses", "Income", "Assets", "Debt", "Amount", "Price"]
# R factor levels of modeldata 1.1.0 (alphabetical); fixed here so the column order never depends
# on which levels happen to occur in the data.
CATEGORICAL = {
    "Home": ["ignore", "other", "owner", "parents", "priv", "rent"],
    "Marital": ["divorced", "married", "separated", "single", "widow"],
    "Records": ["no", "yes"],
    "Job": ["fixed", "freelance", "others", "partime"],
}
FEATURES = NUMERIC + [f"{c}_{lvl}" for c, lvls in CATEGORICAL.items() for lvl in lvls]
COLUMNS = ["Status", "Seniority", "Home", "Time", "Age", "Marital", "Records", "Job", "Expenses",
           "Income", "Assets", "Debt", "Amount", "Price"]

DATA_DIR = os.path.join(common.DATA, "credit")
RAW_CSV = os.path.join(DATA_DIR, "credit_data.csv")
FEATURES_CSV = os.path.join(DATA_DIR, "credit_features.csv")
MODEL_DIR = os.path.join(common.SHIPPED, "credit", "overconfident")


def load_raw():
    with open(RAW_CSV, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == COLUMNS, rows[0]
    rows = rows[1:]
    assert len(rows) == 4454, len(rows)
    complete = [r for r in rows if all(v != "" for v in r)]
    return rows, complete


def encode(rows):
    """-> raw numeric matrix (float64), one-hot matrix (float64), label (int64)."""
    idx = {c: i for i, c in enumerate(COLUMNS)}
    num = np.array([[float(r[idx[c]]) for c in NUMERIC] for r in rows], dtype=np.float64)
    blocks = []
    for c, levels in CATEGORICAL.items():
        vals = [r[idx[c]] for r in rows]
        unknown = set(vals) - set(levels)
        assert not unknown, (c, unknown)
        blocks.append(np.array([[1.0 if v == lvl else 0.0 for lvl in levels] for v in vals]))
    status = [r[idx["Status"]] for r in rows]
    assert set(status) <= {"good", "bad"}, set(status)
    y = np.array([1 if s == "bad" else 0 for s in status], dtype=np.int64)
    return num, np.concatenate(blocks, axis=1), y


def write_features_csv(path, X, y, split):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FEATURES + ["label", "split"])
        for xi, yi, si in zip(X, y, split):
            w.writerow([common.f32_str(v) for v in xi] + [int(yi), si])
    # sanity: the file gives back exactly the float32 matrix the model is evaluated on
    with open(path, newline="") as f:
        back = list(csv.reader(f))[1:]
    assert np.array_equal(np.array([r[:len(FEATURES)] for r in back], dtype=np.float32), X)


class Overconfident(nn.Module):
    """Encoded features -> [P(good), P(bad)]."""

    def __init__(self, n_in, hidden):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                  nn.Linear(hidden, 1))

    def logit(self, x):
        return self.body(x)

    def forward(self, x):
        # softmax([-z/2, z/2]) = [sigmoid(-z), sigmoid(z)], the same [P(good), P(bad)] as the fraud
        # models' Sigmoid -> Concat[1-p, p], but evaluated as exp(-|z|) / (1 + exp(-|z|)) for the
        # small column: ONNX Runtime's Sigmoid kernel is only absolutely accurate (its outputs
        # near 0 come in steps of 2^-25, ~3e-8, and 27 % of this holdout became exactly 0.0),
        # which would erase the order among saturated scores that the exact AUC relies on.
        z = self.logit(x)
        return torch.softmax(torch.cat([z * -0.5, z * 0.5], dim=1), dim=1)


def predict(model, X):
    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(X, dtype=np.float32))).numpy()


def binned_auc(scores, y, bins=BINS):
    """ROC AUC from `bins` equal-width bins on [0, 1]: bin = floor(score * bins) clipped to
    [0, bins - 1] (score taken as a double); Mann-Whitney over the bins, a positive and a negative
    in the same bin count 1/2."""
    s = np.asarray(scores, dtype=np.float64)
    b = np.clip(np.floor(s * bins).astype(np.int64), 0, bins - 1)
    pos = np.bincount(b[y == 1], minlength=bins).astype(np.float64)
    neg = np.bincount(b[y == 0], minlength=bins).astype(np.float64)
    neg_below = np.concatenate([[0.0], np.cumsum(neg)[:-1]])
    u = float(np.sum(pos * neg_below) + 0.5 * np.sum(pos * neg))
    return u / (pos.sum() * neg.sum()), pos, neg


def holdout_figures(p, y):
    p = np.asarray(p, dtype=np.float32)
    exact = float(metrics.roc_auc_score(y, p))
    binned, pos, neg = binned_auc(p, y)
    low = p < np.float32(SATURATION)
    high = p > np.float32(1.0 - SATURATION)
    return {
        "rows": int(len(y)),
        "positives": int(np.sum(y == 1)),
        "negatives": int(np.sum(y == 0)),
        "roc_auc_exact": exact,
        "roc_auc_binned_1000": binned,
        "roc_auc_exact_minus_binned": exact - binned,
        "share_saturated": float(np.mean(low | high)),
        "share_below_1e-4": float(np.mean(low)),
        "share_above_1-1e-4": float(np.mean(high)),
        "first_bin": {"positives": int(pos[0]), "negatives": int(neg[0])},
        "last_bin": {"positives": int(pos[-1]), "negatives": int(neg[-1])},
        "scores_exactly_0": int(np.sum(p == 0.0)),
        "scores_exactly_1": int(np.sum(p == 1.0)),
        "accuracy": float(metrics.accuracy_score(y, (p >= THRESHOLD).astype(int))),
        "log_loss": float(metrics.log_loss(y, np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7), labels=[0, 1])),
    }


def main():
    common.setup_torch(SEED_TORCH)
    rows, complete = load_raw()
    num, onehot, y = encode(complete)
    n = len(complete)
    perm = np.random.default_rng(SEED_SPLIT).permutation(n)
    n_train = int(round(TRAIN_SHARE * n))
    is_train = np.zeros(n, dtype=bool)
    is_train[perm[:n_train]] = True
    split = np.where(is_train, "train", "holdout")

    mean = num[is_train].mean(axis=0)
    std = num[is_train].std(axis=0)
    std[std == 0] = 1.0
    X = np.concatenate([(num - mean) / std, onehot], axis=1).astype(np.float32)
    assert X.shape == (n, len(FEATURES))
    print(f"credit_data: {len(rows)} rows, {n} complete (rows with a missing value dropped); "
          f"train {n_train}, holdout {n - n_train}; bad rate train {y[is_train].mean():.4f}, "
          f"holdout {y[~is_train].mean():.4f}")
    write_features_csv(FEATURES_CSV, X, y, split)

    Xt, yt = X[is_train], y[is_train]
    Xh, yh = X[~is_train], y[~is_train]
    print(f"training overconfident MLP {len(FEATURES)}-{HIDDEN}-{HIDDEN}-1, {EPOCHS} epochs ...")
    torch.manual_seed(SEED_TORCH)
    model = Overconfident(len(FEATURES), HIDDEN)
    common.train(model, model.logit, torch.from_numpy(Xt), torch.from_numpy(yt.astype(np.float32))[:, None],
                 nn.BCEWithLogitsLoss(), EPOCHS, LR, BATCH, SEED_TORCH, weight_decay=0.0, log_every=10)

    onnx_path = common.export_onnx(model, torch.from_numpy(Xh[:4]), os.path.join(MODEL_DIR, "model.onnx"),
                                   "features", "probabilities")
    ph = predict(model, Xh)[:, 1]
    fig = holdout_figures(ph, yh)
    train_fig = holdout_figures(predict(model, Xt)[:, 1], yt)

    # fixture rows: random holdout rows, random holdout defaults, and the most saturated rows
    rng = np.random.default_rng(42)
    fix = list(rng.choice(len(Xh), size=104, replace=False))
    fix += list(rng.choice(np.flatnonzero(yh == 1), size=24, replace=False))
    order = np.argsort(ph, kind="stable")
    fix += [int(i) for i in order[:8]] + [int(i) for i in order[-8:]]
    seen = set()
    fix = [int(i) for i in fix if not (i in seen or seen.add(i))]
    assert len(fix) >= 128
    Xfix = Xh[fix]
    fix_out = predict(model, Xfix)
    common.write_fixture(os.path.join(MODEL_DIR, "fixture.json"), Xfix, fix_out)
    with np.errstate(over="ignore"):  # exp(-logit) of the saturated rows overflows to inf -> 0, as intended
        check = common.verify_onnx(onnx_path, "features", Xfix, fix_out)
    assert check["inputs"] == [("features", ["N", len(FEATURES)])], check["inputs"]
    assert check["outputs"] == [("probabilities", ["N", 2])], check["outputs"]

    metadata = {
        "purpose": "deliberately overconfident (saturated-score) binary model for testing ROC AUC binning",
        "dataset": "modeldata credit_data (MIT, Max Kuhn/RStudio, via Debian r-cran-modeldata)",
        "features_csv": "models/data/credit/credit_features.csv",
        "positive_class_label": "Status = bad (default)",
        "missing_values": "rows with any missing value dropped",
        "split": {"seed": SEED_SPLIT, "train_share": TRAIN_SHARE, "train_rows": int(n_train),
                  "holdout_rows": int(n - n_train)},
        "training": {"architecture": f"{len(FEATURES)}-{HIDDEN}-{HIDDEN}-1 ReLU MLP, logit z, output softmax([-z/2, z/2])",
                     "optimizer": "Adam, cosine LR decay, no weight decay, no dropout",
                     "epochs": EPOCHS, "lr": LR, "batch": BATCH, "torch_seed": SEED_TORCH},
        "holdout": fig,
    }
    desc = common.write_descriptor(MODEL_DIR, {
        "name": "credit-overconfident-mlp", "version": "1.0.0", "task": "binary",
        "description": "Overconfident MLP on modeldata credit_data; P(bad) saturates near 0/1 on the holdout split. "
                       "Input = the encoded, standardised columns of models/data/credit/credit_features.csv.",
        "input": {"tensor": "features", "features": FEATURES},
        "output": {"tensor": "probabilities", "positive_class": 1},
        "threshold": THRESHOLD,
        "metadata": metadata,
    })

    print(f"  train   : AUC {train_fig['roc_auc_exact']:.5f}, saturated {train_fig['share_saturated']:.4f}, "
          f"log loss {train_fig['log_loss']:.5f}")
    print(f"  holdout : rows {fig['rows']}, positives {fig['positives']}")
    print(f"  holdout : exact ROC AUC            {fig['roc_auc_exact']:.6f}")
    print(f"  holdout : 1000-bin ROC AUC         {fig['roc_auc_binned_1000']:.6f}")
    print(f"  holdout : exact - binned           {fig['roc_auc_exact_minus_binned']:.6f}")
    print(f"  holdout : share <1e-4 or >1-1e-4   {fig['share_saturated']:.4f} "
          f"(low {fig['share_below_1e-4']:.4f}, high {fig['share_above_1-1e-4']:.4f})")
    print(f"  holdout : first bin {fig['first_bin']}, last bin {fig['last_bin']}, "
          f"exactly 0: {fig['scores_exactly_0']}, exactly 1: {fig['scores_exactly_1']}")
    print(f"  holdout : accuracy {fig['accuracy']:.5f}, log loss {fig['log_loss']:.5f}")
    print(f"  sha256 {desc['sha256']}")
    assert fig["roc_auc_exact_minus_binned"] > MIN_AUC_GAP, fig["roc_auc_exact_minus_binned"]

    common.update_results("credit", {
        "features": FEATURES, "threshold": THRESHOLD,
        "data": {"raw": "models/data/credit/credit_data.csv", "features": "models/data/credit/credit_features.csv",
                 "rows": len(rows), "complete_rows": n, "split": metadata["split"]},
        "models": {"overconfident": {"name": desc["name"], "version": desc["version"], "sha256": desc["sha256"],
                                     "holdout": fig, "train": train_fig, "onnx": check,
                                     "fixture_rows": len(fix)}},
    })
    print("credit done")


if __name__ == "__main__":
    main()
