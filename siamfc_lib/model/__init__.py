from .backbones import AlexNetV1
from .heads import CorrelationHead
from .siamfc import SiamFC, build_model

__all__ = ["AlexNetV1", "CorrelationHead", "SiamFC", "build_model"]
