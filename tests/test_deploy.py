"""Deployment: the ONNX export of the two branches, the ONNX Runtime tracker's parity with PyTorch's on
the embedded OTB set, every refusal's message, the atc lines, and the OM backend against a stand-in
of Ascend's ais_bench (which runs the ONNX graphs, so its boxes are checked too)."""
from __future__ import annotations

import hashlib
import json
import sys
import types

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from siamfc_lib.config.tracking import TrackerConfig  # noqa: E402
from siamfc_lib.data.crops import crop_square  # noqa: E402
from siamfc_lib.data.otb import OTBDataset  # noqa: E402
from siamfc_lib.deploy.atc import atc_lines, soc_version  # noqa: E402
from siamfc_lib.deploy.backends import network_for  # noqa: E402
from siamfc_lib.deploy.meta import DeployError, read_meta  # noqa: E402
from siamfc_lib.deploy.network import load_om_network, load_onnx_network  # noqa: E402
from siamfc_lib.deploy.onnx_export import export_onnx, load_siamfc  # noqa: E402
from siamfc_lib.deploy.runners import choose_providers  # noqa: E402
from siamfc_lib.export import main as export_main  # noqa: E402
from siamfc_lib.tracking.search_crops import crops_to_input, warp_crops  # noqa: E402
from siamfc_lib.tracking.state import TrackState  # noqa: E402
from siamfc_lib.tracking.tracker import SiamFCTracker  # noqa: E402
from siamfc_lib.training.checkpoints import CheckpointError, save_checkpoint  # noqa: E402
from video_fixtures import tiny_checkpoint  # noqa: E402

# Features of the width-0.25 network on real crops reach about 1e2; float32 ONNX Runtime and PyTorch
# kernels differ in summation order only (measured: about 2e-6 of the largest value, docs/deploy.md).
FEATURE_RTOL = 1e-5     # of the largest feature magnitude
RESPONSE_RTOL = 1e-5    # of the largest response (scale 1e-3 and bias applied)
BOX_PX = 0.5
AUC_TOL = 0.001


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("deploy")
    checkpoint = tiny_checkpoint(base / "run")
    with torch.no_grad():    # a non-zero head bias, so the host head's bias is checked too
        ckpt = torch.load(checkpoint, weights_only=False)
        ckpt["model"]["head.bias"].fill_(0.25)
        torch.save(ckpt, checkpoint)
    meta = export_onnx(checkpoint, base / "onnx", soc_version="Ascend310P3")
    return {"base": base, "checkpoint": checkpoint, "dir": base / "onnx", "meta": meta}


@pytest.fixture(scope="module")
def otb_sequence(look_alikes):
    return OTBDataset(look_alikes["otb"])["David"]


def test_export_writes_checked_graphs_in_the_modelzoo_shapes(exported):
    meta, d = read_meta(exported["dir"]), exported["dir"]
    assert meta.checkpoint_sha256 == hashlib.sha256(exported["checkpoint"].read_bytes()).hexdigest()
    assert meta.opset == 11 and meta.scale_num == 3 and meta.head_bias == 0.25 and meta.out_scale == 1e-3
    assert meta.tracker["window_influence"] == TrackerConfig().window_influence
    e, s = meta.graphs["exemplar"], meta.graphs["search"]
    assert (e.input_name, e.input_shape, e.output_shape) == ("actual_input_1", [1, 3, 127, 127], [1, 64, 6, 6])
    assert (s.input_name, s.input_shape, s.output_shape) == ("actual_input_1", [1, 9, 255, 255], [1, 192, 22, 22])
    for g in (e, s):
        proto = onnx.load(str(d / g.file))
        onnx.checker.check_model(proto, full_check=True)
        assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [11]
    assert json.loads((d / "meta.json").read_text())["format"] == "siamfc-deploy/1"


def _real_crops(sequence, model):
    """The exemplar of frame 0 and the three scales' search crops of frame 1, as the tracker cuts them."""
    cfg = TrackerConfig()
    frame0, frame1 = (np.asarray(sequence.frame(i)) for i in (0, 1))
    st = TrackState.start(frame0, sequence.gt[0], cfg)
    z = crop_square(frame0, *st.centre, st.exemplar_side, 127, st.pad_color)[None]
    sides = st.search_side * np.array([1 / 1.0375, 1.0, 1.0375])
    x = warp_crops(frame1, *st.centre, sides, 255, st.pad_color)
    return crops_to_input(z, torch.device("cpu")), crops_to_input(x, torch.device("cpu"))


