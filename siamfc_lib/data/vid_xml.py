"""ILSVRC2015-VID annotation XML as the devkit writes it (element order and tab layout).

The reader is :mod:`.vid`. This writer serves the embedded generator, the benchmark trees and
the tests, so every tree the project makes holds the bytes a real annotation file has.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class VidObject:
    trackid: int
    wnid: str
    box: tuple[int, int, int, int]     # xmin, ymin, xmax, ymax: 0-based pixel corners, as VID stores them
    occluded: bool = False
    generated: bool = False            # VID marks interpolated boxes so


def object_xml(obj: VidObject) -> str:
    xmin, ymin, xmax, ymax = (int(v) for v in obj.box)
    return (
        "\t<object>\n"
        f"\t\t<trackid>{obj.trackid}</trackid>\n"
        f"\t\t<name>{obj.wnid}</name>\n"
        "\t\t<bndbox>\n"
        f"\t\t\t<xmax>{xmax}</xmax>\n\t\t\t<xmin>{xmin}</xmin>\n"
        f"\t\t\t<ymax>{ymax}</ymax>\n\t\t\t<ymin>{ymin}</ymin>\n"
        "\t\t</bndbox>\n"
        f"\t\t<occluded>{int(obj.occluded)}</occluded>\n"
        f"\t\t<generated>{int(obj.generated)}</generated>\n"
        "\t</object>\n"
    )


def frame_xml(folder: str, stem: str, width: int, height: int, objects: Sequence[VidObject]) -> str:
    """One frame's annotation file: ``folder`` as VID writes it, ``stem`` the frame's file name."""
    return "".join([
        "<annotation>\n", f"\t<folder>{folder}</folder>\n", f"\t<filename>{stem}</filename>\n",
        "\t<source>\n\t\t<database>ILSVRC_2015</database>\n\t</source>\n",
        f"\t<size>\n\t\t<width>{width}</width>\n\t\t<height>{height}</height>\n\t</size>\n",
        *(object_xml(o) for o in objects), "</annotation>\n",
    ])
