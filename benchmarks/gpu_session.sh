#!/usr/bin/env bash
# Issues 14 and 15's open GPU measurements in one device call of under 8
# minutes (a session's GPU time is short), each step cut by its own timeout:
#   1. FixMatch eager vs FixMatch with its step captured as a CUDA graph
#      (cuda_graphs=True): 1000 labels, seed 0, 10 passes each, one fit at a
#      time, so that the fit times compare (about 1 minute);
#   2. FixMatch with graphs, the full protocol (80 passes), 1000 and 100
#      labels, seeds 0 1 2, six fits sharing the GPU, with accuracy curves
#      (stopped after 220 s), and `pytest tests/torch` beside it;
#   3. Lee's full protocol with graphs, seeds 0 1 2 (the 98.5% line).
# The amp/compile table of gpu_check.sh was measured in an earlier session and
# is left out. MNIST cached under .gl/mnist (see gpu_check.sh); results under
# $OUT. Run from the repository root:  bash benchmarks/gpu_session.sh
#
# `bash benchmarks/gpu_session.sh long` (a second call, about 4 minutes, once
# the first has shown the captured step works) runs the trial fixed before
# any result of it was seen: 1000 labels, seeds 0 1 2, 200 passes instead of
# the protocol's 80 (on the H100, 80 passes gave 99.14% and 120 gave 99.19%;
# with graphs 200 passes should still fit in 2 minutes per fit). Its accuracy
# has since been measured on 2 CPU cores (--device cpu, eager): 99.24 +- 0.06%
# (99.15 99.27 99.30), 46 minutes per fit; this call measures the GPU's time.
set -u
T0=$SECONDS
R=${OUT:-gpu_out}
mkdir -p "$R"
export PYTHONUNBUFFERED=1 SCIKIT_LEARN_DATA="$PWD/.gl/mnist"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$R/env.txt" 2>&1
python -c "import torch; print('torch', torch.__version__)" >> "$R/env.txt" 2>&1
F="python benchmarks/mnist_fixmatch.py"

if [[ "${1:-}" == "long" ]]; then
    # One fit at a time, so that each fit's time is its own; a fit that the
    # timeout stops still leaves the earlier seeds' lines in long.log.
    timeout 290 $F --labels 1000 --seeds 0 1 2 --methods fixmatch-graphs --epochs 200 \
        --threads 8 --out "$R/long" > "$R/long.log" 2>&1
    echo "long rc=$? at $((SECONDS - T0))s"
    grep "labels seed" "$R/long.log"
    grep -A3 "^labels" "$R/long.log"
    exit 0
fi

timeout 150 $F --labels 1000 --seeds 0 --methods fixmatch fixmatch-graphs \
    --epochs 10 --threads 4 --out "$R/speed" > "$R/speed.log" 2>&1
echo "speed rc=$? at $((SECONDS - T0))s"
grep -A4 "^labels" "$R/speed.log"
grep -h "cuda_graphs\|UserWarning" "$R/speed.log" | head -5

(
    OMP_NUM_THREADS=2 timeout 150 python -m pytest tests/torch -q -p no:cacheprovider \
        -W "ignore::DeprecationWarning" > "$R/pytest_torch.log" 2>&1
    echo "pytest rc=$?" >> "$R/pytest_torch.log"
) &
tests=$!
timeout 260 $F --labels 1000 100 --seeds 0 1 2 --methods fixmatch-graphs --jobs 6 \
    --threads 2 --budget 220 --curve --out "$R/fixmatch" > "$R/fixmatch.log" 2>&1
echo "fixmatch-graphs rc=$? at $((SECONDS - T0))s"
grep -A4 "^labels" "$R/fixmatch.log"
wait $tests
tail -4 "$R/pytest_torch.log"

left=$((470 - (SECONDS - T0)))
if ((left > 60)); then
    timeout $left python benchmarks/mnist_cnn.py --threads 4 --seeds 0 1 2 \
        --variants graphs --out "$R/lee" > "$R/lee.log" 2>&1
    echo "lee rc=$? at $((SECONDS - T0))s"
    tail -6 "$R/lee.log"
else
    echo "no time left for Lee's seeds ($left s)"
fi