def test_graphs_equal_pytorch_on_real_crops(exported, otb_sequence):
    ref, _ = load_siamfc(exported["checkpoint"])
    net = load_onnx_network(exported["dir"], "cpu")
    z, x = _real_crops(otb_sequence, ref)
    with torch.inference_mode():
        fz, fx = ref.backbone(z), ref.backbone(x)
        gz, gx = net.backbone(z), net.backbone(x)
        assert gz.shape == fz.shape and gx.shape == fx.shape == (3, 64, 22, 22)
        assert (gz - fz).abs().max() <= FEATURE_RTOL * fz.abs().max()
        assert (gx - fx).abs().max() <= FEATURE_RTOL * fx.abs().max()
        r_ref, r_onnx = ref.head(fz, fx), net.head(gz, gx)
    assert (r_onnx - r_ref).abs().max() <= RESPONSE_RTOL * r_ref.abs().max()
    assert not torch.equal(gx[0], gx[1])     # three different scales, not one copied


def test_dynamic_batch_takes_several_frames_at_once(exported, otb_sequence):
    out = exported["base"] / "onnx_dyn"
    meta = export_onnx(exported["checkpoint"], out, dynamic_batch=True)
    assert meta.graphs["search"].input_shape == [None, 9, 255, 255]
    assert "--dynamic_batch_size" in (out / "atc.sh").read_text()
    ref, _ = load_siamfc(exported["checkpoint"])
    net = load_onnx_network(out, "cpu")
    _, x = _real_crops(otb_sequence, ref)
    x2 = torch.cat([x, x.flip(-1)])                     # two frames' pyramids: one run of batch 2
    calls = []
    session = net.backbone.search.session
    net.backbone.search.session = types.SimpleNamespace(run=lambda *a: calls.append(a[1]) or session.run(*a))
    with torch.inference_mode():
        got, want = net.backbone(x2), ref.backbone(x2)
    assert [v["actual_input_1"].shape for v in calls] == [(2, 9, 255, 255)]
    assert (got - want).abs().max() <= FEATURE_RTOL * want.abs().max()


def _eval(look_alikes, checkpoint, run_dir, **extra):
    from siamfc_lib.evaluation.evaluate import run_evaluation

    params = {"otb_root": str(look_alikes["otb"]), "checkpoint": str(checkpoint), "device": "cpu",
              "run_dir": str(run_dir), "compare_untrained": False, **extra}
    return run_evaluation(params, progress=False, log=lambda s: None)


@pytest.mark.parametrize("batch_sequences", [1, 16])
def test_onnxruntime_tracker_equals_pytorch_on_the_embedded_otb_set(exported, look_alikes, tmp_path, batch_sequences):
    torch_run = _eval(look_alikes, exported["checkpoint"], tmp_path / "torch", batch_sequences=batch_sequences)
    ort_run = _eval(look_alikes, exported["dir"], tmp_path / "ort", backend="onnxruntime",
                    batch_sequences=batch_sequences)
    worst = 0.0
    for name in (s.name for s in torch_run.dataset):
        a = np.loadtxt(tmp_path / "torch" / "results" / "SiamFC" / f"{name}.txt", delimiter=",")
        b = np.loadtxt(tmp_path / "ort" / "results" / "SiamFC" / f"{name}.txt", delimiter=",")
        assert a.shape == b.shape
        worst = max(worst, float(np.abs(a - b).max()))
    assert worst <= BOX_PX
    auc = torch_run.reports["SiamFC"]["auc"], ort_run.reports["SiamFC"]["auc"]
    assert abs(auc[0] - auc[1]) <= AUC_TOL
    info = json.loads((tmp_path / "ort" / "eval_info.json").read_text())
    assert "via onnxruntime CPU" in info["device_name"]
    assert "onnxruntime" not in json.loads((tmp_path / "torch" / "eval_info.json").read_text())["device_name"]


