"""One typed source of defaults; params YAML and papermill parameters map onto it strictly."""
from .core import ConfigError, build, load_params, to_dict
from .data import CurateConfig, LmdbConfig, SyntheticConfig
from .geometry import CropGeometry
from .tracking import EvalConfig, TrackerConfig
from .training import PRESETS, NpuOptions, TrainConfig, flat_overrides, preset, train_config
from .video import TrackVideoConfig

__all__ = [
    "ConfigError", "build", "load_params", "to_dict", "CropGeometry", "SyntheticConfig",
    "CurateConfig", "LmdbConfig", "NpuOptions", "TrainConfig", "PRESETS", "preset", "flat_overrides", "train_config", "TrackerConfig", "EvalConfig",
    "TrackVideoConfig",
]
