"""Tracker and evaluation configuration (the SiamFC-3s values of the SiamFC paper)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .geometry import CropGeometry


@dataclass
class TrackerConfig:
    scale_num: int = 3
    scale_step: float = 1.0375
    scale_penalty: float = 0.9745
    scale_lr: float = 0.59
    window_influence: float = 0.176
    response_up: int = 16
    min_scale: float = 0.2            # clamp of the search size, relative to the first frame
    max_scale: float = 5.0
    geometry: CropGeometry = field(default_factory=CropGeometry)


@dataclass
class EvalConfig:
    """05_eval_otb's parameters (papermill names); see siamfc_lib.evaluation.evaluate."""

    otb_root: str = "dataset/OTB"
    benchmark: str | list[str] = "otb2015"   # a key of siamfc_lib.data.benchmarks.BENCHMARKS, or a list of them
    benchmark_root: str | list[str] | None = None   # None: otb_root for OTB, else the benchmark's dataset/<Name>
    synthetic: bool = False           # True: write the embedded look-alike at benchmark_root when it is absent
    allow_off_protocol: bool = False  # GOT-10k test of a checkpoint not trained on GOT-10k train alone: go on anyway
    checkpoint: str = ""              # a .pth, or a training run_dir (its checkpoints/last.pth)
    device: str = "auto"
    backend: str = "torch"            # torch | onnxruntime (checkpoint: an export folder, or a .pth exported into
                                      # run_dir/onnx) | om (an export converted by its atc.sh); docs/deploy.md
    providers: str = "auto"           # onnxruntime execution providers: auto (CANN, CUDA, then CPU) or e.g. "cpu"
    sequences: list[str] | None = None   # None: every sequence of the benchmark found under its root
    run_dir: str = "outputs/eval"
    baselines: list[str] = field(default_factory=list)   # names from siamfc_lib.tracking.baselines
    tracker_name: str = "SiamFC"
    compare_untrained: bool = True    # also run the network before training (epoch 0 or a fresh init)
    compare_backends: list[str] = field(default_factory=list)   # also track the checkpoint through these
                                      # backends ("onnxruntime"): rows "SiamFC-onnxruntime" beside "SiamFC"
    sweep_epochs: list[int] | str | None = None  # epochs of the training run to evaluate as well, or "all"
    viewer_sequence: str | None = None     # the notebook's response viewer (None: the first sequence)
    viewer_max_frames: int = 100      # frames recorded for the viewer (crop + 272x272 map each)
    tiger1_init_omit: bool = False    # True: OTB toolkit's Tiger1 (skip 5 frames); False: got10k's
    dataset_name: str = ""            # report's "dataset"; empty: the benchmark's name (or its look-alike's)
    resume: bool = True               # skip sequences whose result file exists (got10k run())
    seed: int = 0                     # initialisation of the untrained network when no e0 exists
    batch_sequences: int = 16         # >1: SiamFC tracks this many sequences in lockstep (0/1: one by one);
                                      # each frame is then charged step time / active sequences, so fps is
                                      # throughput per sequence, not single-sequence latency
    crop_backend: str = "auto"        # auto (warp on CPU, grid on accelerators) | warp | grid
    decode_workers: int = -1          # batched: processes decoding frames ahead (-1: cores the tracker leaves free, max 15)
    baseline_workers: int = 0         # CSRT/KCF processes, one core each (0: one per core)
    cuda_graphs: bool = True          # replay the single-sequence step as a CUDA graph (CUDA only)
    amp: str = "none"                 # backbone autocast while tracking: none | bf16 | fp16 (head fp32)
