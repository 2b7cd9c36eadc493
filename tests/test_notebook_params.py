"""03 and 04 declare the same training settings, from one declaration; a recipe sits beneath explicit values."""
from __future__ import annotations

import json
from pathlib import Path

import papermill
import pytest

from siamfc_lib.config import ConfigError, TrainConfig
from siamfc_lib.notebook_params import (LAUNCH_NAMES, TRAINING_NAMES, apply_recipe, parameters_cell,
                                        training_config)
from siamfc_lib.paths import injected_parameter_names
from siamfc_lib.training.run import load_train_config

ROOT = Path(__file__).resolve().parents[1]
NB = {stem: ROOT / "notebooks" / f"{stem}.ipynb" for stem in ("03_train_1p", "04_train_8p")}


def _cell(stem: str) -> str:
    nb = json.loads(NB[stem].read_text())
    [cell] = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    return "".join(cell["source"])


@pytest.mark.parametrize("stem", sorted(NB))
def test_committed_parameters_cells_are_the_declared_ones(stem):
    assert _cell(stem) == parameters_cell(stem), f"run `make strip-notebooks` to write {stem}'s parameters cell"


def test_04_takes_every_training_parameter_of_03_with_the_same_default():
    one, many = (papermill.inspect_notebook(str(NB[s])) for s in ("03_train_1p", "04_train_8p"))
    missing = sorted(set(one) - set(many))
    assert not missing, f"04_train_8p lacks 03's parameters {missing}"
    differ = {n: (one[n]["default"], many[n]["default"]) for n in one if one[n]["default"] != many[n]["default"]}
    assert differ == {"run_dir": ("'outputs/train_1p'", "'outputs/train_8p'")}
    for name in ("r_pos", "labels_follow_shift", "train_instance_size", "recipe"):
        assert name in many
    assert set(LAUNCH_NAMES) <= set(many) and not set(LAUNCH_NAMES) & set(one)


def test_defaults_are_the_paper_config():
    namespace = {n: eval(p["default"]) for n, p in papermill.inspect_notebook(str(NB["03_train_1p"])).items()}
    cfg = training_config(namespace, explicit=set())
    assert cfg == TrainConfig(run_dir="outputs/train_1p")


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_recipe_replaces_defaults_but_not_explicit_values(tmp_path):
    recipe = _write(tmp_path / "r.yaml", "width: 0.25\nepochs: 16\nr_pos: 8\ntrain_instance_size: 191\n")
    namespace = {n: eval(p["default"]) for n, p in papermill.inspect_notebook(str(NB["04_train_8p"])).items()}
    namespace.update(recipe=str(recipe), epochs=3)
    cfg = training_config(namespace, explicit={"recipe", "epochs"})
    assert (cfg.width, cfg.epochs, cfg.r_pos, cfg.geometry.train_instance_size) == (0.25, 3, 8.0, 191)
    with pytest.raises(ConfigError, match="npus"):
        apply_recipe({"recipe": str(_write(tmp_path / "bad.yaml", "npus: 8\n"))}, set())
    with pytest.raises(FileNotFoundError, match="nowhere.yaml"):
        apply_recipe({"recipe": "params/recipes/nowhere.yaml"}, set())


def test_injected_names_come_from_papermill_s_cell():
    history = ["x = 1\ny = 2", "# Parameters\ny = 3\n", "import os"]
    assert injected_parameter_names(history) == {"y"}
    assert injected_parameter_names([]) == set()


def test_a_params_file_keys_win_over_its_recipe(tmp_path):
    recipe = _write(tmp_path / "r.yaml", "width: 0.25\nlr: 0.06\n")
    params = _write(tmp_path / "p.yaml", f"recipe: {recipe}\nlr: 0.01\nnpus: 2\nprogress: false\n")
    cfg, progress = load_train_config(params)
    assert (cfg.width, cfg.lr, progress) == (0.25, 0.01, False)


def test_the_demo_trains_one_recipe_on_one_device_and_on_two():
    one, _ = load_train_config(ROOT / "params" / "demo" / "03_train_1p.yaml")
    two, _ = load_train_config(ROOT / "params" / "demo" / "04_train_8p.yaml")
    shortened = {"epochs", "pairs_per_epoch", "val_pairs", "workers", "device", "amp", "run_dir", "log_every"}
    differ = {f for f in TrainConfig.__dataclass_fields__ if getattr(one, f) != getattr(two, f)}
    assert differ <= shortened, sorted(differ - shortened)
    assert (two.r_pos, two.labels_follow_shift, two.geometry.train_instance_size) == (8.0, True, 191)
    assert set(TRAINING_NAMES) >= {"r_pos", "labels_follow_shift", "train_instance_size"}
