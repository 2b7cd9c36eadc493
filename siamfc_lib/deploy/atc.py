"""``atc.sh`` beside the graphs: the ONNX -> OM conversion for an Ascend card (Atlas 310 / 310P / 910).

The lines are the Ascend ModelZoo SiamFC's (``--framework=5``, NCHW, input ``actual_input_1``,
``--soc_version=Ascend<chip>``); ``npu-smi info`` names the chip. A dynamic-batch export gets atc's
``--dynamic_batch_size`` gears instead of a fixed batch. Only a machine with the CANN toolkit runs
the script; nothing here can check its output.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..io_utils import atomic_write_text

ATC_SCRIPT = "atc.sh"
BATCH_GEARS = "1,2,4,8,16"
_SOC = re.compile(r"^(Ascend)?(\d{3}[A-Z0-9]*)$", re.IGNORECASE)


def soc_version(name: str) -> str:
    """``Ascend310P3`` from ``Ascend310P3``, ``310P3`` or ``ascend310p3``; anything else raises."""
    m = _SOC.match(name.strip())
    if not m:
        raise ValueError(f"--soc-version {name!r} is not an Ascend chip name: use what `npu-smi info` shows, "
                         "e.g. Ascend310, Ascend310P3, Ascend910B3")
    return "Ascend" + m.group(2).upper()


def atc_lines(meta, soc: str) -> list[str]:
    """One ``atc`` command per branch, OM files under ``om/``."""
    lines = []
    for name, g in meta.graphs.items():
        dims = ",".join(str(d) for d in g.input_shape[1:])
        if meta.dynamic_batch:
            shape = f'--input_shape="{g.input_name}:-1,{dims}" --dynamic_batch_size="{BATCH_GEARS}"'
            out = f"om/{name}_dyn"
        else:
            shape = f'--input_shape="{g.input_name}:1,{dims}"'
            out = f"om/{name}_bs1"
        lines.append(f"atc --model={g.file} --framework=5 --output={out} --input_format=NCHW {shape} "
                     f"--log=error --soc_version={soc}")
    return lines


def write_atc_script(out_dir: Path, meta, soc: str | None) -> Path:
    """``atc.sh`` for ``soc`` (None: the chip comes from ``$SOC_VERSION`` when the script runs)."""
    chip = soc_version(soc) if soc else "${SOC_VERSION:?set SOC_VERSION to the chip npu-smi info shows, e.g. Ascend310P3}"
    body = "\n".join(atc_lines(meta, chip))
    text = f"""#!/usr/bin/env bash
# ONNX -> OM for Ascend inference cards (CANN's atc), written by python -m siamfc_lib.export.
# Run on a machine with the CANN toolkit; then track with the OM backend (docs/deploy.md).
set -euo pipefail
cd "$(dirname "$0")"
source "${{ASCEND_TOOLKIT_HOME:-/usr/local/Ascend/ascend-toolkit/latest}}/../set_env.sh" 2>/dev/null || true
mkdir -p om
{body}
"""
    path = Path(out_dir) / ATC_SCRIPT
    atomic_write_text(path, text)
    path.chmod(0o755)
    return path
