"""Configuration: strict mapping, presets, params files."""
import pytest

from siamfc_lib.config import ConfigError, TrainConfig, build, flat_overrides, load_params, preset


def test_unknown_key_is_an_error_naming_it():
    with pytest.raises(ConfigError, match="unknown parameter.*epoch\\b"):
        build(TrainConfig, {"epoch": 3})


@pytest.mark.parametrize("key,value", [("epochs", "3"), ("epochs", 2.5), ("resume", "yes"),
                                       ("amp", "fp8"), ("lr", "0.1"), ("device", 3)])
def test_wrong_type_is_an_error_naming_the_key(key, value):
    with pytest.raises(ConfigError, match=key):
        build(TrainConfig, {key: value})


def test_coercions_that_are_safe():
    cfg = build(TrainConfig, {"lr": 1, "epochs": 4.0, "lmdb_path": None})
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and cfg.epochs == 4


def test_ascend_preset_is_the_seed():
    cfg = preset("ascend")
    assert (cfg.batch_size, cfg.lr, cfg.lr_schedule, cfg.lr_step, cfg.weight_decay) == (32, 0.06, "step", 18, 0.0)
    assert preset("paper") == TrainConfig()
    with pytest.raises(ValueError, match="unknown preset"):
        preset("fast")


def test_load_params_rejects_non_mapping(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="x.yaml"):
        load_params(p)
    p.write_text("a: [1\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(p)


def test_nested_geometry_round_trips_through_a_dict():
    from siamfc_lib.config import CropGeometry, to_dict

    cfg = build(TrainConfig, {**to_dict(TrainConfig(epochs=3)), "geometry": {"context": 0.4}})
    assert cfg.geometry == CropGeometry(context=0.4) and cfg.epochs == 3
    with pytest.raises(ConfigError, match="unknown parameter.*contxt"):
        build(TrainConfig, {"geometry": {"contxt": 0.4}})


def test_injected_parameters_must_be_declared():
    from siamfc_lib.paths import check_injected_parameters

    declared = "data_path = 'data/x'\nlmdb_path = None\n"
    check_injected_parameters([declared, "# Parameters\ndata_path = \"/tmp/y\"\n"])
    check_injected_parameters([declared])  # no injection: interactive use
    with pytest.raises(ConfigError, match="lmdb_pth.*declares: data_path, lmdb_path"):
        check_injected_parameters([declared, "# Parameters\nlmdb_pth = \"/tmp/typo\"\n"])


def test_exponent_without_dot_is_a_number(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("lr_end: 1e-5\nlr: 2E+1\nname: 1e5x\n")
    assert load_params(p) == {"lr_end": 1e-5, "lr": 20.0, "name": "1e5x"}


def test_the_notebook_s_flat_train_instance_size_lands_in_the_geometry():
    cfg = preset("paper", **flat_overrides({"train_instance_size": 191, "lr": 0.06}))
    assert cfg.geometry.train_instance_size == 191 and cfg.geometry.instance_size == 255 and cfg.lr == 0.06
    with pytest.raises(ConfigError, match="train_instance_size"):
        preset("paper", train_instance_size=191)   # not a TrainConfig field: only the mapping makes it one
