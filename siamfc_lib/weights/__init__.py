"""Released SiamFC weights as this project's checkpoints (evaluate them before training anything).

``python -m siamfc_lib.weights import FILE --from {hl,sz,matconvnet} --out CHECKPOINT.pth``;
one module per source project maps its names onto :class:`~siamfc_lib.model.SiamFC` (width 1.0):
``huanglianghua`` (``--from hl``: huanglianghua/siamfc-pytorch), ``strangerzhang`` (``--from sz``:
StrangerZhang/SiamFC-PyTorch), ``matconvnet`` (the authors' ``2016-08-17.net.mat``). Files are opened without running code (``weights_only``
unpickling, ``scipy.io.loadmat``); a tensor whose shape differs is refused by name.
"""
from .common import WeightsError, import_weights, SOURCES

__all__ = ["WeightsError", "import_weights", "SOURCES"]