def test_05_runs_the_checkpoint_through_onnxruntime_beside_pytorch_and_reports_the_parity(exported, look_alikes,
                                                                                          tmp_path):
    """compare_backends (make demo's 05): one evaluation, both rows, and the parity check that can fail."""
    from siamfc_lib.evaluation.parity import backend_parity, outcome_parity, parity_text

    run = _eval(look_alikes, exported["checkpoint"], tmp_path / "both", compare_backends=["onnxruntime"],
                sequences=["David", "Human4"])
    assert set(run.reports) == {"SiamFC", "SiamFC-onnxruntime"}
    parity = outcome_parity(run, "onnxruntime")
    assert parity["within_tolerance"] and parity["max_box_diff_px"] <= BOX_PX, parity
    assert "SiamFC-onnxruntime against SiamFC" in parity_text(parity)
    # the check fails when the other backend's boxes drift: move one box by a pixel
    moved = tmp_path / "both" / "results" / "SiamFC-onnxruntime" / "David.txt"
    boxes = np.loadtxt(moved, delimiter=",", ndmin=2)
    boxes[3, 0] += 1.0
    np.savetxt(moved, boxes, fmt="%.3f", delimiter=",")
    drifted = backend_parity(run.run_dir, "SiamFC", "SiamFC-onnxruntime", ["David", "Human4"], run.reports, "auc")
    assert drifted["max_box_diff_px"] == pytest.approx(1.0) and not drifted["within_tolerance"]
    with pytest.raises(DeployError, match="backend"):
        _eval(look_alikes, exported["checkpoint"], tmp_path / "bad", compare_backends=["tensorrt"],
              sequences=["David"])


def test_a_checkpoint_is_exported_into_the_run_once(exported):
    work = exported["base"] / "work"
    net = network_for(exported["checkpoint"], "onnxruntime", work, "cpu")
    assert net.backend == "onnxruntime CPU" and read_meta(work / "onnx").dynamic_batch   # batched evaluation
    stamp = (work / "onnx" / "search.onnx").stat().st_mtime_ns
    network_for(exported["checkpoint"], "onnxruntime", work, "cpu")
    assert (work / "onnx" / "search.onnx").stat().st_mtime_ns == stamp     # same checkpoint: reused


def test_another_architecture_is_refused_naming_the_file(tmp_path):
    state = {"model": {"features.0.weight": torch.zeros(8, 3, 3, 3)}, "width": 0.25, "head_bias": True}
    save_checkpoint(tmp_path / "other", 1, state)
    with pytest.raises(CheckpointError, match="does not fit this model"):
        export_onnx(tmp_path / "other", tmp_path / "out")
    torch.save({"state_dict": {}}, tmp_path / "foreign.pth")
    with pytest.raises(CheckpointError, match="not a SiamFC training checkpoint"):
        export_onnx(tmp_path / "foreign.pth", tmp_path / "out")
    assert not (tmp_path / "out" / "meta.json").exists()


def _copy_export(exported, tmp_path):
    import shutil

    return shutil.copytree(exported["dir"], tmp_path / "copy")


def test_malformed_or_foreign_graphs_are_refused(exported, tmp_path):
    d = _copy_export(exported, tmp_path)
    (d / "search.onnx").write_bytes(b"\x08\x07garbage, not a protobuf")
    with pytest.raises(DeployError, match="search.onnx is not a valid ONNX file"):
        load_onnx_network(d, "cpu")
    (d / "search.onnx").write_bytes((d / "exemplar.onnx").read_bytes())      # a valid graph of another shape
    with pytest.raises(DeployError, match=r"not this export's graph: it takes \[\('actual_input_1', \[1, 3, 127"):
        load_onnx_network(d, "cpu")
    (d / "meta.json").unlink()
    with pytest.raises(DeployError, match="not an export folder .*python -m siamfc_lib.export"):
        load_onnx_network(d, "cpu")


