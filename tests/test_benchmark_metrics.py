"""05 on every benchmark's look-alike, then got10k's own experiment code scores the same result files:
each report equals got10k's to 1e-6 (got10k 0.1.3; LaSOT, which 0.1.3 lacks, by ExperimentUAV123's
NaN-skipping metrics plus the normalised precision AUC computed here from got10k's later definition)."""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from got10k import datasets as g10k
from got10k import experiments as gx

from siamfc_lib.data.benchmarks import BENCHMARKS
from siamfc_lib.evaluation.evaluate import evaluate_benchmarks
from siamfc_lib.evaluation.submission import validate_submission
from siamfc_lib.model import build_model

TOL = 1e-6
SLOW = ("otb2013", "otb50", "uav20l", "tc128", "dtb70")


@pytest.fixture(scope="module")
def evaluated(look_alikes, tmp_path_factory):
    """``evaluated(key)``: 05 run on that benchmark's look-alike (once per key), its outcome."""
    torch.manual_seed(0)
    model = build_model(width=0.25)
    run_dir = tmp_path_factory.mktemp("eval")
    done = {}

    def run(key: str):
        if key not in done:
            params = {"benchmark": key, "benchmark_root": str(look_alikes[BENCHMARKS[key].look_alike]),
                      "device": "cpu", "run_dir": str(run_dir), "decode_workers": 0, "compare_untrained": False,
                      "baselines": ["kcf"] if key == "uav123" else [], "allow_off_protocol": True}
            [done[key]] = evaluate_benchmarks(params, model=model, log=lambda line: None)
        return done[key]
    return run


class _Sequences:
    """A got10k-style data set (``seq_names``, ``(img_files, anno)`` items) over ground-truth files
    parsed here the way got10k parses OTB's (commas to spaces, then ``np.loadtxt``)."""

    def __init__(self, sequences):
        self.seq_names = [s.name for s in sequences]
        self.annos = [np.loadtxt(io.StringIO(Path(s.gt_file).read_text().replace(",", " "))) for s in sequences]

    def __len__(self):
        return len(self.seq_names)

    def __iter__(self):
        return iter([([], a) for a in self.annos])


def _got10k_files(outcome, dest: Path, tracker: str = "SiamFC") -> Path:
    """Our result and time files, byte for byte, where got10k's ExperimentOTB reads them."""
    for seq in outcome.dataset.names:
        (dest / tracker / "times").mkdir(parents=True, exist_ok=True)
        shutil.copy(outcome.run_dir / "results" / tracker / f"{seq}.txt", dest / tracker / f"{seq}.txt")
        shutil.copy(outcome.run_dir / "times" / tracker / f"{seq}_time.txt", dest / tracker / "times")
    return dest


def _experiment(cls, dataset, result_dir: Path):
    exp = object.__new__(cls)
    exp.dataset, exp.result_dir, exp.report_dir = dataset, str(result_dir), str(result_dir / "reports")
    exp.nbins_iou, exp.nbins_ce = 21, 51
    exp.plot_curves = lambda *args, **kwargs: None
    return exp


def _assert_same_ope(report: dict, perf: dict) -> None:
    overall = perf["overall"]
    assert report["auc"] == pytest.approx(overall["success_score"], abs=TOL)
    assert report["precision_20"] == pytest.approx(overall["precision_score"], abs=TOL)
    assert report["success_50"] == pytest.approx(overall["success_rate"], abs=TOL)
    assert report["fps"] == pytest.approx(overall["speed_fps"], abs=TOL)
    for name, seq in perf["seq_wise"].items():
        assert report["per_sequence"][name]["auc"] == pytest.approx(seq["success_score"], abs=TOL), name


def _their_dataset(key: str, root: Path, ours):
    if key == "nfs30":
        return g10k.NfS(str(root), fps=30)
    if key == "tc128":
        return g10k.TColor128(str(root), download=False)
    if key == "dtb70":
        return g10k.DTB70(str(root))
    if key in ("uav123", "uav20l"):
        version = key.upper()
        theirs = g10k.UAV123(str(root), version)
        for name in ours.names:        # the look-alike's pieces are shorter than the real ones
            meta = theirs.seq_metas[version][name]
            meta["end_frame"] = meta["start_frame"] + len(ours[name]) - 1
        return theirs
    return _Sequences(list(ours))      # OTB versions: got10k's OTB wants all 100 folders


@pytest.mark.parametrize("key", [pytest.param(k, marks=pytest.mark.slow) if k in SLOW else k
                                 for k in ("otb2015", "otb2013", "otb50", "uav123", "uav20l", "nfs30", "tc128",
                                           "dtb70")])
