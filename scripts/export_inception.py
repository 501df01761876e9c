"""Export an Inception-v3 feature extractor to ONNX, for `refinery eval --features`.

    python3 scripts/export_inception.py --size 32 --channels 3 --out inception.onnx [--weights pytorch-fid]

The exported graph takes your generator's images, x [batch, channels, size, size] with values in
[-1, 1], repeats a grey channel to RGB, resizes bilinearly to 299 x 299 and returns the 2048
features of Inception-v3's last average pool, [batch, 2048]: the features FID is computed in.

--weights pytorch-fid   the FID Inception weights of pytorch-fid (needs `pip install pytorch-fid`;
                        its weights are downloaded once by pytorch-fid): FIDs comparable with
                        published numbers.
--weights torchvision   torchvision's ImageNet Inception-v3 (downloaded once by torchvision);
                        close to, but not the same numbers as, the FID weights.
--weights random        random weights: only to check that the export works offline.

Needs PyTorch (e.g. Debian's python3-torch and python3-torchvision). Exported with opset 17 and a
dynamic batch axis, as Refinery reads it.
"""
import argparse

import torch
import torch.nn.functional as F


class Features(torch.nn.Module):
    """[-1, 1] images of any size -> RGB 299 x 299 in the network's input convention -> [batch, 2048]."""

    def __init__(self, net, convention, channels):
        super().__init__()
        self.net = net
        self.convention = convention
        self.channels = channels

    def forward(self, x):
        if self.channels == 1:
            x = x.repeat(1, 3, 1, 1)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        if self.convention == "imagenet":
            # torchvision's weights expect ImageNet-normalised [0, 1] images.
            x = (x + 1) / 2
            mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
            std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
            x = (x - mean) / std
            return self.net(x)
        # pytorch-fid's InceptionV3 takes [0, 1] and rescales to [-1, 1] itself; give it [-1, 1] directly.
        return self.net(x)[0].flatten(1)


def build(weights):
    if weights == "pytorch-fid":
        from pytorch_fid.inception import InceptionV3

        net = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]], resize_input=False, normalize_input=False)
        return net, "fid"
    import torchvision

    if weights == "torchvision":
        net = torchvision.models.inception_v3(weights=torchvision.models.Inception_V3_Weights.IMAGENET1K_V1, aux_logits=True)
    else:
        net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    net.fc = torch.nn.Identity()
    net.aux_logits = False
    net.AuxLogits = None
    return net, "imagenet"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, required=True, help="height and width of your images")
    p.add_argument("--channels", type=int, choices=[1, 3], default=3)
    p.add_argument("--weights", choices=["pytorch-fid", "torchvision", "random"], default="pytorch-fid")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    net, convention = build(a.weights)
    model = Features(net, convention, a.channels).eval()
    x = torch.zeros(2, a.channels, a.size, a.size)
    with torch.no_grad():
        assert model(x).shape == (2, 2048)
        torch.onnx.export(model, x, a.out, input_names=["x"], output_names=["features"], dynamic_axes={"x": {0: "batch"}, "features": {0: "batch"}}, opset_version=17)
    print(f"wrote {a.out}: x [batch, {a.channels}, {a.size}, {a.size}] in [-1, 1] -> features [batch, 2048]")


if __name__ == "__main__":
    main()
