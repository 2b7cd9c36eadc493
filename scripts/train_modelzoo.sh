#!/usr/bin/env bash
# The seed's launch style (Ascend ModelZoo test/train_full_8p.sh): one process per card, started by a
# shell loop with RANK_ID, RANK_SIZE and ASCEND_DEVICE_ID, no torchrun. 04_train_8p (torchrun) is the
# recommended route; this one reads the same params file and applies the same npu_options.
#
#   scripts/train_modelzoo.sh PARAMS_FILE [NPUS]      e.g. scripts/train_modelzoo.sh params/ascend/04_train_8p.yaml 8
#
# Each rank writes run_dir/logs/node_<NODE_RANK>/rank_<i>.log. The script waits for every rank; when one
# fails it stops the others, prints the failing rank's last lines and exits with its status (a bare
# `wait` returns 0 whatever the ranks did). Environment: PYTHON (default .venv/bin/python), NPU_ENV (an
# env file to source, default scripts/npu_env.sh), FIRST_CARD (default 0), NODE_RANK (default 0),
# MASTER_ADDR / MASTER_PORT (default 127.0.0.1:29688), EXTRA_ARGS (passed to every rank), BIND_CORES
# (default 1: each rank runs on its own nproc/NPUS cores with taskset, as the seed did; 0 leaves it to
# the OS or to npu_options.cpu_affinity, torch_npu's CPU_AFFINITY_CONF).
set -u
config=${1:?usage: scripts/train_modelzoo.sh PARAMS_FILE [NPUS]}
npus=${2:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
env_file=${NPU_ENV:-$root/scripts/npu_env.sh}
# shellcheck disable=SC1090
[ -f "$env_file" ] && . "$env_file"
run_dir=$("$python" -c 'import sys; from siamfc_lib.training.run import load_train_config
print(load_train_config(sys.argv[1])[0].run_dir)' "$config") || exit 1
log_dir="$run_dir/logs/node_${NODE_RANK:-0}"
mkdir -p "$log_dir"
export RANK_SIZE=$npus MASTER_ADDR=${MASTER_ADDR:-127.0.0.1} MASTER_PORT=${MASTER_PORT:-29688}

cores=$(($(nproc) / npus))
declare -A rank_of
for ((i = 0; i < npus; i++)); do
    card=$((${FIRST_CARD:-0} + i))
    bind=()
    if [ "${BIND_CORES:-1}" = 1 ] && [ "$cores" -ge 1 ] && command -v taskset > /dev/null; then
        bind=(taskset -c "$((i * cores))-$((i * cores + cores - 1))")
    fi
    # the seed passes --local_rank; RANK_ID and ASCEND_DEVICE_ID decide
    RANK_ID=$i ASCEND_DEVICE_ID=$card "${bind[@]}" "$python" -m siamfc_lib.training.run --config "$config" \
        --local_rank "$i" ${EXTRA_ARGS:-} > "$log_dir/rank_$i.log" 2>&1 &
    rank_of[$!]=$i
done
echo "started $npus rank(s); logs in $log_dir"

status=0
while [ ${#rank_of[@]} -gt 0 ]; do
    wait -n -p pid
    code=$?
    rank=${rank_of[$pid]}
    unset "rank_of[$pid]"
    if [ $code -ne 0 ] && [ $status -eq 0 ]; then
        status=$code
        echo "rank $rank failed (exit status $code); stopping the other ranks. Last lines of $log_dir/rank_$rank.log:" >&2
        tail -n 20 "$log_dir/rank_$rank.log" >&2
        for other in "${!rank_of[@]}"; do kill "$other" 2>/dev/null; done
    fi
done
[ $status -eq 0 ] && echo "all $npus rank(s) finished"
exit $status