def test_ope_benchmarks_score_as_got10k_scores_them(key, evaluated, look_alikes, tmp_path):
    outcome = evaluated(key)
    root = look_alikes[BENCHMARKS[key].look_alike]
    cls = gx.ExperimentUAV123 if key.startswith("uav") else gx.ExperimentOTB
    exp = _experiment(cls, _their_dataset(key, root, outcome.dataset), _got10k_files(outcome, tmp_path))
    perf = exp.report(["SiamFC"])["SiamFC"]
    _assert_same_ope(outcome.reports["SiamFC"], perf)
    assert outcome.reports["SiamFC"]["sequences"] == len(outcome.dataset) == len(perf["seq_wise"])
    if key == "uav123":      # NaN rows are not scored, and the baseline ran and scored too
        assert outcome.reports["SiamFC"]["frames"] < sum(len(s) for s in outcome.dataset)
        _got10k_files(outcome, tmp_path, "KCF")
        _assert_same_ope(outcome.reports["KCF"], exp.report(["KCF"])["KCF"])


def _norm_precision_auc(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """got10k's later ExperimentLaSOT: centre error over the GT size (at least 1), 51 thresholds to 0.5."""
    centre = lambda r: r[:, :2] + (r[:, 2:] - 1) / 2                      # noqa: E731
    err = np.sqrt((((centre(pred) - centre(gt)) / np.maximum(1.0, gt[:, 2:])) ** 2).sum(axis=1))
    return np.mean(err[:, None] <= np.linspace(0, 0.5, 51)[None], axis=0)


def test_lasot_scores_as_got10k_experiment_lasot(evaluated, tmp_path):
    outcome = evaluated("lasot")
    exp = _experiment(gx.ExperimentUAV123, _Sequences(list(outcome.dataset)), _got10k_files(outcome, tmp_path))
    _assert_same_ope(outcome.reports["SiamFC"], exp.report(["SiamFC"])["SiamFC"])
    curves = []
    for seq, anno in zip(outcome.dataset, exp.dataset.annos):
        pred = np.loadtxt(outcome.run_dir / "results" / "SiamFC" / f"{seq.name}.txt", delimiter=",")
        pred[0] = anno[0]
        keep = ~np.isnan(anno).any(axis=1)
        curves.append(_norm_precision_auc(pred[keep], anno[keep]))
    assert outcome.reports["SiamFC"]["norm_precision_auc"] == pytest.approx(np.mean(np.mean(curves, axis=0)), abs=TOL)
    assert any((s.gt[:, 2] < 0).any() for s in outcome.dataset)            # the out-of-view "random" boxes


def test_got10k_val_scores_as_got10k_experiment_got10k(evaluated, look_alikes, tmp_path):
    outcome = evaluated("got10k_val")
    run = outcome.run_dir / "results" / "SiamFC"
    first = outcome.dataset.names[0]
    assert sorted(p.name for p in (run / first).iterdir()) == [f"{first}_001.txt", f"{first}_time.txt"]
    exp = gx.ExperimentGOT10k(str(look_alikes["got10k"]), subset="val", result_dir=str(tmp_path),
                              report_dir=str(tmp_path / "reports"))
    exp.result_dir = str(outcome.run_dir / "results")            # our run folder, as it is
    exp.plot_curves = lambda *args, **kwargs: None
    perf = exp.report(["SiamFC"])["SiamFC"]
    report = outcome.reports["SiamFC"]
    assert report["ao"] == pytest.approx(perf["overall"]["ao"], abs=TOL)
    assert report["sr_50"] == pytest.approx(perf["overall"]["sr"], abs=TOL)
    assert report["sr_75"] == pytest.approx(perf["overall"]["succ_curve"][75], abs=TOL)
    assert report["fps"] == pytest.approx(perf["overall"]["speed_fps"], abs=TOL)
    for name, seq in perf["seq_wise"].items():
        assert report["per_sequence"][name]["ao"] == pytest.approx(seq["ao"], abs=TOL)
    covered = sum(int((s.meta["cover"][1:] > 0).sum()) for s in outcome.dataset)
    assert report["frames"] == covered < sum(len(s) - 1 for s in outcome.dataset)   # invisible frames not scored


def test_got10k_test_writes_the_servers_zip_and_it_passes_the_check(evaluated, tmp_path):
    outcome = evaluated("got10k_test")
    assert outcome.submission.name == "SiamFC_GOT-10k_test.zip" and validate_submission(outcome.submission,
                                                                                          outcome.dataset) == []
    folder = outcome.run_dir / "results" / "SiamFC"
    reference = shutil.make_archive(str(tmp_path / "got10k"), "zip", folder)   # what got10k's report(test) zips
    with zipfile.ZipFile(reference) as z:
        theirs = {n.rstrip("/") for n in z.namelist() if n.strip("./")} - {".tracker"}
    with zipfile.ZipFile(outcome.submission) as z:
        ours = {n.rstrip("/") for n in z.namelist()}
        assert all(z.read(f"{s}/{s}_001.txt") == (folder / s / f"{s}_001.txt").read_bytes() for s in outcome.dataset.names)
    assert ours == theirs and len(ours) == 3 * len(outcome.dataset)
    assert outcome.reports["SiamFC"]["scored_by"].startswith("the GOT-10k evaluation server")
