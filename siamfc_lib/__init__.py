"""SiamFC reproduction library: every notebook calls into this package."""
import os

# torch >= 2.5 imports every installed device backend (torch_npu) inside `import torch`; without
# the CANN toolkit that import crashes before the project can explain. Autoload stays off in this
# process and in the processes it starts (torchrun inherits the environment); torch_npu is
# imported in one guarded place instead (siamfc_lib.devices.torch_npu_module). Import siamfc_lib
# before torch. Set TORCH_DEVICE_BACKEND_AUTOLOAD=1 yourself to restore torch's behaviour.
os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")

__version__ = "0.1.0"
