#!/usr/bin/python3
"""Reference outputs for nn op tests, from PyTorch (torch 1.13, Debian python3-torch).

Run from the repository root:  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 nn/testdata/gen_ops.py
Writes nn/testdata/ops.json: a list of cases {name, op, params, x, xshape, w?, b?, y, yshape}.
"""
import json, os
import torch
import torch.nn.functional as F

torch.manual_seed(0)
cases = []

def t(x):
    return [float(v) for v in x.detach().reshape(-1).tolist()]

def add(name, op, params, x, y, w=None, b=None, extra=None):
    c = dict(name=name, op=op, params=params, x=t(x), xshape=list(x.shape), y=t(y), yshape=list(y.shape))
    if w is not None:
        c["w"], c["wshape"] = t(w), list(w.shape)
    if b is not None:
        c["b"] = t(b)
    if extra:
        c.update(extra)
    cases.append(c)

def conv(name, n, cin, cout, h, w, k, stride=1, pad=(0, 0, 0, 0), dil=1, groups=1, bias=True):
    x = torch.randn(n, cin, h, w)
    wt = torch.randn(cout, cin // groups, k[0], k[1])
    b = torch.randn(cout) if bias else None
    xp = F.pad(x, (pad[1], pad[3], pad[0], pad[2]))  # F.pad order: left, right, top, bottom
    y = F.conv2d(xp, wt, b, stride=stride, dilation=dil, groups=groups)
    add(name, "conv", dict(k=list(k), stride=stride, pad=list(pad), dil=dil, groups=groups, cin=cin, cout=cout), x, y, wt, b)

conv("conv3x3_pad1", 2, 3, 5, 9, 7, (3, 3), pad=(1, 1, 1, 1))
conv("conv3x3_s2_pad1", 2, 4, 6, 9, 8, (3, 3), stride=2, pad=(1, 1, 1, 1))
conv("conv_asym_pad", 1, 3, 4, 8, 8, (3, 3), stride=2, pad=(0, 0, 1, 1))
conv("conv5x3_dil2", 2, 3, 4, 11, 10, (5, 3), pad=(2, 1, 2, 1), dil=2)
conv("conv_groups2", 2, 4, 6, 7, 7, (3, 3), pad=(1, 1, 1, 1), groups=2)
conv("conv_depthwise", 2, 6, 6, 9, 9, (3, 3), stride=2, pad=(1, 1, 1, 1), groups=6)
conv("conv_depthwise_mult2", 1, 3, 6, 8, 8, (3, 3), pad=(1, 1, 1, 1), groups=3, bias=False)
conv("conv1x1", 2, 8, 5, 6, 5, (1, 1))
conv("conv1x1_s2", 2, 8, 5, 6, 5, (1, 1), stride=2)
conv("conv7x7_s2_nobias", 1, 3, 4, 20, 18, (7, 7), stride=2, pad=(3, 3, 3, 3), bias=False)

def pool(name, kind, n, c, h, w, k, stride, pad, ceil, cip=True):
    x = torch.randn(n, c, h, w)
    if kind == "max":
        y = F.max_pool2d(x, k, stride, pad, ceil_mode=ceil)
    else:
        y = F.avg_pool2d(x, k, stride, pad, ceil_mode=ceil, count_include_pad=cip)
    add(name, kind + "pool", dict(k=k, stride=stride, pad=pad, ceil=ceil, cip=cip), x, y)

pool("maxpool2", "max", 2, 3, 8, 8, 2, 2, 0, False)
pool("maxpool2_odd", "max", 2, 3, 9, 7, 2, 2, 0, False)
pool("maxpool2_ceil", "max", 2, 3, 9, 7, 2, 2, 0, True)
pool("maxpool3_s2_p1", "max", 1, 2, 10, 11, 3, 2, 1, False)
pool("maxpool3_s2_ceil", "max", 1, 2, 10, 11, 3, 2, 0, True)
pool("maxpool3_s2_p1_ceil", "max", 1, 2, 10, 10, 3, 2, 1, True)
pool("avgpool2", "avg", 2, 3, 8, 8, 2, 2, 0, False)
pool("avgpool3_s2_p1", "avg", 1, 2, 9, 10, 3, 2, 1, False)
pool("avgpool3_s2_p1_nopad", "avg", 1, 2, 9, 10, 3, 2, 1, False, False)
pool("avgpool3_s2_ceil", "avg", 1, 2, 10, 11, 3, 2, 1, True)
pool("avgpool3_s2_ceil_nopad", "avg", 1, 2, 10, 11, 3, 2, 1, True, False)

for (h, w, oh, ow) in [(7, 7, 7, 7), (10, 9, 7, 7), (5, 13, 3, 4), (3, 3, 7, 7), (14, 14, 7, 7), (9, 6, 1, 1)]:
    x = torch.randn(2, 3, h, w)
    add("adaptive_%dx%d_to_%dx%d" % (h, w, oh, ow), "adaptive", dict(out=[oh, ow]), x, F.adaptive_avg_pool2d(x, (oh, ow)))

x = torch.randn(2, 4, 5, 6)
bn = torch.nn.BatchNorm2d(4, eps=1e-3)
bn.weight.data = torch.randn(4); bn.bias.data = torch.randn(4)
bn.running_mean = torch.randn(4); bn.running_var = torch.rand(4) + 0.5
bn.eval()
add("batchnorm", "batchnorm", dict(eps=1e-3), x, bn(x),
    extra=dict(gamma=t(bn.weight), beta=t(bn.bias), mean=t(bn.running_mean), var=t(bn.running_var)))

x = torch.randn(3, 10)
lin = torch.nn.Linear(10, 7)
add("linear", "linear", {}, x, lin(x), lin.weight, lin.bias)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.json")
with open(out, "w") as f:
    json.dump(dict(generator="nn/testdata/gen_ops.py", torch=torch.__version__, cases=cases), f)
print("wrote", out, len(cases), "cases")
