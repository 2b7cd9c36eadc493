"""Training configuration and its two presets: paper (the SiamFC paper's schedule) and ascend (the seed's)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from .geometry import CropGeometry


@dataclass
class NpuOptions:
    """Opt-in Ascend runtime settings; unset, torch_npu's and the chip's defaults stand. Applied by every
    rank the same way, whether torchrun or a ModelZoo shell loop started it (training/npu_runtime.py)."""
    jit_compile: bool | None = None        # False: prebuilt binary kernels (910A compiles operators online by default)
    precision_mode: str | None = None      # ACL_PRECISION_MODE: must_keep_origin_dtype | allow_fp32_to_fp16 (910A's default)
    cpu_affinity: str | None = None        # CPU_AFFINITY_CONF for each rank: "1" binds its threads near its card, "2" finer
    pinned_memory: bool = False            # pinned loader batches and non-blocking uploads
    profile_steps: tuple[int, ...] = ()    # (wait, warmup, active): torch_npu.profiler trace into run_dir/profiler
    hccl_connect_timeout_s: int | None = None   # HCCL_CONNECT_TIMEOUT, seconds (120..7200; CANN's default 120)
    hccl_exec_timeout_s: int | None = None      # HCCL_EXEC_TIMEOUT, seconds (CANN's default 1836)
    hccl_socket_ifname: str | None = None       # HCCL_SOCKET_IFNAME: the network interface nodes talk over
    hccl_if_ip: str | None = None               # HCCL_IF_IP: this host's address for HCCL
    task_queue: int | None = None               # TASK_QUEUE_ENABLE: 0 off, 1 (torch_npu's default), 2


@dataclass
class TrainConfig:
    # data
    data_path: str = "data/ILSVRC_VID_CURATION"
    lmdb_path: str | None = None                 # None: data_path + ".lmdb"; "" : read the folder
    workers: int = 4
    val_fraction: float = 0.1                    # fraction of videos held out (seeded split)
    pairs_per_epoch: int = 53_200
    val_pairs: int = 1_000
    frame_range: int = 100                       # +- positions along the track's valid frames
    # augmentation
    stretch: float = 0.05
    max_translate: int = 4
    gray_prob: float = 0.25
    color_jitter: float = 0.0                    # std of a per-channel gain shared by z and x
    # labels
    r_pos: float = 16.0                          # positive radius in instance pixels (stride 8: 2 cells)
    r_neg: float = 0.0                           # <= r_pos: every other cell is negative
    labels_follow_shift: bool = False            # positives centred on the shifted target (paper: map centre)
    # model
    width: float = 1.0                           # channel multiplier for smaller variants
    head_bias: bool = True                       # learned scalar bias after the 1e-3 scale
    # optimisation
    epochs: int = 50
    batch_size: int = 8                          # per device
    lr_schedule: Literal["log", "step"] = "log"
    lr: float = 1e-2                             # start of log schedule, or step base lr
    lr_end: float = 1e-5                         # end of the log schedule
    lr_step: int = 18                            # step schedule: epochs per decay
    lr_gamma: float = 0.1
    lr_scaling: Literal["none", "linear", "sqrt"] = "none"   # lr (and lr_end) x world size, or x its sqrt
    lr_warmup_epochs: float = 1.0                # scaled lr reached linearly from lr over these epochs
    momentum: float = 0.9
    weight_decay: float = 5e-4
    # execution
    device: str = "auto"
    amp: Literal["auto", "none", "bf16", "fp16"] = "auto"
    loss_scale: str | float = "dynamic"          # fp16 only: "dynamic", or a static scale (the seed: 128)
    channels_last: bool | None = False           # None: where the device supports it (CPU, CUDA; not NPU)
    compile: bool = False
    bn_policy: Literal["local", "sync", "broadcast"] = "local"
    collective_timeout_s: float = 300.0          # a rank waiting longer for the others stops the job
    seed: int = 1234
    run_dir: str = "outputs/train"
    resume: bool = False
    keep_checkpoints: int | None = None          # siamfc_e{N} kept when N % this == 0 (0: all); None: all up to
                                                 # 20 epochs, else every 10th; e0 and the final one always
    log_every: int = 50                          # steps between metrics.csv rows
    warmup_steps: int = 10                       # steps excluded from pairs/s
    max_steps_per_epoch: int = 0                 # 0: pairs_per_epoch / global batch
    geometry: CropGeometry = field(default_factory=CropGeometry)
    npu_options: NpuOptions = field(default_factory=NpuOptions)


PRESETS: dict[str, dict] = {
    "paper": {},
    "ascend": dict(
        pairs_per_epoch=51_200, batch_size=32, lr_schedule="step", lr=0.06, lr_step=18,
        lr_gamma=0.1, weight_decay=0.0, max_translate=3, amp="fp16",
    ),
}


PRESET_WHEN_NONE = ("lr", "lr_end", "lr_scaling")


def flat_overrides(params: dict) -> dict:
    """03's flat parameter names -> :func:`preset` overrides: ``train_instance_size`` goes into the
    geometry (a notebook parameter cannot be a nested dataclass)."""
    out = dict(params)
    if "train_instance_size" in out:
        out["geometry"] = {"train_instance_size": out.pop("train_instance_size")}
    return out


def train_config(params: Mapping[str, Any]) -> TrainConfig:
    """Flat training parameters (03/04's, a params file's) -> :class:`TrainConfig`.

    ``preset`` (default paper) comes first, then the rest; ``lr``, ``lr_end`` and ``lr_scaling``
    set to None mean the preset's; ``train_instance_size`` goes into the geometry.
    """
    params = {k: v for k, v in params.items() if not (k in PRESET_WHEN_NONE and v is None)}
    return preset(params.pop("preset", "paper"), **flat_overrides(params))


def preset(name: str, **overrides) -> TrainConfig:
    """The preset with ``overrides`` applied strictly: unknown names and wrong types raise ConfigError."""
    from .core import build

    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return build(TrainConfig, {**PRESETS[name], **overrides})
