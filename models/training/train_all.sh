#!/bin/sh
# Regenerate every shipped model, data file, fixture and results.json (deterministic, CPU only).
# Requires Debian packages: python3-torch python3-sklearn python3-onnx dataset-fashion-mnist
set -eu
cd "$(dirname "$0")"
PY=/usr/bin/python3
$PY train_fraud.py
$PY train_fraud_slow.py
$PY train_fashion.py
# credit: models/data/credit/credit_data.csv is committed; it is re-exported from the Debian package
# r-cran-modeldata with `Rscript export_credit_data.R` (not needed for this script)
$PY train_credit_overconfident.py
$PY make_external_data_fixture.py
$PY verify_models.py
