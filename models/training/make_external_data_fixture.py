#!/usr/bin/python3
"""Create a deliberately UNSAFE test model whose weights live in external data OUTSIDE its folder.

Layout written (under models/src/test/resources/external-data/):
    model/model.onnx   tiny Linear(3 -> 1): input "features" [N, 3], output "prediction" [N, 1];
                       the weight initializer has data_location = EXTERNAL with
                       external_data {location: "../outside.bin", offset: 0, length: 12}
    model/model.json   descriptor (sha256 of model.onnx, task "regression") so the Java loader
                       can attempt to load it -- and must refuse it (path escapes the model folder)
    outside.bin        the 3 float32 weights (little-endian), next to the "model" folder

The bias stays embedded.  The model is deterministic (fixed weights), so the sha256 is stable.
"""
import io
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

ROOT = os.path.join(common.MODELS, "src", "test", "resources", "external-data")
MODEL_DIR = os.path.join(ROOT, "model")
LOCATION = "../outside.bin"


def main():
    common.setup_torch(0)
    lin = torch.nn.Linear(3, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.5, -0.25, 2.0]]))
        lin.bias.copy_(torch.tensor([0.125]))
    buf = io.BytesIO()
    torch.onnx.export(lin, (torch.zeros(2, 3),), buf, input_names=["features"], output_names=["prediction"],
                      dynamic_axes={"features": {0: "N"}, "prediction": {0: "N"}}, opset_version=common.OPSET)
    model = onnx.load_from_string(buf.getvalue())

    weight = max(model.graph.initializer, key=lambda t: int(np.prod(t.dims)))
    arr = onnx.numpy_helper.to_array(weight).astype("<f4")
    payload = arr.tobytes()
    # move the tensor's bytes out of the model: clear embedded data, point at ../outside.bin
    weight.ClearField("raw_data")
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    del weight.external_data[:]
    for k, v in (("location", LOCATION), ("offset", "0"), ("length", str(len(payload)))):
        e = weight.external_data.add()
        e.key, e.value = k, v

    os.makedirs(MODEL_DIR, exist_ok=True)
    with open(os.path.join(ROOT, "outside.bin"), "wb") as f:
        f.write(payload)
    onnx_path = os.path.join(MODEL_DIR, "model.onnx")
    with open(onnx_path, "wb") as f:
        f.write(model.SerializeToString())  # plain serialisation: external refs kept verbatim

    common.write_descriptor(MODEL_DIR, {
        "name": "external-data-escape", "version": "1.0.0", "task": "regression",
        "input": {"tensor": "features", "features": ["x0", "x1", "x2"]},
        "output": {"tensor": "prediction"},
    })

    back = onnx.load(onnx_path, load_external_data=False)
    w = [t for t in back.graph.initializer if t.data_location == TensorProto.EXTERNAL]
    assert len(w) == 1 and {e.key: e.value for e in w[0].external_data}["location"] == LOCATION
    print(f"wrote {onnx_path} (initializer {w[0].name!r} -> {LOCATION}, {len(payload)} bytes) "
          f"and {os.path.join(ROOT, 'outside.bin')}")


if __name__ == "__main__":
    main()
