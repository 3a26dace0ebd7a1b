#!/usr/bin/env bash
# Decode + torchvision preprocessing, images/s on one core: preconv (Go benchmark) next to PIL + torchvision
# (/work/shared/peers/pil_preprocess.py, or the copy in the CPU-time variant below) in the same run, same files,
# both pinned to one CPU. Prints wall-clock and CPU-time rates and the ratios. Needs Debian darknet,
# python3-torchvision, python3-pil. Usage: imageset/testdata/bench_preprocess.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-2}
cpu=${BENCH_CPU:-0}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# The 500x375 q90 JPEG (libjpeg 4:2:0) made from darknet's dog.jpg.
/usr/bin/python3 -c "
from PIL import Image
Image.open('/usr/share/darknet/data/dog.jpg').convert('RGB').resize((500, 375), Image.BILINEAR).save('$tmp/dog500x375q90.jpg', quality=90)"
go test -c -o "$tmp/imageset.test" . >/dev/null
peer=/work/shared/peers/pil_preprocess.py
cat > "$tmp/pil_cpu.py" <<'PY'
# Same pipeline as peers/pil_preprocess.py, timed by wall clock and by process CPU time.
import sys, time, torch
from PIL import Image
from torchvision import transforms as T
torch.set_num_threads(1)
files = sys.argv[1:]
tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
for f in files: tf(Image.open(f).convert('RGB'))
n = 0; t0 = time.perf_counter(); c0 = time.process_time()
while time.perf_counter() - t0 < 3:
    for f in files: tf(Image.open(f).convert('RGB')); n += 1
print(f"{n/(time.perf_counter()-t0):.1f} {n/(time.process_time()-c0):.1f}")
PY
run_set() { # name files...
  local name=$1; shift
  local g p
  for r in $(seq "$rounds"); do
    g=$(cd "$tmp" && PRECONV_BENCH_FILES="$*" GOMAXPROCS=1 taskset -c "$cpu" ./imageset.test -test.run '^$' \
        -test.bench 'DecodePreprocess/all$' -test.benchtime 3s | awk '/img\/s/ {for(i=1;i<=NF;i++){if($(i+1)=="img/cpu-s")c=$i; if($(i+1)=="img/s")w=$i}; print w, c}')
    p=$(taskset -c "$cpu" /usr/bin/python3 "$tmp/pil_cpu.py" "$@")
    read -r gw gc <<<"$g"; read -r pw pc <<<"$p"
    printf '%-22s round %d: preconv %6.1f img/s (%6.1f img/cpu-s)   PIL+torchvision %6.1f img/s (%6.1f img/cpu-s)   ratio wall %.2f, cpu %.2f\n' \
      "$name" "$r" "$gw" "$gc" "$pw" "$pc" "$(echo "$gw/$pw" | bc -l)" "$(echo "$gc/$pc" | bc -l)"
  done
}
run_set "500x375 q90 JPEG" "$tmp/dog500x375q90.jpg"
run_set "darknet photos (7)" /usr/share/darknet/data/*.jpg
echo "official peer script, same CPU:"
taskset -c "$cpu" /usr/bin/python3 "$peer" "$tmp/dog500x375q90.jpg"
taskset -c "$cpu" /usr/bin/python3 "$peer"
