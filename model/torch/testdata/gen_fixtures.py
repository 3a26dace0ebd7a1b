#!/usr/bin/python3
"""Fixtures for model/torch tests (torch 1.13, Debian python3-torch).

Run from the repository root:  /usr/bin/python3 model/torch/testdata/gen_fixtures.py
Writes into model/torch/testdata/:
  dtypes.pth, dtypes_legacy.pth  state dict with float32, float16, bfloat16, float64, int64 tensors,
                                 a transposed (strided) view, a view with storage offset, a scalar,
                                 an empty tensor, and two tensors sharing one storage
  dtypes.json                    expected values (as float32 after conversion, row-major)
  amplify.pth                    300 entries viewing one 1000-element storage (1.2 MB as float32)
  hostile.pth                    a zip .pth whose data.pkl calls os.system (must be refused)
  hostile_eval.pkl.pth           a legacy-style raw pickle calling builtins.eval
"""
import io, json, os, pickle, zipfile
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
base = torch.randn(4, 6)
sd = {
    "f32": torch.randn(3, 5),
    "f16": torch.randn(2, 3).half(),
    "bf16": torch.randn(2, 3).bfloat16(),
    "f64": torch.randn(5).double(),
    "i64": torch.tensor(12345, dtype=torch.int64),
    "transposed": base.t(),            # stride (1, 6)
    "offset_view": base[1:3, 2:5],     # storage offset 8, stride (6, 1)
    "shared_full": base,               # shares storage with the two views above
    "empty": torch.zeros(0, 3),
    "scalar": torch.tensor(2.5),
}
torch.save(sd, os.path.join(HERE, "dtypes.pth"))
torch.save(sd, os.path.join(HERE, "dtypes_legacy.pth"), _use_new_zipfile_serialization=False)
exp = {k: {"shape": list(v.shape), "values": [float(x) for x in v.float().reshape(-1).tolist()]} for k, v in sd.items()}
with open(os.path.join(HERE, "dtypes.json"), "w") as f:
    json.dump({"generator": "model/torch/testdata/gen_fixtures.py", "torch": torch.__version__, "tensors": exp}, f)

big = torch.randn(1000)
torch.save({"t%d" % i: big for i in range(300)}, os.path.join(HERE, "amplify.pth"))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/preconv_pwned",))


class EvalEvil:
    def __reduce__(self):
        import builtins
        return (builtins.eval, ("1+1",))


# A zip laid out like torch.save's, with a malicious data.pkl.
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
    z.writestr("hostile/data.pkl", pickle.dumps({"weight": Evil()}, protocol=2))
    z.writestr("hostile/version", "3\n")
with open(os.path.join(HERE, "hostile.pth"), "wb") as f:
    f.write(buf.getvalue())
with open(os.path.join(HERE, "hostile_eval.pkl.pth"), "wb") as f:
    f.write(pickle.dumps({"weight": EvalEvil()}, protocol=2))
print("ok")
