#!/usr/bin/env bash
# The GPU checks of issue 14 in one run: the torch tests on CUDA and the
# MNIST CNN measurements. Results and logs go to $OUT (default ./gpu_out).
# MNIST must be cached under .gl/mnist (copy ~/scikit_learn_data/pseudo_sklearn
# there); run from the repository root:  bash benchmarks/gpu_check.sh
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 SCIKIT_LEARN_DATA="$PWD/.gl/mnist"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total --format=csv > "$OUT/gpu.txt" 2>&1
python -c "import torch; print(torch.__version__, torch.cuda.get_device_name())" \
  >> "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"
B="python benchmarks/mnist_cnn.py --threads 4"

# 1. Seed 0 alone: the full protocol with CUDA graphs, then ours eager and the
#    plain loop for 3 passes each after the same T1=100 warm-up (throughput).
timeout ${T_SEED0:-130} $B --seeds 0 --variants graphs eager plain \
  --compare-passes 3 --out "$OUT/seed0" > "$OUT/seed0.log" 2>&1
echo "seed 0 rc=$?"; tail -8 "$OUT/seed0.log"

# 2. Seeds 1 and 2 side by side (accuracy only), with the CUDA tests beside them.
timeout ${T_SEEDS:-100} $B --seeds 1 --variants graphs --out "$OUT/seed1" \
  > "$OUT/seed1.log" 2>&1 &
S1=$!
timeout ${T_SEEDS:-100} $B --seeds 2 --variants graphs --out "$OUT/seed2" \
  > "$OUT/seed2.log" 2>&1 &
S2=$!
timeout ${T_TESTS:-100} python -m pytest tests/torch -q -p no:cacheprovider \
  -W "ignore::DeprecationWarning" > "$OUT/pytest.log" 2>&1
echo "pytest rc=$?"; tail -25 "$OUT/pytest.log"
wait $S1; echo "seed 1 rc=$?"; tail -3 "$OUT/seed1.log"
wait $S2; echo "seed 2 rc=$?"; tail -3 "$OUT/seed2.log"

# 3. amp and compile, with and without graphs, vs fp32 eager: 3 passes after a
#    5-epoch warm-up (throughput only), in one run.
timeout ${T_AMP:-160} $B --seeds 0 --T1 5 --epochs 3 --variants eager eager+amp \
  eager+compile eager+amp+compile graphs graphs+amp graphs+compile plain \
  --out "$OUT/amp_compile" > "$OUT/amp_compile.log" 2>&1
echo "amp/compile rc=$?"; tail -12 "$OUT/amp_compile.log"
