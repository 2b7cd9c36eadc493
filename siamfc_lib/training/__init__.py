"""SiamFC training: pairs, augmentation, the trainer, checkpoints (no tracker code here)."""
from .checkpoints import CheckpointError, load_checkpoint, load_model_from_checkpoint
from .context import DistributedContext
from .trainer import NonFiniteLossError, train

__all__ = ["CheckpointError", "DistributedContext", "NonFiniteLossError", "load_checkpoint",
           "load_model_from_checkpoint", "train"]
