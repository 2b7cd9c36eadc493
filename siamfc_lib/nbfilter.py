"""git's clean filter for ``notebooks/*.ipynb`` (``.gitattributes``): stdin -> the committed form -> stdout.
``python -m siamfc_lib.nbfilter --install`` registers it in this clone (``make venv`` does).

Kept apart from :mod:`siamfc_lib.nbhygiene` so that it never loses a notebook: the text is read
first, and whatever goes wrong afterwards (the library half-edited during a merge, an unparsable
autosave), git receives it unchanged instead of an empty file.
"""
from __future__ import annotations

import sys
from pathlib import Path

FILTER = "siamfc-notebooks"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--install"]:
        print(f"git filter {FILTER}: {install(sys.executable)}")
        return 0
    text = sys.stdin.read()
    try:
        from .nbhygiene import committed_text

        text = committed_text(text, Path(argv[0]).stem if argv else None)
    except Exception:  # noqa: BLE001 - git must get the notebook, changed or not
        pass
    sys.stdout.write(text)
    return 0


def install(python: str) -> str:
    """Register the filter in this clone's git config; returns the command."""
    import subprocess

    command = f"{python} -m siamfc_lib.nbfilter %f"
    subprocess.run(["git", "config", f"filter.{FILTER}.clean", command], check=True)
    return command


if __name__ == "__main__":
    sys.exit(main())
