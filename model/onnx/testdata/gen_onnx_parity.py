#!/usr/bin/python3
"""ONNX parity fixtures: torchvision-style nets exported with torch.onnx.export.

Usage: /usr/bin/python3 gen_onnx_parity.py [--full] [OUTDIR]
  default: small VGG-style and ResNet-style nets (reduced width), written to
           OUTDIR (default: this directory) as NAME.onnx, NAME_input.pb,
           NAME_output.pb (TensorProto, batch 2, seed 0).
  --full:  torchvision vgg16 and resnet18 (random init, 224x224) for the
           heavy tier (PRECONV_HEAVY=1), generated at test time; also
           NAME.pth (state dict) for the native .pth path comparison.
  --bench: torchvision mobilenet_v2 (224) and inception_v3 (299, no aux
           logits) for the heavy tier and the import benchmarks (also the
           onnxruntime peer: /work/shared/peers/ort_bench.js on the same file).

Reference: torch 1.13 (Debian python3-torch), eval mode, opset 13, dynamic
batch axis. The small ResNet flattens with x.view(x.size(0), -1) so the
export contains the Shape/Gather/Unsqueeze/Concat/Reshape pattern.
"""
import os, sys
import torch, torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock
from onnx import numpy_helper


class SmallResNet(nn.Module):
    """torchvision ResNet layout (conv1/bn1/maxpool/layer1-4/avgpool/fc) at widths 8..64."""

    def __init__(self, widths=(8, 16, 32, 64), classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, cin = [], widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or cin != w:
                down = nn.Sequential(nn.Conv2d(cin, w, 1, stride, bias=False), nn.BatchNorm2d(w))
            layers.append(nn.Sequential(BasicBlock(cin, w, stride, down), BasicBlock(w, w)))
            cin = w
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


def small_vgg():
    cfg = [16, "M", 32, "M", 32, 32, "M", 32, 32, "M"]
    feats = torchvision.models.vgg.make_layers(cfg, batch_norm=False)
    m = torchvision.models.vgg.VGG(feats, num_classes=10, init_weights=True)
    m.classifier = nn.Sequential(nn.Linear(32 * 7 * 7, 64), nn.ReLU(True), nn.Dropout(),
                                 nn.Linear(64, 64), nn.ReLU(True), nn.Dropout(), nn.Linear(64, 10))
    return m


def randomize_bn(m, g):
    # Non-trivial BN statistics so folding errors show.
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
            mod.weight.data.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
            mod.bias.data.copy_(torch.randn(mod.num_features, generator=g) * 0.1)


def export(name, m, size, out, pth=False):
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        randomize_bn(m, g)
        m.eval()
        x = torch.randn(2, 3, size, size, generator=g)
        y = m(x)
        if pth:
            # The same weights as a torch.save state dict, for the native .pth path.
            torch.save(m.state_dict(), os.path.join(out, name + ".pth"))
        torch.onnx.export(m, x, os.path.join(out, name + ".onnx"), input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=13)
    for suffix, t in (("input", x), ("output", y)):
        with open(os.path.join(out, "%s_%s.pb" % (name, suffix)), "wb") as f:
            f.write(numpy_helper.from_array(t.numpy()).SerializeToString())


def main():
    args = sys.argv[1:]
    full = "--full" in args
    bench = "--bench" in args
    args = [a for a in args if a not in ("--full", "--bench")]
    out = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(0)
    if bench:
        export("mobilenet_v2", torchvision.models.mobilenet_v2(), 224, out)
        export("inception_v3", torchvision.models.inception_v3(aux_logits=False, init_weights=True), 299, out)
    elif full:
        export("vgg16", torchvision.models.vgg16(), 224, out, pth=True)
        export("resnet18", torchvision.models.resnet18(), 224, out, pth=True)
    else:
        export("small_vgg", small_vgg(), 112, out)
        export("small_resnet", SmallResNet(), 64, out)


if __name__ == "__main__":
    main()
