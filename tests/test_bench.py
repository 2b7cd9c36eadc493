"""Every benchmark runs on the CPU with tiny sizes and prints the figures it promises."""
import importlib.util
import json

import pytest

from siamfc_lib.bench.__main__ import main as bench_main

pytestmark = pytest.mark.slow

CASES = {
    "scale": (["--fraction", "0.001", "--full-counts", "--counts-fraction", "0.001", "--workers", "1",
               "--batches", "2"], ["at_fraction", "full_counts"]),
    "curate": (["--videos", "2", "--frames", "3", "--width", "160", "--height", "120", "--workers", "1"],
               ["crops_per_s_total", "crops_per_s_per_worker"]),
    "lmdb": (["--videos", "2", "--frames", "3", "--reads", "50"], ["write_MB_per_s", "random_read_crops_per_s"]),
    "loader": (["--crops", "32", "--pairs", "16", "--batch", "8", "--workers", "0"], ["results"]),
    "train": (["--device", "cpu", "--batch", "2", "--width", "0.125", "--steps", "1", "--warmup", "1",
               "--workers", "0", "--crops", "32"], ["results"]),
    "track": (["--device", "cpu", "--width", "0.25", "--frames", "4", "--batch", "2", "--batch-frames", "3"],
              ["runs"]),
    "video": (["--minutes", "0.02", "--fps", "10", "--width", "0.125", "--subset", "5", "--annotated-minutes", "0.01",
               "--cache", "{tmp}"],
              ["runs", "video", "cpu"]),
    "eval": (["--device", "cpu", "--sequences", "2", "--frames", "5", "--baselines", "kcf", "--paper-width", "0.25",
              "--models", "2"], ["throughput", "projection_paper_05", "device"]),
}


def test_scale_measures_got10k_train_beside_vid(capsys):
    args = ["scale", "--source", "got10k", "--fraction", "0.001", "--full-counts", "--counts-fraction", "0.001",
            "--workers", "1", "--batches", "2"]
    assert bench_main(args) == 0
    result = _last_json(capsys.readouterr().out)
    assert result["source"] == "got10k" and result["at_fraction"]["videos"] == result["full_counts"]["videos"] == 9
    assert result["at_fraction"]["crops"] < result["at_fraction"]["frames"]     # absent frames give no crop
    assert result["full_counts"]["curate_noop"]["seconds"] < 5 and "got10k_MB" in result["at_fraction"]["disk"]


def _last_json(text: str) -> dict:
    """The JSON document the command printed last (earlier lines may be progress rows)."""
    start = text.rfind("\n{")
    return json.loads(text[start + 1:] if start >= 0 else text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_benchmark_prints_json_with_its_figures(name, capsys, tmp_path):
    args, keys = CASES[name]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert bench_main([name, *args]) == 0
    result = _last_json(capsys.readouterr().out)
    for key in keys:
        assert key in result, f"{name}: {key} missing from {sorted(result)}"
    text = json.dumps(result)
    assert "error" not in text.lower() or name == "track", text[:500]
    if name == "track" and importlib.util.find_spec("onnxruntime") is not None:
        onnx = result["runs"][0]["onnxruntime"]
        assert "error" not in onnx, onnx
        assert onnx["branches_ms"]["onnxruntime_search"] > 0 and onnx["end_to_end"]["onnxruntime"]["fps_median_step"] > 0
        assert onnx["parity"]["box_max_diff_px"] <= 0.5 and onnx["parity"]["feature_max_abs_diff_relative"] < 1e-5


def test_demo_quality_scores_each_seed_on_both_sets_and_summarises(capsys):
    """Seed k shifts the generator and training seeds; every set scores SiamFC and the baselines."""
    args = ["--seeds", "0,1", "--sets", "validation,embedded", "--size", "smoke", "--baselines", "kcf",
            "--untrained", "--set", "epochs=1", "--set", "pairs_per_epoch=16", "--set", "val_pairs=8",
            "--set", "workers=0", "--set", "width=0.125", "--validation-sequences", "Synth05,Synth06,Synth07",
            "--data", "otb_sequences=[Jogging, Synth01]"]
    assert bench_main(["demo_quality", *args]) == 0
    result = _last_json(capsys.readouterr().out)
    rows = result["rows"]
    assert [(r["generator_seed"], r["train_seed"]) for r in rows] == [(2016, 1234), (2017, 1235)]
    for r in rows:
        for set_name in ("validation", "embedded"):
            assert set(r[set_name]) == {"siamfc", "untrained", "kcf"}
            assert all(0.0 <= v["auc"] <= 1.0 for v in r[set_name].values())
    assert rows[0]["validation"]["kcf"] != rows[0]["embedded"]["kcf"]     # two different sets
    auc = [r["validation"]["siamfc"]["auc"] for r in rows]
    summary = result["summary"]["validation"]["siamfc_auc"]
    assert summary["mean"] == pytest.approx(sum(auc) / 2, abs=1e-4)
    assert (summary["min"], summary["max"]) == (min(auc), max(auc))


def test_demo_quality_trains_the_demo_s_own_recipe():
    """Every setting of the demo's recipe and its 03 file, except paths and logging, reaches demo_quality's runs."""
    from siamfc_lib.bench.demo_quality import NOT_RECIPE, demo_train_params
    from siamfc_lib.config import flat_overrides, load_params, preset
    from siamfc_lib.paths import project_root

    root = project_root()
    demo = load_params(root / "params" / "recipes" / "demo.yaml")
    run = load_params(root / "params" / "demo" / "03_train_1p.yaml")
    assert run["recipe"] == "params/recipes/demo.yaml"
    recipe = demo_train_params()
    assert recipe["workers"] == run["workers"] and recipe["device"] == run["device"]
    assert not set(recipe) & set(NOT_RECIPE)
    cfg = preset(recipe.pop("preset"), **flat_overrides(recipe))   # an unknown setting would raise here
    assert (cfg.r_pos, cfg.labels_follow_shift, cfg.geometry.train_instance_size, cfg.pairs_per_epoch, cfg.width) == \
        (demo["r_pos"], demo["labels_follow_shift"], demo["train_instance_size"], demo["pairs_per_epoch"], demo["width"])
