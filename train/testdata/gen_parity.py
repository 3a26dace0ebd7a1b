#!/usr/bin/python3
"""PyTorch reference for train/parity_test.go. Run with Debian's torch 1.13:

    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 train/testdata/gen_parity.py > train/testdata/parity.json

Model: Sequential(Linear(8,16), BatchNorm1d(16), ReLU, Linear(16,3)) -- the
head "mlp" preset with hidden [16], batch_norm, no dropout -- in train mode.
Data: 64 items, fixed order, batches of 16 taken in sequence (step s uses items
16*(s%4) .. 16*(s%4)+15). For each optimizer config, 100 steps from the same
initial weights; we record the loss of each step (before the update) and the
final state dict. Also the LR (and momentum) sequences of torch's schedulers.
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_num_threads(1)
X = torch.randn(64, 8)
Y = torch.randint(0, 3, (64,))


def make():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


def sd(m):
    return {k: v.detach().reshape(-1).tolist() for k, v in m.state_dict().items() if k != "1.num_batches_tracked"}


init = sd(make())

configs = {
    "sgd": dict(opt="sgd", lr=0.05, momentum=0.9),
    "sgd_nesterov_wd": dict(opt="sgd", lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "adam": dict(opt="adam", lr=0.01),
    "adamw": dict(opt="adamw", lr=0.01, weight_decay=0.1),
    "sgd_ls_cw_clip": dict(opt="sgd", lr=0.1, momentum=0.9, label_smoothing=0.1, class_weights=[1.0, 2.0, 0.5], clip=0.5),
    "sgd_onecycle": dict(opt="sgd", lr=0.1, momentum=0.9, schedule="onecycle"),
    "adam_wd": dict(opt="adam", lr=0.01, weight_decay=0.05),
}
STEPS = 100
out = {"X": X.reshape(-1).tolist(), "Y": Y.tolist(), "init": init, "steps": STEPS, "batch": 16, "configs": {}}
for name, c in configs.items():
    m = make()
    m.train()
    if c["opt"] == "sgd":
        opt = torch.optim.SGD(m.parameters(), lr=c["lr"], momentum=c["momentum"], nesterov=c.get("nesterov", False), weight_decay=c.get("weight_decay", 0))
    elif c["opt"] == "adam":
        opt = torch.optim.Adam(m.parameters(), lr=c["lr"], weight_decay=c.get("weight_decay", 0))
    else:
        opt = torch.optim.AdamW(m.parameters(), lr=c["lr"], weight_decay=c.get("weight_decay", 0))
    sched = None
    if c.get("schedule") == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=c["lr"], total_steps=STEPS)
    w = torch.tensor(c["class_weights"]) if "class_weights" in c else None
    losses = []
    for s in range(STEPS):
        b = s % 4
        xb, yb = X[16 * b:16 * b + 16], Y[16 * b:16 * b + 16]
        opt.zero_grad()
        loss = F.cross_entropy(m(xb), yb, weight=w, label_smoothing=c.get("label_smoothing", 0.0))
        loss.backward()
        if "clip" in c:
            torch.nn.utils.clip_grad_norm_(m.parameters(), c["clip"])
        opt.step()
        if sched:
            sched.step()
        losses.append(loss.item())
    out["configs"][name] = {"config": c, "losses": losses, "final": sd(m)}


def lrs(make_sched, n, base=0.1, mom=0.9):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base, momentum=mom)
    s = make_sched(opt)
    lr, mo = [], []
    for _ in range(n):
        lr.append(opt.param_groups[0]["lr"])
        mo.append(opt.param_groups[0]["momentum"])
        opt.step()
        s.step()
    return {"lr": lr, "momentum": mo}


out["schedules"] = {
    "step": lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 10),
    "cosine": lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 10),
    "onecycle": lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=50), 50),
}
print(json.dumps(out))
