"""The PyTorch twin of a Refinery benchmark case (used by `npm run bench`, not by the library).

The bench writes a job: the generator's and discriminator's graphs as Refinery read them (nodes,
attributes, weights in one binary blob) and the latents of each batch size. This script rebuilds
both models as eager PyTorch (torch.nn.functional calls, one per ONNX node: the same arithmetic a
hand-written nn.Module would run), checks D(G(z)) against the fixture's golden logits, and then
times, on request, the same operations the bench times in Refinery:

  grad B K      K latent Langevin steps' value and gradient of 0.5|z|^2 - D(G(z)) at batch B
  forward B K   K proposal scorings D(G(z)) without gradient at batch B

Each request answers one JSON line of per-call milliseconds, so the bench can interleave blocks of
Refinery calls and PyTorch calls in one run on one machine.

    python3 scripts/torch_twin.py JOB.json      (Debian: python3-torch, OMP_WAIT_POLICY=PASSIVE)
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_job(path):
    with open(path) as f:
        job = json.load(f)
    blob = np.fromfile(job["blob"], dtype=np.uint8)

    def tensor(ref):
        dtype = {"float32": np.float32, "int64": np.int64}[ref["dtype"]]
        a = np.frombuffer(blob[ref["offset"]:ref["offset"] + ref["bytes"]].tobytes(), dtype=dtype).reshape(ref["dims"])
        return torch.from_numpy(a.copy())

    return job, tensor


def attr(node, name, default=None):
    return node["attrs"].get(name, default)


def conv_pads(pads, n):
    """ONNX pads [b1, b2, ..., e1, e2, ...] -> symmetric padding, or F.pad amounts for asymmetric ones."""
    begin, end = pads[:n], pads[n:]
    if begin == end:
        return list(begin), None
    pad = []
    for i in reversed(range(n)):
        pad += [begin[i], end[i]]
    return [0] * n, pad


class Model:
    """An ONNX graph (as Refinery parsed it) run op by op with torch.nn.functional."""

    def __init__(self, spec, tensor):
        self.spec = spec
        self.inits = {k: tensor(v) for k, v in spec["initializers"].items()}
        for node in spec["nodes"]:
            for k, v in node["attrs"].items():
                if isinstance(v, dict) and "tensor" in v:
                    node["attrs"][k] = tensor(v["tensor"])

    def __call__(self, x):
        env = dict(self.inits)
        env[self.spec["inputs"][0]] = x
        for node in self.spec["nodes"]:
            args = [env[i] if i else None for i in node["inputs"]]
            outs = run_node(node, args)
            for name, value in zip(node["outputs"], outs):
                if name:
                    env[name] = value
        return env[self.spec["outputs"][0]]


def run_node(node, a):
    op = node["op"]
    if op == "Gemm":
        x, w = a[0], a[1]
        if attr(node, "transA", 0):
            x = x.t()
        if attr(node, "transB", 0):
            w = w.t()
        y = attr(node, "alpha", 1.0) * (x @ w)
        if len(a) > 2 and a[2] is not None:
            y = y + attr(node, "beta", 1.0) * a[2]
        return [y]
    if op == "MatMul":
        return [a[0] @ a[1]]
    if op in ("Add", "Sub", "Mul", "Div"):
        return [{"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}[op](a[0], a[1])]
    if op == "Relu":
        return [F.relu(a[0])]
    if op == "LeakyRelu":
        return [F.leaky_relu(a[0], attr(node, "alpha", 0.01))]
    if op == "Tanh":
        return [torch.tanh(a[0])]
    if op == "Sigmoid":
        return [torch.sigmoid(a[0])]
    if op in ("Identity", "Dropout"):
        return [a[0]]
    if op == "Constant":
        return [attr(node, "value")]
    if op == "Flatten":
        return [torch.flatten(a[0], attr(node, "axis", 1))]
    if op == "Reshape":
        shape = [int(v) for v in a[1].tolist()]
        shape = [a[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return [a[0].reshape(shape)]
    if op == "Squeeze":
        return [torch.squeeze(a[0], int(a[1].tolist()[0]))]
    if op == "Transpose":
        return [a[0].permute(attr(node, "perm"))]
    if op == "Softmax":
        return [torch.softmax(a[0], attr(node, "axis", -1))]
    if op == "Shape":
        return [torch.tensor(list(a[0].shape), dtype=torch.int64)]
    if op == "Gather":
        axis = attr(node, "axis", 0)
        idx = a[1]
        out = torch.index_select(a[0], axis, idx.reshape(-1) % a[0].shape[axis])
        return [out.reshape(a[0].shape[:axis] + idx.shape + a[0].shape[axis + 1:])]
    if op == "Unsqueeze":
        out = a[0]
        for ax in sorted(int(v) for v in a[1].tolist()):
            out = out.unsqueeze(ax if ax >= 0 else ax + out.dim() + 1)
        return [out]
    if op == "Concat":
        return [torch.cat(a, attr(node, "axis", 0))]
    if op == "Slice":
        x = a[0]
        starts, ends = a[1].tolist(), a[2].tolist()
        axes = a[3].tolist() if len(a) > 3 and a[3] is not None else list(range(len(starts)))
        steps = a[4].tolist() if len(a) > 4 and a[4] is not None else [1] * len(starts)
        index = [slice(None)] * x.dim()
        for st, en, ax, sp in zip(starts, ends, axes, steps):
            if sp != 1:
                raise ValueError("Slice steps other than 1 are not in the twin")
            d = x.shape[ax]
            index[ax] = slice(max(min(st + d if st < 0 else st, d), 0), max(min(en + d if en < 0 else en, d), 0))
        return [x[tuple(index)]]
    if op == "ReduceSum":
        axes = [int(v) for v in a[1].tolist()] if len(a) > 1 and a[1] is not None else list(range(a[0].dim()))
        return [a[0].sum(dim=axes, keepdim=bool(attr(node, "keepdims", 1)))]
    if op == "Pad":
        if attr(node, "mode", "constant") != "constant":
            raise ValueError("Pad modes other than constant are not in the twin")
        pads = [int(v) for v in a[1].tolist()]
        n = len(pads) // 2
        amounts = []
        for i in reversed(range(n)):
            amounts += [pads[i], pads[i + n]]
        value = float(a[2]) if len(a) > 2 and a[2] is not None else 0.0
        return [F.pad(a[0], amounts, value=value)]
    if op == "AveragePool":
        k = attr(node, "kernel_shape")
        pads = attr(node, "pads", [0] * (2 * len(k)))
        if pads[: len(k)] != pads[len(k):] or attr(node, "ceil_mode", 0):
            raise ValueError("asymmetric or ceil-mode AveragePool is not in the twin")
        return [F.avg_pool2d(a[0], k, attr(node, "strides", k), pads[: len(k)], False, bool(attr(node, "count_include_pad", 0)))]
    if op == "Resize":
        if attr(node, "mode", "nearest") != "nearest":
            raise ValueError("Resize modes other than nearest are not in the twin")
        scales = a[2].tolist() if len(a) > 2 and a[2] is not None and a[2].numel() > 0 else None
        if scales is None or any(abs(v - round(v)) > 1e-6 for v in scales):
            raise ValueError("only integer nearest upscaling is in the twin")
        return [F.interpolate(a[0], scale_factor=tuple(scales[2:]), mode="nearest")]
    if op == "BatchNormalization":
        x, scale, bias, mean, var = a[:5]
        return [F.batch_norm(x, mean, var, scale, bias, False, 0.0, attr(node, "epsilon", 1e-5))]
    if op in ("Conv", "ConvTranspose"):
        x, w = a[0], a[1]
        b = a[2] if len(a) > 2 else None
        n = x.dim() - 2
        strides = attr(node, "strides", [1] * n)
        dilations = attr(node, "dilations", [1] * n)
        group = attr(node, "group", 1)
        pads = attr(node, "pads", [0] * (2 * n))
        if attr(node, "auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
            raise ValueError("auto_pad SAME is not in the twin")
        fn = {("Conv", 1): F.conv1d, ("Conv", 2): F.conv2d, ("ConvTranspose", 1): F.conv_transpose1d, ("ConvTranspose", 2): F.conv_transpose2d}[(op, n)]
        if op == "Conv":
            sym, extra = conv_pads(pads, n)
            if extra is not None:
                x = F.pad(x, extra)
            return [fn(x, w, b, strides, sym, dilations, group)]
        if pads[:n] != pads[n:]:
            raise ValueError("asymmetric ConvTranspose pads are not in the twin")
        return [fn(x, w, b, strides, pads[:n], attr(node, "output_padding", [0] * n), group, dilations)]
    raise ValueError(f"operator {op} is not in the PyTorch twin")


def blas_libraries():
    """The BLAS/LAPACK libraries this process has loaded (reference BLAS makes PyTorch's CPU convolutions several times slower)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "blas" in line or "lapack" in line or "mkl" in line}
    return sorted(p for p in paths if p.startswith("/"))


def main():
    job, tensor = load_job(sys.argv[1])
    torch.set_num_threads(job["threads"])
    torch.set_grad_enabled(True)
    G = Model(job["generator"], tensor)
    D = Model(job["discriminator"], tensor)
    prior_normal = job["prior"] == "normal"

    def log_ratio(z):
        d = D(G(z)).reshape(-1)
        if job["d_output"] == "probability":
            p = d.clamp(1e-7, 1 - 1e-7)
            d = torch.log(p) - torch.log1p(-p)
        return d

    golden_z = torch.from_numpy(np.load(job["golden_z"]).astype(np.float32))
    golden = np.load(job["golden_logit"]).reshape(-1)
    with torch.no_grad():
        got = D(G(golden_z)).reshape(-1).numpy()
    check = float(np.max(np.abs(got - golden)) / max(np.max(np.abs(golden)), 1e-30))
    ready = {"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_libraries(), "golden_logit_rel_error": check}
    print(json.dumps(ready), flush=True)

    latents = {int(k): tensor(v) for k, v in job["latents"].items()}
    for line in sys.stdin:
        what, batch, runs = line.split()
        z0 = latents[int(batch)]
        times = []
        for _ in range(int(runs)):
            t0 = time.perf_counter()
            if what == "grad":
                z = z0.detach().requires_grad_(True)
                lr = log_ratio(z)
                energy = (0.5 * (z * z).sum(1) - lr) if prior_normal else -lr
                (grad,) = torch.autograd.grad(energy.sum(), z)
                energy.detach().numpy(), grad.numpy()
            else:
                with torch.no_grad():
                    log_ratio(z0).numpy()
            times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"ms": times}), flush=True)


if __name__ == "__main__":
    main()
