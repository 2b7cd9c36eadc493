"""The training notebooks' parameters, declared once: 03 and 04 take the same training settings.

The ``parameters`` cells of 03_train_1p and 04_train_8p are rendered from the lists below
(``make strip-notebooks`` writes them, a test checks the committed cells), so a setting added
here reaches both notebooks, and :func:`training_values` reads exactly these names back from
a notebook's namespace. The defaults are :class:`TrainConfig`'s (the paper's), except where a
notebook needs another (its ``run_dir``) or ``None`` means "the preset's".

``recipe`` names a file of training settings (``params/recipes/demo.yaml``): the demo's recipe
lives there once, for 03, 04 and the benchmarks. Its values replace the cell's defaults;
parameters given explicitly (papermill's injected cell, a params file's own keys) win over it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .config import ConfigError, TrainConfig, load_params, train_config
from .paths import injected_parameter_names, not_found, project_root

_NO_DEFAULT = object()


@dataclass(frozen=True)
class Parameter:
    name: str
    comment: str = ""
    default: Any = _NO_DEFAULT     # unset: TrainConfig's default (the geometry's for train_instance_size)

    def value(self) -> Any:
        if self.default is not _NO_DEFAULT:
            return self.default
        cfg = TrainConfig()
        return getattr(cfg.geometry if self.name == "train_instance_size" else cfg, self.name)


TRAINING = (
    Parameter("recipe", "None, or params/recipes/<name>.yaml: replaces these defaults (-p values win)", None),
    Parameter("data_path"),
    Parameter("lmdb_path", "None: data_path + '.lmdb'; '': read the curated folder"),
    Parameter("device", "auto | cpu | cuda[:i] | npu[:i]"),
    Parameter("epochs"),
    Parameter("batch_size", "per device"),
    Parameter("workers", "DataLoader workers per device"),
    Parameter("amp", "auto | none | bf16 | fp16"),
    Parameter("run_dir"),
    Parameter("resume", "continue from run_dir/checkpoints/last.pth"),
    Parameter("preset", "paper | ascend: the settings no parameter here names", "paper"),
    Parameter("width", "channel multiplier (the demo: 0.25)"),
    Parameter("pairs_per_epoch"),
    Parameter("train_instance_size", "239: 15x15 maps (paper); 191: 9x9; tracking searches 255"),
    Parameter("labels_follow_shift", "True: positives centred on the shifted target, not the map centre"),
    Parameter("r_pos", "positive radius in instance px (16: 2 cells at stride 8, the paper's)"),
    Parameter("val_pairs"),
    Parameter("lr", "None: the preset's", None),
    Parameter("lr_end", "None: the preset's (log schedule only)", None),
    Parameter("seed"),
    Parameter("log_every", "steps between metrics.csv rows"),
    Parameter("channels_last", "None: where the device supports it (CPU, CUDA; not NPU)"),
    Parameter("compile"),
    Parameter("npu_options", "Ascend runtime settings, e.g. {'jit_compile': False} (docs/install-and-ascend.md)", {}),
)
SEVERAL_DEVICES = (
    Parameter("bn_policy", "local | sync | broadcast: BN statistics across ranks"),
    Parameter("lr_scaling", "None: the preset's (none); none | linear | sqrt: lr x world size or its sqrt", None),
)
LAUNCH = (
    Parameter("npus", "processes per node, one device each", 8),
    Parameter("nnodes", "", 1),
    Parameter("node_rank", "", 0),
    Parameter("master_addr", "", "127.0.0.1"),
    Parameter("master_port", "", 29500),
)
NOTEBOOK = (Parameter("progress", "None: bars when interactive; False under CI/papermill logs", None),)

# Per notebook: its parameters in order, and the defaults it changes.
NOTEBOOKS: dict[str, tuple[tuple[Parameter, ...], dict[str, Any]]] = {
    "03_train_1p": (TRAINING + NOTEBOOK, {"run_dir": "outputs/train_1p"}),
    "04_train_8p": (TRAINING + SEVERAL_DEVICES + LAUNCH + NOTEBOOK, {"run_dir": "outputs/train_8p"}),
}
TRAINING_NAMES = tuple(p.name for p in TRAINING + SEVERAL_DEVICES)
LAUNCH_NAMES = tuple(p.name for p in LAUNCH)


def parameters_cell(stem: str) -> str:
    """The source of ``stem``'s ``parameters`` cell, one ``name = default  # comment`` line each."""
    params, defaults = NOTEBOOKS[stem]
    lines = [f"{p.name} = {defaults.get(p.name, p.value())!r}" for p in params]
    width = max(len(line) for line in lines) + 2
    return "\n".join(f"{line:<{width}}# {p.comment}" if p.comment else line for line, p in zip(lines, params))


def apply_recipe(values: Mapping[str, Any], explicit: set[str] | frozenset[str]) -> dict[str, Any]:
    """``values`` with ``values["recipe"]``'s settings in place of every name not in ``explicit``."""
    values = dict(values)
    if not values.get("recipe"):
        return values
    path = Path(values["recipe"])
    if not path.is_absolute() and not path.exists():
        path = project_root() / path          # relative paths in params files are the project root's
    if not path.exists():
        raise not_found("recipe", values["recipe"], "params/recipes/ holds the project's recipes (demo.yaml)")
    recipe = load_params(path)
    unknown = sorted(set(recipe) - set(TRAINING_NAMES) | ({"recipe"} & set(recipe)))
    if unknown:
        raise ConfigError(f"recipe {path}: {', '.join(unknown)} are not training settings; "
                          f"known: {', '.join(n for n in TRAINING_NAMES if n != 'recipe')}")
    values.update({k: v for k, v in recipe.items() if k not in explicit})
    return values


def training_values(namespace: Mapping[str, Any], explicit: set[str] | frozenset[str] | None = None
                    ) -> dict[str, Any]:
    """The training parameters a notebook declares, read from its namespace, the recipe applied.

    ``explicit``: the names given explicitly (None: papermill's injected cell, read from the kernel).
    """
    if explicit is None:
        explicit = injected_parameter_names()
    values = {name: namespace[name] for name in TRAINING_NAMES if name in namespace}
    return apply_recipe(values, explicit)


def training_config(namespace: Mapping[str, Any], explicit: set[str] | frozenset[str] | None = None
                    ) -> TrainConfig:
    """03/04's :class:`TrainConfig`, strictly built: a wrong name or type is an error."""
    values = training_values(namespace, explicit)
    values.pop("recipe", None)
    return train_config(values)
