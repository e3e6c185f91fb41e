"""Shared helpers for the training scripts: export, descriptors, fixtures, results, ONNX checks."""
import hashlib
import io
import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
SHIPPED = os.path.join(MODELS, "shipped")
DATA = os.path.join(MODELS, "data")
RESULTS = os.path.join(HERE, "results.json")
OPSET = 17


def setup_torch(seed):
    torch.set_num_threads(2)
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def export_onnx(model, example, path, input_name, output_name):
    """TorchScript-based exporter (torch 1.13 has no dynamo exporter), opset 17, dynamic batch,
    everything in one self-contained file."""
    model.eval()
    buf = io.BytesIO()
    torch.onnx.export(model, (example,), buf, input_names=[input_name], output_names=[output_name],
                      dynamic_axes={input_name: {0: "N"}, output_name: {0: "N"}},
                      opset_version=OPSET, do_constant_folding=True, export_params=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return path


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def write_descriptor(model_dir, descriptor):
    """descriptor without path/sha256; both are filled from the written model.onnx."""
    onnx_path = os.path.join(model_dir, "model.onnx")
    d = {"name": descriptor["name"], "version": descriptor["version"], "path": "model.onnx",
         "sha256": sha256_file(onnx_path)}
    for k, v in descriptor.items():
        if k not in d:
            d[k] = v
    write_json(os.path.join(model_dir, "model.json"), d)
    return d


def f32_str(x):
    """Shortest decimal that round-trips to the same float32 (also via double -> float)."""
    v = np.float32(x)
    s = str(v)
    assert np.isfinite(v)
    assert np.float32(float(s)) == v, (s, v)
    return s


def write_fixture(path, inputs, outputs):
    inputs = np.asarray(inputs, dtype=np.float32)
    outputs = np.asarray(outputs, dtype=np.float32)
    rows_in = "[\n" + ",\n".join("    [" + ", ".join(f32_str(v) for v in r) + "]" for r in inputs) + "\n  ]"
    rows_out = "[\n" + ",\n".join("    [" + ", ".join(f32_str(v) for v in r) + "]" for r in outputs) + "\n  ]"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write('{\n  "inputs": ' + rows_in + ',\n  "outputs": ' + rows_out + "\n}\n")
    # sanity: valid JSON, values survive
    with open(path) as f:
        back = json.load(f)
    assert np.array_equal(np.asarray(back["inputs"], dtype=np.float32), inputs)
    assert np.array_equal(np.asarray(back["outputs"], dtype=np.float32), outputs)


def update_results(section, payload):
    res = {}
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            res = json.load(f)
    res[section] = payload
    write_json(RESULTS, dict(sorted(res.items())))


# ---------------------------------------------------------------------------------------------
# Minimal numpy ONNX evaluator (no onnxruntime in Debian's python) used to cross-check exports.
# ---------------------------------------------------------------------------------------------
def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def run_onnx_numpy(model, feeds):
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env.update(feeds)
    for n in model.graph.node:
        x = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Constant":
            y = numpy_helper.to_array(_attr(n, "value"))
        elif op == "Sub":
            y = x[0] - x[1]
        elif op == "Add":
            y = x[0] + x[1]
        elif op == "Mul":
            y = x[0] * x[1]
        elif op == "Div":
            y = x[0] / x[1]
        elif op == "MatMul":
            y = x[0] @ x[1]
        elif op == "Gemm":
            a, b = x[0], x[1]
            if _attr(n, "transA", 0):
                a = a.T
            if _attr(n, "transB", 0):
                b = b.T
            y = _attr(n, "alpha", 1.0) * (a @ b)
            if len(x) > 2 and x[2] is not None:
                y = y + _attr(n, "beta", 1.0) * x[2]
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op == "Sigmoid":
            y = 1.0 / (1.0 + np.exp(-x[0]))
        elif op == "Softmax":
            ax = _attr(n, "axis", -1)
            e = np.exp(x[0] - x[0].max(axis=ax, keepdims=True))
            y = e / e.sum(axis=ax, keepdims=True)
        elif op == "Concat":
            y = np.concatenate(x, axis=_attr(n, "axis"))
        elif op == "Reshape":
            shape = [d if d != 0 else x[0].shape[i] for i, d in enumerate(x[1])]
            y = x[0].reshape(shape)
        elif op == "Flatten":
            ax = _attr(n, "axis", 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:ax])), -1)
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = np.asarray(y, dtype=np.float32) if np.asarray(y).dtype.kind == "f" else y
    return [env[o.name] for o in model.graph.output]


def _dims(vi):
    return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]


def verify_onnx(path, feed_name, sample_inputs, expected_outputs, atol=1e-5):
    """onnx.checker + shape report + numpy re-evaluation against the torch outputs."""
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model)
    ins = [(i.name, _dims(i)) for i in inferred.graph.input]
    outs = [(o.name, _dims(o)) for o in inferred.graph.output]
    ext = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert not ext, f"external data in {path}: {ext}"
    assert isinstance(ins[0][1][0], str) and isinstance(outs[0][1][0], str), "batch axis not dynamic"
    got = run_onnx_numpy(model, {feed_name: np.asarray(sample_inputs, dtype=np.float32)})[0]
    err = float(np.max(np.abs(got - np.asarray(expected_outputs, dtype=np.float32))))
    assert err <= atol, f"numpy evaluation of {path} differs from torch by {err}"
    ops = sorted({n.op_type for n in model.graph.node})
    size = os.path.getsize(path)
    print(f"  {os.path.relpath(path, MODELS)}: {size} bytes, opset {model.opset_import[0].version}, "
          f"inputs {ins}, outputs {outs}, ops {ops}, max|numpy-torch|={err:.2e}")
    return {"inputs": ins, "outputs": outs, "ops": ops, "bytes": size, "max_abs_diff_numpy_vs_torch": err}


def train(model, forward, Xt, yt, loss_fn, epochs, lr, batch, seed, weight_decay=0.0, log_every=1):
    """Adam with cosine decay over shuffled mini-batches; `forward` gives the logits the loss takes.

    Deterministic for a seed: the shuffling generator is seeded here, the initial weights by the
    caller's setup_torch.
    """
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(Xt), generator=g)
        total = 0.0
        for i in range(0, len(Xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(forward(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        if (ep + 1) % log_every == 0 or ep == epochs - 1:
            print(f"    epoch {ep + 1:3d} train loss {total / len(Xt):.5f}")
    model.eval()
    return model
