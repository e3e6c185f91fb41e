#!/usr/bin/python3
"""Train and export a deliberately expensive fraud candidate, for the candidate time budget
(models.candidate_time_budget, issue 11): its tests and the slow-candidate benchmark.

  * model:  fraud-mlp-deep 2.1.0 = Standardize -> Linear(9, 64) -> ReLU -> DEPTH x (the same Linear(64, 64)
            -> ReLU) -> Linear(64, 1) -> sigmoid. The repeated layer shares its weights, so the file stays
            small while each row costs DEPTH x 4096 multiply-adds (the live logistic regression: 9).
  * data:   the fraud training set of train_fraud.py (same seeds), 3 epochs: a real, trained model whose
            quality does not matter here, only its cost.
  * export: models/shipped/fraud/slow-candidate/{model.onnx,model.json,fixture.json}

    /usr/bin/python3 models/training/train_fraud_slow.py [DEPTH]   (default 24)
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import fraud_data as fd  # noqa: E402
import train_fraud as tf  # noqa: E402

DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 24


class Deep(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.first = nn.Linear(9, 64)
        self.shared = nn.Linear(64, 64)
        self.last = nn.Linear(64, 1)
        self.depth = depth

    def forward(self, x):
        h = torch.relu(self.first(x))
        for _ in range(self.depth):
            h = torch.relu(self.shared(h))
        return self.last(h)


def main():
    common.setup_torch(tf.SEED_TORCH)
    train_d = fd.generate(tf.N_TRAIN, tf.SEED_TRAIN, drift=False)
    hold_d = fd.generate(tf.N_HOLDOUT, tf.SEED_HOLDOUT, drift=False)
    lab = train_d["labelled"]
    X = fd.feature_matrix(train_d)[lab]
    y = train_d["label"][lab]
    Xh, yh = fd.feature_matrix(hold_d), hold_d["label"]
    mean = X.astype(np.float64).mean(axis=0)
    std = X.astype(np.float64).std(axis=0)
    std[std == 0] = 1.0

    torch.manual_seed(tf.SEED_TORCH)
    model = tf.Binary(mean, std, Deep(DEPTH))
    # Small steps: 24 ReLU layers of shared weights train slowly but stably.
    tf.train(model, X, y, 3, 1e-3, 0.0)
    mdir = os.path.join(common.SHIPPED, "fraud", "slow-candidate")
    onnx_path = common.export_onnx(model, torch.from_numpy(Xh[:4]), os.path.join(mdir, "model.onnx"),
                                   "features", "probabilities")
    common.write_descriptor(mdir, {
        "name": "fraud-mlp-deep", "version": "2.1.0", "task": "binary",
        "input": {"tensor": "features", "features": fd.FEATURES},
        "output": {"tensor": "probabilities", "positive_class": 1},
        "threshold": tf.THRESHOLD,
    })
    Xfix = Xh[:64]
    fix_out = tf.predict(model, Xfix)
    common.write_fixture(os.path.join(mdir, "fixture.json"), Xfix, fix_out)
    check = common.verify_onnx(onnx_path, "features", Xfix, fix_out)
    print("depth", DEPTH, "holdout", tf.evaluate(tf.predict(model, Xh), yh, tf.THRESHOLD), "onnx", check)


if __name__ == "__main__":
    main()
