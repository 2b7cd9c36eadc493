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


@pytest.fixture(scope="session")
def look_alikes(tmp_path_factory):
    """Every benchmark's embedded look-alike (smoke size), made once per session: ``{kind: root}``.

    The OTB tree keeps a few of its quirky sequences (two targets, an empty GT file, an
    annotation offset, Tiger1) so it is made in seconds.
    """
    from siamfc_lib.config.data import SyntheticConfig
    from siamfc_lib.data.synthetic import LOOK_ALIKES, ensure_look_alike

    base = tmp_path_factory.mktemp("look_alikes")
    cfg = SyntheticConfig.preset("smoke", otb_sequences=("Jogging", "Human4", "David", "Tiger1", "Synth01"))
    roots = {}
    for kind in LOOK_ALIKES:
        if kind != "vid":
            roots[kind] = base / kind
            ensure_look_alike(kind, roots[kind], cfg, log=lambda line: None)
    return roots
