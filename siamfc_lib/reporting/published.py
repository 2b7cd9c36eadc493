"""Published figures quoted for comparison. Typed in by hand, so every row names its source.

Sources: the seed README (Ascend ModelZoo "SiamFC for PyTorch", results table), the READMEs
of the public SiamFC reproductions and the benchmark papers named in each row.
Nothing here is ever presented as a measurement of this project.
"""
from __future__ import annotations

# The seed's table 2: NAME, Precision, FPS (training pairs/s), NPUs, epochs, AMP.
SEED_TABLE = [
    {"name": "1p_1.5", "precision": None, "pairs_per_s": 950.0, "devices": 1, "epochs": 1, "amp": "O2"},
    {"name": "8p_1.5", "precision": 0.756, "pairs_per_s": 3660.0, "devices": 8, "epochs": 50, "amp": "O2"},
    {"name": "1p_1.8", "precision": None, "pairs_per_s": 1097.249, "devices": 1, "epochs": 1, "amp": "O2"},
    {"name": "8p_1.8", "precision": 0.751, "pairs_per_s": 5941.962, "devices": 8, "epochs": 50, "amp": "O2"},
]
SEED_SOURCE = "Ascend ModelZoo-PyTorch SiamFC README (Ascend NPU, torch 1.5/1.8, apex O2), OTB2015"

# OTB2015 (OTB-100) AUC / precision@20 of public SiamFC reproductions.
PUBLISHED_OTB2015 = [
    {"source": "SiamFC-3s (Bertinetto et al.), as quoted by reimplementations", "train": "ILSVRC15-VID",
     "auc": 0.582, "precision_20": None},
    {"source": "huanglianghua/siamfc-pytorch README", "train": "VID (2018 code)", "auc": 0.578, "precision_20": 0.765},
    {"source": "StrangerZhang/SiamFC-PyTorch README (best epoch)", "train": "ILSVRC15-VID", "auc": 0.582,
     "precision_20": None},
    {"source": "bilylee/SiamFC-TensorFlow README (3s colour, scratch)", "train": "ILSVRC15-VID", "auc": 0.580,
     "precision_20": None},
    {"source": "HonglinChu/SiamTrackers SiamFC-VID README", "train": "ILSVRC15-VID", "auc": 0.577,
     "precision_20": 0.761},
    {"source": "Ascend ModelZoo SiamFC README (8p, 50 epochs)", "train": "ILSVRC15-VID", "auc": None,
     "precision_20": 0.751},
]

# Published SiamFC figures per benchmark (keys as 05's `benchmark`), beside which 06 puts ours.
# The metric keys are the reports' (auc, precision_20; ao, sr_50, sr_75). Only figures whose source
# is named are here: a benchmark without a row has no SiamFC figure this project could vouch for.
PUBLISHED: dict[str, list[dict]] = {
    "otb2015": PUBLISHED_OTB2015,
    "otb2013": [{"source": "huanglianghua/siamfc-pytorch README", "train": "VID (2018 code)", "auc": 0.589,
                 "precision_20": 0.781}],
    "got10k_test": [{"source": "GOT-10k paper (Huang, Zhao and Huang, TPAMI 2019), SiamFC on the test set",
                     "train": "as in the source", "ao": 0.348, "sr_50": 0.353, "sr_75": 0.098}],
    "got10k_val": [{"source": "GOT-10k paper, SiamFC on the TEST set (no val figure is published; for scale only)",
                    "train": "as in the source", "ao": 0.348, "sr_50": 0.353, "sr_75": 0.098}],
    "lasot": [{"source": "LaSOT paper (Fan et al., CVPR 2019), SiamFC, Protocol II", "train": "as in the source",
               "auc": 0.336}],
}

# This project's targets on the real datasets with the paper profile.
TARGETS = {"otb2015_auc": 0.59, "otb2015_precision_20": 0.78, "train_pairs_per_s_h100": 4000,
           "track_fps_h100": 1000}