def test_unknown_or_absent_providers_and_backends_are_refused(exported):
    with pytest.raises(DeployError, match="unknown execution provider 'gpu0'"):
        choose_providers("gpu0")
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        with pytest.raises(DeployError, match="not in this onnxruntime build.*install onnxruntime-gpu"):
            choose_providers("cuda")
    assert choose_providers("auto")[-1] == "CPUExecutionProvider"
    with pytest.raises(DeployError, match="is an ONNX export: pass backend onnxruntime"):
        network_for(exported["dir"], "torch")
    with pytest.raises(DeployError, match="backend must be one of torch, onnxruntime, om"):
        network_for(exported["checkpoint"], "tensorflow")


def test_export_command_line(exported, tmp_path, capsys):
    assert export_main([str(exported["checkpoint"]), "--out", str(tmp_path / "cli"), "--soc-version", "ascend910b3"]) == 0
    assert "search.onnx: actual_input_1 [1, 9, 255, 255]" in capsys.readouterr().out
    assert "--soc_version=Ascend910B3" in (tmp_path / "cli" / "atc.sh").read_text()
    assert export_main([str(tmp_path / "missing.pth"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert export_main([str(exported["checkpoint"]), "--out", str(tmp_path / "y"), "--soc-version", "A100"]) == 2
    assert "not an Ascend chip name" in capsys.readouterr().err


def test_atc_lines_are_the_modelzoos(exported):
    assert soc_version("310P3") == soc_version("Ascend310P3") == "Ascend310P3"
    lines = atc_lines(exported["meta"], "Ascend310")
    assert lines == [
        'atc --model=exemplar.onnx --framework=5 --output=om/exemplar_bs1 --input_format=NCHW '
        '--input_shape="actual_input_1:1,3,127,127" --log=error --soc_version=Ascend310',
        'atc --model=search.onnx --framework=5 --output=om/search_bs1 --input_format=NCHW '
        '--input_shape="actual_input_1:1,9,255,255" --log=error --soc_version=Ascend310']
    assert "--soc_version=Ascend310P3" in (exported["dir"] / "atc.sh").read_text()


class _StandInSession:
    """ais_bench's InferSession as the card would answer: the OM file names the ONNX graph it came from."""

    calls: list = []

    def __init__(self, device_id, model_path):
        assert isinstance(device_id, int) and model_path.endswith(".om")
        self.name = model_path.rsplit("/", 1)[-1].split("_")[0]
        onnx_path = open(model_path).read()
        self.session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        self.calls.append(("init", self.name, device_id))

    def get_inputs(self):
        i = self.session.get_inputs()[0]
        return [types.SimpleNamespace(name=i.name, shape=i.shape, datatype="FLOAT")]

    def infer(self, feeds, mode="static"):
        (x,) = feeds
        assert mode == "static" and x.dtype == np.float32 and x.flags["C_CONTIGUOUS"]
        assert list(x.shape) == self.get_inputs()[0].shape
        self.calls.append(("infer", self.name, x.shape))
        return self.session.run(None, {"actual_input_1": x})


@pytest.fixture
def ais_bench(monkeypatch):
    _StandInSession.calls = []
    interface = types.ModuleType("ais_bench.infer.interface")
    interface.InferSession = _StandInSession
    for name, mod in (("ais_bench", types.ModuleType("ais_bench")), ("ais_bench.infer", types.ModuleType("x")),
                      ("ais_bench.infer.interface", interface)):
        monkeypatch.setitem(sys.modules, name, mod)
    return _StandInSession


def test_om_backend_through_ais_bench_gives_the_onnx_boxes(exported, otb_sequence, tmp_path, ais_bench):
    d = _copy_export(exported, tmp_path)
    (d / "om").mkdir(exist_ok=True)
    for branch in ("exemplar", "search"):          # what atc.sh would write, here pointing at the graph
        (d / "om" / f"{branch}_bs1.om").write_text(str(d / f"{branch}.onnx"))
    om = SiamFCTracker(load_om_network(d, device_id=0), device="cpu")
    frames = [np.asarray(otb_sequence.frame(i)) for i in range(5)]
    got, _ = om.track_frames(frames, otb_sequence.gt[0])
    want, _ = SiamFCTracker(load_onnx_network(exported["dir"], "cpu"), device="cpu").track_frames(
        frames, otb_sequence.gt[0])
    np.testing.assert_array_equal(got, want)
    assert ais_bench.calls[:3] == [("init", "exemplar", 0), ("init", "search", 0), ("infer", "exemplar", (1, 3, 127, 127))]
    assert ais_bench.calls[3:] == [("infer", "search", (1, 9, 255, 255))] * 4


def test_om_backend_without_ais_bench_says_what_to_install(exported, monkeypatch):
    monkeypatch.setitem(sys.modules, "ais_bench", None)
    with pytest.raises(DeployError, match="needs Ascend's ais_bench and aclruntime"):
        load_om_network(exported["dir"])


def test_track_command_line_with_onnxruntime_gives_the_torch_boxes(exported, otb_sequence, tmp_path, capsys):
    from siamfc_lib.track import main as track_main

    box = ",".join(f"{v:g}" for v in otb_sequence.gt[0])
    folder = str(otb_sequence.img_files[0].parent)
    common = [folder, "--box", box, "--device", "cpu", "--no-video", "--max-frames", "6"]
    assert track_main([*common, "--checkpoint", str(exported["checkpoint"]), "--out", str(tmp_path / "t")]) == 0
    assert track_main([*common, "--checkpoint", str(exported["dir"]), "--out", str(tmp_path / "o"),
                       "--backend", "onnxruntime", "--providers", "cpu"]) == 0
    a, b = (np.loadtxt(tmp_path / d / "boxes.txt", delimiter=",") for d in ("t", "o"))
    assert a.shape == (6, 4) and np.abs(a - b).max() <= BOX_PX
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["device"] == "cpu via onnxruntime CPU"
    assert json.loads((tmp_path / "t" / "summary.json").read_text())["device"] == "cpu"
    capsys.readouterr()
    assert track_main([*common, "--checkpoint", str(exported["dir"]), "--out", str(tmp_path / "x")]) == 2
    assert "is an ONNX export: pass backend onnxruntime" in capsys.readouterr().err


def test_dynamic_batch_om_pads_each_call_to_an_atc_gear(exported, otb_sequence, tmp_path, monkeypatch):
    out = exported["base"] / "onnx_dyn_om"
    export_onnx(exported["checkpoint"], out, dynamic_batch=True)
    (out / "om").mkdir(exist_ok=True)
    for branch in ("exemplar", "search"):
        (out / "om" / f"{branch}_dyn.om").write_text(str(out / f"{branch}.onnx"))
    seen = []

    class Dynamic(_StandInSession):
        def infer(self, feeds, mode="static"):
            assert mode == "dymbatch" and feeds[0].shape[0] in (1, 2, 4, 8, 16)
            seen.append(feeds[0].shape[0])
            return self.session.run(None, {"actual_input_1": feeds[0]})

    interface = types.ModuleType("ais_bench.infer.interface")
    interface.InferSession = Dynamic
    for name in ("ais_bench", "ais_bench.infer"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "ais_bench.infer.interface", interface)
    net, ref = load_om_network(out), load_onnx_network(out, "cpu")
    _, x = _real_crops(otb_sequence, None)
    x5 = torch.cat([x] * 5)                               # 5 frames' pyramids: one call padded to 8
    with torch.inference_mode():
        got, want = net.backbone(x5), ref.backbone(x5)
    assert seen == [8] and got.shape == want.shape == (15, 64, 22, 22)
    assert torch.equal(got, want)


def test_atc_script_runs_its_lines_and_names_a_missing_chip(exported, tmp_path):
    import os
    import subprocess

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "atc").write_text('#!/bin/sh\necho "$@" >> "$ATC_LOG"\n')
    (fake / "atc").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "ATC_LOG": str(tmp_path / "log")}
    env.pop("SOC_VERSION", None)
    script = exported["dir"] / "atc.sh"
    assert subprocess.run(["bash", str(script)], env=env).returncode == 0
    calls = (tmp_path / "log").read_text().splitlines()
    assert calls[1] == ("--model=search.onnx --framework=5 --output=om/search_bs1 --input_format=NCHW "
                        "--input_shape=actual_input_1:1,9,255,255 --log=error --soc_version=Ascend310P3")
    out = exported["base"] / "no_chip"
    export_onnx(exported["checkpoint"], out)
    done = subprocess.run(["bash", str(out / "atc.sh")], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "set SOC_VERSION to the chip npu-smi info shows" in done.stderr
