"""Export the operator zoo: discriminators built from the layers PyTorch users put in their models,
exported by torch.onnx.export at opset 11 (12 where einsum and celu need it) and 17, with PyTorch's own outputs and input gradients.

    /usr/bin/python3 scripts/export_zoo.py      (Debian's python3-torch, 1.13)

writes test/fixtures/zoo/<model>-opset<k>/{discriminator.onnx, x.npy, logit.npy, grad_x.npy}
(float32, batch 4; grad_x = d/dx sum_i D(x_i)). src/onnx/zoo.test.ts checks Refinery's forward pass
and gradient against them. Random weights (fixed seeds); eval mode.
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "zoo")
BATCH = 4


class Attention(nn.Module):
    """Token critic: LayerNorm, GELU, einsum self-attention, logsumexp and amax pooling, Gather, Tile, norm."""

    shape = (8, 16)

    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(16, 32)
        self.norm = nn.LayerNorm(32)
        self.q = nn.Linear(32, 32)
        self.k = nn.Linear(32, 32)
        self.v = nn.Linear(32, 32)
        self.out = nn.Linear(32 * 3 + 1, 1)

    def forward(self, x):
        h = F.gelu(self.norm(self.inp(x)))
        q, k, v = self.q(h), self.k(h), self.v(h)
        a = torch.softmax(torch.einsum("bid,bjd->bij", q, k) / 32 ** 0.5, dim=-1)
        h = h + torch.einsum("bij,bjd->bid", a, v)
        pooled = torch.logsumexp(h, dim=1)
        peak = torch.amax(h.repeat(1, 2, 1), dim=1)
        first = h[:, 0]
        size = torch.norm(x, dim=(1, 2)).unsqueeze(1)
        return self.out(torch.cat([pooled, peak, first, size], dim=1))


class ConvNet(nn.Module):
    """Image critic: GroupNorm, SiLU, depthwise conv, InstanceNorm, PReLU, bilinear and bicubic resizing, reflection padding, flip, Hardswish, zero padding."""

    shape = (3, 12, 12)

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.gn = nn.GroupNorm(2, 8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.prelu = nn.PReLU(8)
        self.c2 = nn.Conv2d(8, 16, 4, stride=2, padding=1)
        self.c3 = nn.Conv2d(16, 16, 3, groups=4)
        self.fc = nn.Linear(16 * 5 * 5, 1)

    def forward(self, x):
        h = F.silu(self.gn(self.c1(x)))
        h = self.prelu(self.inorm(self.dw(h)))
        h = F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False)
        h = F.pad(h, (1, 1, 0, 1), mode="reflect")
        h = torch.flip(F.hardswish(self.c2(h)), dims=[3])
        h = F.interpolate(h, size=(9, 7), mode="bicubic", align_corners=True)
        h = F.pad(h, (0, 1, 1, 0))
        h = F.avg_pool2d(F.elu(self.c3(h)), 2, ceil_mode=False, count_include_pad=True)
        h = F.interpolate(h, size=(5, 5), mode="nearest")
        return self.fc(h.flatten(1))


class Activations(nn.Module):
    """Vector critic: SELU, CELU, ELU, Hardsigmoid, Mish, Softplus, clamp, sqrt and powers."""

    shape = (8,)

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(8, 24)
        self.l2 = nn.Linear(24, 24)
        self.l3 = nn.Linear(24, 24)
        self.l4 = nn.Linear(24, 24)
        self.l5 = nn.Linear(24, 1)

    def forward(self, x):
        h = F.selu(self.l1(x))
        h = F.celu(self.l2(h), alpha=0.5)
        h = F.hardsigmoid(F.elu(self.l3(h))) + F.mish(h)
        h = F.softplus(self.l4(h)).clamp(0.1, 2.0)
        h = torch.sqrt(h) + h.pow(3) / 3
        return self.l5(h)


# Model and the opsets it is exported at (einsum and celu exist from opset 12).
MODELS = {"attention": (Attention, (12, 17)), "convnet": (ConvNet, (11, 17)), "activations": (Activations, (12, 17))}


def save(path, a):
    np.save(path, np.ascontiguousarray(a, dtype="<f4"))


def main():
    torch.set_num_threads(1)
    for seed, (name, (cls, opsets)) in enumerate(MODELS.items()):
        torch.manual_seed(100 + seed)
        model = cls().eval()
        for p in model.parameters():
            if p.dim() == 1 and p.numel() > 1:
                # Non-trivial affine parameters (PyTorch initialises norms to 1 and 0).
                p.data.uniform_(0.5, 1.5)
        x = torch.randn(BATCH, *cls.shape)
        x.requires_grad_(True)
        logit = model(x)
        (grad,) = torch.autograd.grad(logit.sum(), x)
        for opset in opsets:
            folder = os.path.join(OUT, f"{name}-opset{opset}")
            os.makedirs(folder, exist_ok=True)
            torch.onnx.export(
                model,
                x.detach(),
                os.path.join(folder, "discriminator.onnx"),
                input_names=["x"],
                output_names=["logit"],
                dynamic_axes={"x": {0: "batch"}, "logit": {0: "batch"}},
                opset_version=opset,
                do_constant_folding=True,
            )
            save(os.path.join(folder, "x.npy"), x.detach().numpy())
            save(os.path.join(folder, "logit.npy"), logit.detach().numpy().reshape(-1))
            save(os.path.join(folder, "grad_x.npy"), grad.numpy())
            print(folder)


if __name__ == "__main__":
    main()
