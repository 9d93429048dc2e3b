#!/usr/bin/env bash
# Pretrain on a lent GPU machine (JAX, no TensorFlow, no aeon, nothing reachable outside it) and put each run's
# folder, tarred, under $OUT. It runs in the repository's root there; it needs what the developer carries:
#   .whl/      keras, namex and optree wheels for Python 3.12 (the machine has JAX, NumPy, h5py, scikit-learn, pandas)
#   .devdata/  the sources' folders of the UCR archive (UCRArchive_2018/<name>/) and splits.json beside them
# Usage: bash builders/gpu_pretrain.sh NAME SECONDS RECIPE-ARGS... [-- NAME SECONDS RECIPE-ARGS...]
#   e.g. bash builders/gpu_pretrain.sh ctn_single 280 convtimenet --kernel-sizes 32 --filters 128
#   (ConvTimeNet takes --precision mixed_bfloat16 on an Ampere or later GPU: bfloat16 arithmetic, float32 weights)
# Each run is `python -m builders.RECIPE train --out runs/NAME ARGS` under `timeout SECONDS`; a run carried back in
# runs/NAME resumes from its checkpoint (--resume), so a run longer than one call continues in the next.
# GPU_PARALLEL=1 runs them side by side on the one GPU (each process allocates GPU memory as it needs it): small
# networks leave most of an H100 idle, so several runs take about the time of the longest.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
export PYTHONPATH="/tmp/site:$PWD" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export TSZOO_UCR_ROOT="$PWD/.devdata/UCRArchive_2018"
nvidia-smi -L
python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)" || exit 1
mkdir -p runs

run_one() {  # NAME SECONDS RECIPE ARGS...
    local name=$1 seconds=$2 recipe=$3
    shift 3
    local resume=()
    [ -f "runs/$name/checkpoints/latest" ] && resume=(--resume)
    local began
    began=$(date +%s)
    timeout "$seconds" python3 -m "builders.$recipe" train --out "runs/$name" "${resume[@]}" "$@" \
        > "runs/$name.log" 2>&1
    local rc=$?
    grep -E '^epoch=|trained|Error|error' "runs/$name.log" | tail -n 4 | cut -c1-220
    echo "$name: exit $rc after $(( $(date +%s) - began )) s"
    # the run folder and its log, without TensorBoard logs; the latest checkpoint (weights and optimizer state, to
    # resume) only for a run that did not finish: what comes back is at most 16 MiB a file
    local latest
    latest=$(cat "runs/$name/checkpoints/latest" 2>/dev/null)
    cp "runs/$name.log" "runs/$name/gpu.log"
    tar -cf "$OUT/$name.tar" -C runs --exclude logs --exclude 'ckpt-*' "$name"
    [ "$rc" != 0 ] && [ -n "$latest" ] && tar -rf "$OUT/$name.tar" -C runs "$name/checkpoints/$latest"
    # over 15 MiB: in parts (cat NAME.tar.part* > NAME.tar here)
    if [ "$(stat -c %s "$OUT/$name.tar")" -gt 15728640 ]; then
        split -b 15M "$OUT/$name.tar" "$OUT/$name.tar.part" && rm "$OUT/$name.tar"
    fi
}

[ "${GPU_PARALLEL:-0}" = 1 ] && export XLA_PYTHON_CLIENT_PREALLOCATE=false
while [ $# -gt 0 ]; do
    spec=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do spec+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    if [ "${GPU_PARALLEL:-0}" = 1 ]; then run_one "${spec[@]}" & else run_one "${spec[@]}"; fi
done
wait
ls -la "$OUT"
