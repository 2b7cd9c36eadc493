from .backbones import AlexNetV1
from .heads import CorrelationHead
from .losses import balanced_logistic_loss, label_masks, label_targets
from .siamfc import SiamFC, build_model

__all__ = ["AlexNetV1", "CorrelationHead", "SiamFC", "build_model", "balanced_logistic_loss",
           "label_masks", "label_targets"]
