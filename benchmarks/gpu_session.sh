#!/usr/bin/env bash
# Issues 14 and 15's GPU measurements in one device call of under 10 minutes
# (a session's GPU time is short): FixMatch vs Lee vs supervised with 1000 and
# 100 labels (gpu_fixmatch.sh, fits stopped after 255 s), `pytest tests/torch`
# beside its second wave, the amp/compile table of gpu_check.sh, then seed 0's
# full Lee protocol with graphs and the plain loop if time is left.
# MNIST cached under .gl/mnist (see gpu_check.sh); results under $OUT.
# Run from the repository root:  bash benchmarks/gpu_session.sh
set -u
T0=$SECONDS
R=${OUT:-gpu_out}
mkdir -p "$R"
export PYTHONUNBUFFERED=1 SCIKIT_LEARN_DATA="$PWD/.gl/mnist"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
(
    sleep 150
    OMP_NUM_THREADS=2 timeout 110 python -m pytest tests/torch -q -p no:cacheprovider \
        -W "ignore::DeprecationWarning" > "$R/pytest_torch.log" 2>&1
    echo "pytest rc=$?" >> "$R/pytest_torch.log"
) &
tests=$!
OUT="$R/fixmatch" BUDGET=255 CUDA_TESTS=0 timeout 320 bash benchmarks/gpu_fixmatch.sh \
    > "$R/fixmatch.log" 2>&1
echo "fixmatch rc=$? at $((SECONDS - T0))s"
grep -A10 "^labels" "$R/fixmatch.log"
wait $tests
tail -5 "$R/pytest_torch.log"
B="python benchmarks/mnist_cnn.py --threads 4"
timeout 200 $B --seeds 0 --T1 5 --epochs 3 --variants eager eager+amp eager+compile \
    eager+amp+compile graphs graphs+amp graphs+compile plain \
    --out "$R/amp_compile" > "$R/amp_compile.log" 2>&1
echo "amp/compile rc=$? at $((SECONDS - T0))s"
tail -12 "$R/amp_compile.log"
left=$((575 - (SECONDS - T0)))
if ((left > 60)); then
    timeout $left $B --seeds 0 --variants graphs plain --compare-passes 3 \
        --out "$R/seed0" > "$R/seed0.log" 2>&1
    echo "seed 0 rc=$? at $((SECONDS - T0))s"
    tail -5 "$R/seed0.log"
else
    echo "no time left for seed 0 ($left s)"
fi
