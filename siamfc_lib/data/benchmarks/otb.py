"""OTB2015, OTB2013 and OTB-50 over one OTB-format folder (:mod:`siamfc_lib.data.otb` reads it).

Membership is by sequence folder, as the OTB toolkit's lists give it (jwlim/tracker_benchmark
``data/cvpr13.txt`` and ``data/tb_50.txt``; got10k's ``ExperimentOTB(version=2013 | 'tb50')``
uses the same names): OTB2013 is 50 folders (51 targets: Jogging has two), TB-50 49 folders
(50 targets: Skating2 has two). TB-50 is not OTB2013. ``otb2015`` keeps every target found,
as 05 always did, so a folder of any OTB-format sequences (the embedded look-alike) is
evaluated whole.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..otb import OTBDataset

OTB2013_FOLDERS = frozenset("""
Basketball Bolt Boy Car4 CarDark CarScale Coke Couple Crossing David David2 David3 Deer Dog1 Doll Dudek
FaceOcc1 FaceOcc2 Fish FleetFace Football Football1 Freeman1 Freeman3 Freeman4 Girl Ironman Jogging Jumping
Lemming Liquor Matrix Mhyang MotorRolling MountainBike Shaking Singer1 Singer2 Skating1 Skiing Soccer Subway
Suv Sylvester Tiger1 Tiger2 Trellis Walking Walking2 Woman
""".split())
TB50_FOLDERS = frozenset("""
Basketball Biker Bird1 BlurBody BlurCar2 BlurFace BlurOwl Bolt Box Car1 Car4 CarDark CarScale ClifBar Couple
Crowds David Deer Diving DragonBaby Dudek Football Freeman4 Girl Human3 Human4 Human6 Human9 Ironman Jump
Jumping Liquor Matrix MotorRolling Panda RedTeam Shaking Singer2 Skating1 Skating2 Skiing Soccer Surfer
Sylvester Tiger2 Trellis Walking Walking2 Woman
""".split())
MEMBERS = {"otb2013": OTB2013_FOLDERS, "otb50": TB50_FOLDERS}


class OTBSubset(OTBDataset):
    """The targets of one OTB benchmark version found under ``root``; none found is an error."""

    def __init__(self, root: str | Path, version: str = "otb2015", sequences: Sequence[str] | None = None,
                 tiger1_init_omit: bool = False):
        super().__init__(root, sequences, tiger1_init_omit=tiger1_init_omit)
        members = MEMBERS.get(version)
        if members is None:
            return
        kept = {n: t for n, t in self._targets.items() if self.folder_of(n) in members}
        if not kept:
            raise FileNotFoundError(f"none of {version}'s {len(members)} sequence folders is under {self.root} "
                                    f"(found {sorted({self.folder_of(n) for n in self._targets})[:10]} ...)")
        self._targets = kept
