#!/usr/bin/python3
"""Check every shipped model: onnx.checker, tensor names/shapes, descriptor sha256, no external
data, fixture size, and a numpy re-evaluation of the graph against the fixture outputs."""
import json
import os
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

EXPECT = {"fraud": ("features", 9, 2, ("live", "candidate")),
          "fashion": ("pixels", 784, 10, ("live", "candidate")),
          "credit": ("features", 26, 2, ("overconfident",))}


def main():
    ok = True
    for scenario, (tin, width, nout, roles) in EXPECT.items():
        for role in roles:
            d = os.path.join(common.SHIPPED, scenario, role)
            with open(os.path.join(d, "model.json")) as f:
                desc = json.load(f)
            with open(os.path.join(d, "fixture.json")) as f:
                fix = json.load(f)
            onnx_path = os.path.join(d, desc["path"])
            assert desc["sha256"] == common.sha256_file(onnx_path), f"sha256 mismatch {onnx_path}"
            assert desc["input"]["tensor"] == tin and desc["output"]["tensor"] == "probabilities"
            x = np.asarray(fix["inputs"], dtype=np.float32)
            y = np.asarray(fix["outputs"], dtype=np.float32)
            assert x.shape[0] >= 128 and x.shape[1] == width and y.shape == (x.shape[0], nout)
            with np.errstate(over="ignore"):  # saturated credit logits: exp overflow -> 0 is intended
                info = common.verify_onnx(onnx_path, tin, x, y)
            assert info["inputs"] == [(tin, ["N", width])] and info["outputs"] == [("probabilities", ["N", nout])]
            print(f"    {desc['name']} {desc['version']} sha256={desc['sha256']} fixture_rows={len(x)}")
    ext = os.path.join(common.MODELS, "src", "test", "resources", "external-data", "model")
    m = onnx.load(os.path.join(ext, "model.onnx"), load_external_data=False)
    locs = [{e.key: e.value for e in t.external_data}.get("location") for t in m.graph.initializer
            if t.data_location == onnx.TensorProto.EXTERNAL]
    with open(os.path.join(ext, "model.json")) as f:
        assert json.load(f)["sha256"] == common.sha256_file(os.path.join(ext, "model.onnx"))
    print(f"  external-data fixture: external locations {locs}")
    assert locs == ["../outside.bin"]
    print("all models verified" if ok else "FAILED")


if __name__ == "__main__":
    main()
