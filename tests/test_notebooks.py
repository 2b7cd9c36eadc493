"""Notebook hygiene (the parameter contract below) and a papermill execution of the pipeline on `smoke`."""
import json
from pathlib import Path

import papermill
import pytest

from siamfc_lib.config import load_params
from siamfc_lib.pipeline import NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
PRESENT = [s for s in NOTEBOOKS if (NB_DIR / f"{s}.ipynb").exists()]

CONTRACT = {
    "01_curate": {"vid_root", "data_path", "workers", "synthetic", "otb_root", "source", "got10k_root"},
    "02_lmdb": {"data_path", "lmdb_path"},
    "03_train_1p": {"data_path", "lmdb_path", "device", "epochs", "batch_size", "workers", "amp",
                    "run_dir", "resume"},
    "05_eval_otb": {"otb_root", "checkpoint", "device", "sequences", "run_dir", "baselines", "benchmark",
                    "benchmark_root"},
    "06_results": {"train_dirs", "eval_dirs", "out_dir", "video_dirs"},
    "07_track_video": {"video", "box", "checkpoint", "start_frame", "max_frames", "device", "out_dir"},
}
CONTRACT["04_train_8p"] = CONTRACT["03_train_1p"] | {"npus", "nnodes", "node_rank", "master_addr", "master_port"}

# A notebook's own defaults are the real-scale paper defaults with the seed's paths.
SEED_DEFAULTS = {
    "data_path": "'data/ILSVRC_VID_CURATION'",
    "otb_root": "'dataset/OTB'",
}


def test_every_notebook_of_the_pipeline_exists():
    assert PRESENT, "no notebooks found"
    missing = [s for s in NOTEBOOKS if s not in PRESENT]
    assert not missing, f"missing notebooks: {missing}"


@pytest.mark.parametrize("stem", PRESENT)
def test_notebook_is_clean_and_declares_the_contract(stem):
    path = NB_DIR / f"{stem}.ipynb"
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "outputs committed"
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{len(tagged)} parameters cells"
    params = papermill.inspect_notebook(str(path))
    missing = CONTRACT[stem] - set(params)
    assert not missing, f"{stem} lacks contract parameters {sorted(missing)}"
    for name, default in SEED_DEFAULTS.items():
        if name in params:
            assert params[name]["default"] == default, f"{stem}.{name} default {params[name]['default']}"


@pytest.mark.parametrize("profile", ["smoke", "demo", "gpu", "paper", "ascend"])
def test_params_files_use_only_declared_names(profile):
    files = sorted((ROOT / "params" / profile).glob("*.yaml"))
    assert files, f"no params files for profile {profile}"
    for f in files:
        nb = NB_DIR / f"{f.stem}.ipynb"
        assert nb.exists(), f"{f} has no notebook {nb.name}"
        declared = set(papermill.inspect_notebook(str(nb)))
        unknown = set(load_params(f)) - declared
        assert not unknown, f"{f.relative_to(ROOT)} sets undeclared parameters {sorted(unknown)}"


def test_the_gpu_profile_stops_on_a_cpu_only_machine_before_running_anything(tmp_path, monkeypatch):
    """It would train a full-width network for hours on the CPU: stop first, naming both ways out."""
    from siamfc_lib import pipeline
    from siamfc_lib.devices import Device

    monkeypatch.setattr("siamfc_lib.devices.resolve_device", lambda spec="auto", *a: Device("cpu"))
    with pytest.raises(SystemExit, match=r"needs a GPU or NPU.*make demo"):
        pipeline.run("gpu", tmp_path / "gpu")
    assert not (tmp_path / "gpu").exists()
    monkeypatch.setattr("siamfc_lib.devices.resolve_device", lambda spec="auto", *a: Device("cuda", 0))
    pipeline.check_profile_device("gpu")       # with a GPU it goes on
    pipeline.check_profile_device("demo")      # CPU profiles never ask


def _relocate(params: dict, out: Path) -> dict:
    """Point the smoke profile's outputs/smoke/... paths into a temporary folder."""
    def move(v):
        if isinstance(v, str) and v.startswith("outputs/smoke"):
            return str(out / v[len("outputs/smoke/"):])
        if isinstance(v, list):
            return [move(x) for x in v]
        return v
    return {k: move(v) for k, v in params.items()}


@pytest.mark.notebooks
@pytest.mark.slow
def test_smoke_pipeline_executes_every_notebook(tmp_path):
    """01 -> 07 in the pipeline's order on the smoke profile, as `make demo` runs them on demo."""
    for stem in PRESENT:
        params = _relocate(load_params(ROOT / "params" / "smoke" / f"{stem}.yaml"), tmp_path)
        out = tmp_path / "notebooks" / f"{stem}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(str(NB_DIR / f"{stem}.ipynb"), str(out), parameters=params,
                                   kernel_name="python3", cwd=str(ROOT), progress_bar=False)
        executed = json.loads(out.read_text())
        errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{stem}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
