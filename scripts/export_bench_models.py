"""Export the bench's larger image GANs, in the conventions of ../shared/fixtures/onnx (gen.py):

  resnet32/  SNGAN-style ResNet 32x32 (Miyato et al. 2018): G z(128) -> 4x4xch -> 3 up-blocks
             (BatchNorm, ReLU, nearest 2x upsampling, 3x3 convs, 1x1 shortcut) -> BN, ReLU, conv, tanh;
             D: an optimized first block, 3 down-blocks (ReLU, 3x3 convs, 2x2 average pooling,
             1x1 shortcut), ReLU, global sum, linear. ch = 64.
  sagan32/   DCGAN 32x32 (widths 4ch, 2ch, ch) with a SAGAN self-attention block (Zhang et al. 2019)
             at 16x16 in G and D.

Random weights (fixed seeds), eval mode, opset 13, batch axis dynamic. Writes generator.onnx,
discriminator.onnx, meta.json, z.npy and logit.npy (batch 16) into test/fixtures/bench/<name>/.

    /usr/bin/python3 scripts/export_bench_models.py     (Debian: python3-torch)
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "bench")
CH = 64
LATENT = 128


class GBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.b1 = nn.BatchNorm2d(cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.b2 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.sc = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = F.interpolate(F.relu(self.b1(x)), scale_factor=2, mode="nearest")
        h = self.c2(F.relu(self.b2(self.c1(h))))
        return h + self.sc(F.interpolate(x, scale_factor=2, mode="nearest"))


class DBlock(nn.Module):
    def __init__(self, cin, cout, first=False):
        super().__init__()
        self.first = first
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.sc = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = x if self.first else F.relu(x)
        h = F.avg_pool2d(self.c2(F.relu(self.c1(h))), 2)
        # The shortcut: 1x1 conv and 2x2 average pooling (both linear, so their order is immaterial).
        return h + self.sc(F.avg_pool2d(x, 2))


class ResNetG(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(LATENT, 4 * 4 * CH)
        self.blocks = nn.Sequential(GBlock(CH, CH), GBlock(CH, CH), GBlock(CH, CH))
        self.bn = nn.BatchNorm2d(CH)
        self.out = nn.Conv2d(CH, 3, 3, padding=1)

    def forward(self, z):
        h = self.l1(z).view(-1, CH, 4, 4)
        return torch.tanh(self.out(F.relu(self.bn(self.blocks(h)))))


class ResNetD(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(DBlock(3, CH, first=True), DBlock(CH, CH), DBlock(CH, CH), DBlock(CH, CH))
        self.l = nn.Linear(CH, 1)

    def forward(self, x):
        h = F.relu(self.blocks(x))
        return self.l(h.sum(dim=(2, 3)))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.q = nn.Conv2d(c, c // 8, 1)
        self.k = nn.Conv2d(c, c // 8, 1)
        self.v = nn.Conv2d(c, c, 1)
        self.gamma = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        b, c, h, w = x.shape
        q = self.q(x).flatten(2).transpose(1, 2)
        k = self.k(x).flatten(2)
        a = torch.softmax(torch.bmm(q, k), dim=-1)
        v = self.v(x).flatten(2)
        o = torch.bmm(v, a.transpose(1, 2)).view(b, c, h, w)
        return x + self.gamma * o


class SaganG(nn.Module):
    def __init__(self):
        super().__init__()
        self.net1 = nn.Sequential(
            nn.ConvTranspose2d(LATENT, 4 * CH, 4), nn.BatchNorm2d(4 * CH), nn.ReLU(),
            nn.ConvTranspose2d(4 * CH, 2 * CH, 4, 2, 1), nn.BatchNorm2d(2 * CH), nn.ReLU(),
            nn.ConvTranspose2d(2 * CH, CH, 4, 2, 1), nn.BatchNorm2d(CH), nn.ReLU(),
        )
        self.attn = SelfAttention(CH)
        self.out = nn.ConvTranspose2d(CH, 3, 4, 2, 1)

    def forward(self, z):
        return torch.tanh(self.out(self.attn(self.net1(z.view(-1, LATENT, 1, 1)))))


class SaganD(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, CH, 4, 2, 1)
        self.attn = SelfAttention(CH)
        self.net = nn.Sequential(
            nn.Conv2d(CH, 2 * CH, 4, 2, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(2 * CH, 4 * CH, 4, 2, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(4 * CH, 1, 4),
        )

    def forward(self, x):
        return self.net(self.attn(F.leaky_relu(self.c1(x), 0.1))).view(-1, 1)


def export(name, G, D, seed, description):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(seed)
    G, D = G.eval(), D.eval()
    for m in list(G.modules()) + list(D.modules()):
        if isinstance(m, nn.BatchNorm2d):
            # Non-trivial running statistics, as a trained model has.
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    z = torch.randn(16, LATENT)
    with torch.no_grad():
        logit = D(G(z)).reshape(-1)
    common = dict(opset_version=13, do_constant_folding=True)
    torch.onnx.export(G, z, os.path.join(folder, "generator.onnx"), input_names=["z"], output_names=["x"],
                      dynamic_axes={"z": {0: "batch"}, "x": {0: "batch"}}, **common)
    torch.onnx.export(D, G(z).detach(), os.path.join(folder, "discriminator.onnx"), input_names=["x"], output_names=["logit"],
                      dynamic_axes={"x": {0: "batch"}, "logit": {0: "batch"}}, **common)
    np.save(os.path.join(folder, "z.npy"), z.numpy().astype("<f4"))
    np.save(os.path.join(folder, "logit.npy"), logit.numpy().astype("<f4"))
    meta = {"latent_dim": LATENT, "latent_prior": "normal", "data_shape": [3, 32, 32], "d_output": "logit", "output_range": [-1, 1],
            "description": description}
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(folder)


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    export("resnet32", ResNetG(), ResNetD(), 11, "SNGAN-style ResNet 32x32, ch 64: BatchNorm and nearest upsampling in G, average pooling in D; random weights")
    torch.manual_seed(2)
    export("sagan32", SaganG(), SaganD(), 12, "DCGAN 32x32 with SAGAN self-attention at 16x16 in G and D; random weights")


if __name__ == "__main__":
    main()
