#!/usr/bin/env bash
# Pretrain on a lent GPU machine (JAX, no TensorFlow, no aeon, nothing reachable outside it) and put each run's
# folder, tarred, under $OUT. It runs in the repository's root there; it needs what the developer carries:
#   .whl/      keras, namex and optree wheels for Python 3.12 (the machine has JAX, NumPy, h5py, scikit-learn, pandas)
#   .devdata/  the sources' folders of the UCR archive (UCRArchive_2018/<name>/) and splits.json beside them
# Usage: bash builders/gpu_pretrain.sh NAME SECONDS RECIPE-ARGS... [-- NAME SECONDS RECIPE-ARGS...]
#   e.g. bash builders/gpu_pretrain.sh ctn_single 280 convtimenet --kernel-sizes 32 --filters 128
# Each run is `python -m builders.RECIPE train --out runs/NAME ARGS` under `timeout SECONDS`; a run carried back in
# runs/NAME resumes from its checkpoint (--resume), so a run longer than one call continues in the next.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
export PYTHONPATH="/tmp/site:$PWD" KERAS_BACKEND=jax PYTHONUNBUFFERED=1
export TSZOO_UCR_ROOT="$PWD/.devdata/UCRArchive_2018"
nvidia-smi -L
python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)" || exit 1
mkdir -p runs
while [ $# -gt 0 ]; do
    name=$1 seconds=$2 recipe=$3
    shift 3
    args=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    resume=()
    [ -f "runs/$name/checkpoints/latest" ] && resume=(--resume)
    began=$(date +%s)
    timeout "$seconds" python3 -m "builders.$recipe" train --out "runs/$name" "${resume[@]}" "${args[@]}" \
        2>&1 | tee "$OUT/$name.log" | grep -E '^epoch=|trained|Error|error' | cut -c1-220
    echo "$name: exit ${PIPESTATUS[0]} after $(( $(date +%s) - began )) s"
    # the run folder without TensorBoard logs; only the latest checkpoint is needed to resume
    latest=$(cat "runs/$name/checkpoints/latest" 2>/dev/null)
    tar -cf "$OUT/$name.tar" -C runs --exclude logs --exclude 'ckpt-*' "$name"
    [ -n "$latest" ] && tar -rf "$OUT/$name.tar" -C runs "$name/checkpoints/$latest"
    ls -la "$OUT"
done
