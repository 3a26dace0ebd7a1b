#!/usr/bin/python3
"""Small ResNet parity fixtures from torchvision's own BasicBlock / Bottleneck (torch 1.13).

Run from the repository root:
    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 model/testdata/gen_resnet_parity.py

torchvision's ResNet class hard-codes widths 64..512, so this script assembles the
same module tree (conv1, bn1, relu, maxpool, layer1..4 of torchvision blocks with
torchvision's downsample rule, avgpool, fc) at reduced widths; state-dict names
match torchvision's. Writes into model/testdata/:
    <name>.pth, <name>_io.bin, <name>_io.json   (same layout as gen_vgg_parity.py)
for "resnets_basic" (BasicBlock, layers [2,1,1,1], widths 8,16,32,64) and
"resnets_bottleneck" (Bottleneck, layers [1,2,1,1], widths 4,8,16,32).
"""
import json, os
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1

HERE = os.path.dirname(os.path.abspath(__file__))


class SmallResNet(nn.Module):
    def __init__(self, block, layers, widths, stem, num_classes):
        super().__init__()
        self.inplanes = stem
        self.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for i, (n, w) in enumerate(zip(layers, widths)):
            setattr(self, "layer%d" % (i + 1), self._make_layer(block, w, n, 1 if i == 0 else 2))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[-1] * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):  # as torchvision's ResNet._make_layer
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def main():
    specs = [("resnets_basic", BasicBlock, [2, 1, 1, 1], [8, 16, 32, 64], 8, 1),
             ("resnets_bottleneck", Bottleneck, [1, 2, 1, 1], [4, 8, 16, 32], 8, 2)]
    for name, block, layers, widths, stem, seed in specs:
        torch.manual_seed(seed)
        m = SmallResNet(block, layers, widths, stem, 10)
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.data = torch.rand(mod.num_features) + 0.5
                mod.bias.data = torch.randn(mod.num_features) * 0.1
                mod.running_mean = torch.randn(mod.num_features) * 0.1
                mod.running_var = torch.rand(mod.num_features) + 0.5
        m.eval()
        torch.save(m.state_dict(), os.path.join(HERE, name + ".pth"))
        x = torch.randn(2, 3, 32, 32)
        taps = ["layer1.0", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
        got = {}
        mods = dict(m.named_modules())
        for t in taps:
            mods[t].register_forward_hook(lambda mod, i, o, t=t: got.__setitem__(t, o.detach().clone()))
        with torch.no_grad():
            m(x)
        index = {"generator": "model/testdata/gen_resnet_parity.py", "torch": torch.__version__,
                 "block": block.__name__, "layers": layers, "widths": widths, "stem": stem, "classes": 10,
                 "input": {"shape": list(x.shape), "offset": 0}, "taps": {}}
        chunks, off = [x], x.numel()
        for t in taps:
            index["taps"][t] = {"shape": list(got[t].shape), "offset": off}
            chunks.append(got[t])
            off += got[t].numel()
        with open(os.path.join(HERE, name + "_io.bin"), "wb") as f:
            for c in chunks:
                f.write(c.numpy().astype("<f4").tobytes())
        with open(os.path.join(HERE, name + "_io.json"), "w") as f:
            json.dump(index, f, indent=1)
        print("wrote", name, sum(p.numel() for p in m.parameters()), "params")


if __name__ == "__main__":
    main()
