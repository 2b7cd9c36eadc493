# Environment of the seed's Ascend runs (its env_npu.sh), sourced by scripts/train_modelzoo.sh.
# A variable already exported wins. npu_options in the params file sets the rest the same way for
# torchrun and for this loop (siamfc_lib/training/npu_runtime.py).
if [ -z "${ASCEND_TOOLKIT_HOME:-}" ] && [ -f /usr/local/Ascend/ascend-toolkit/set_env.sh ]; then
    . /usr/local/Ascend/ascend-toolkit/set_env.sh        # CANN's own environment
fi
export TASK_QUEUE_ENABLE=${TASK_QUEUE_ENABLE:-1}          # torch_npu's two-stage operator launch (its default)
export HCCL_WHITELIST_DISABLE=${HCCL_WHITELIST_DISABLE:-1}  # no HCCL communication whitelist
