"""Test session start-up: torch's device-backend autoload stays off, as in every project entry point."""
import os

os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")

import pytest  # noqa: E402  (after the autoload switch, before anything imports torch)


@pytest.fixture
def fresh_npu_cache():
    """Forget torch_npu's cached import result around a test that swaps in a stand-in module."""
    from siamfc_lib import devices

    devices._reset_npu_cache()
    yield
    import npu_standin

    npu_standin.leave()
    devices._reset_npu_cache()
