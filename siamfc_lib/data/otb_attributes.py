"""OTB2015 attributes as data: tb_100.txt per target and attr_desc.txt definitions.

Source: jwlim/tracker_benchmark ``data/tb_100.txt`` (the 2015 annotation; the 2013 sets differ),
with the definitions of its ``attr_desc.txt``. Keys use the loader's got10k-style names
(``Jogging.1``, ``Skating2.2``, ``Human4``).
"""
from __future__ import annotations

ATTRIBUTE_DESCRIPTIONS: dict[str, str] = {
    'IV': 'Illumination Variation: the illumination in the target region changes significantly',
    'SV': 'Scale Variation: the ratio of the first-frame box to the current box is outside [1/ts, ts], ts = 2',
    'OCC': 'Occlusion: partial or full',
    'DEF': 'Deformation: non-rigid',
    'MB': 'Motion Blur',
    'FM': 'Fast Motion: ground-truth motion larger than tm = 20 px',
    'IPR': 'In-Plane Rotation',
    'OPR': 'Out-of-Plane Rotation',
    'OV': 'Out-of-View: part of the target leaves the view',
    'BC': 'Background Clutter',
    'LR': 'Low Resolution: fewer than tr = 400 px inside the GT box',
}

ATTRIBUTES = tuple(ATTRIBUTE_DESCRIPTIONS)

OTB2015_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    'Basketball': ('IV', 'OCC', 'DEF', 'OPR', 'BC'),
    'Biker': ('SV', 'OCC', 'MB', 'FM', 'OPR', 'OV', 'LR'),
    'Bird1': ('DEF', 'FM', 'OV'),
    'Bird2': ('OCC', 'DEF', 'FM', 'IPR', 'OPR'),
    'BlurBody': ('SV', 'DEF', 'MB', 'FM', 'IPR'),
    'BlurCar1': ('MB', 'FM'),
    'BlurCar2': ('SV', 'MB', 'FM'),
    'BlurCar3': ('MB', 'FM'),
    'BlurCar4': ('MB', 'FM'),
    'BlurFace': ('MB', 'FM', 'IPR'),
    'BlurOwl': ('SV', 'MB', 'FM', 'IPR'),
    'Board': ('SV', 'MB', 'FM', 'OPR', 'OV', 'BC'),
    'Bolt': ('OCC', 'DEF', 'IPR', 'OPR'),
    'Bolt2': ('DEF', 'BC'),
    'Box': ('IV', 'SV', 'OCC', 'MB', 'IPR', 'OPR', 'OV', 'BC', 'LR'),
    'Boy': ('SV', 'MB', 'FM', 'IPR', 'OPR'),
    'Car1': ('IV', 'SV', 'MB', 'FM', 'BC', 'LR'),
    'Car2': ('IV', 'SV', 'MB', 'FM', 'BC'),
    'Car24': ('IV', 'SV', 'BC'),
    'Car4': ('IV', 'SV'),
    'CarDark': ('IV', 'BC'),
    'CarScale': ('SV', 'OCC', 'FM', 'IPR', 'OPR'),
    'ClifBar': ('SV', 'OCC', 'MB', 'FM', 'IPR', 'OV', 'BC'),
    'Coke': ('IV', 'OCC', 'FM', 'IPR', 'OPR', 'BC'),
    'Couple': ('SV', 'DEF', 'FM', 'OPR', 'BC'),
    'Coupon': ('OCC', 'BC'),
    'Crossing': ('SV', 'DEF', 'FM', 'OPR', 'BC'),
    'Crowds': ('IV', 'DEF', 'BC'),
    'Dancer': ('SV', 'DEF', 'IPR', 'OPR'),
    'Dancer2': ('DEF',),
    'David': ('IV', 'SV', 'OCC', 'DEF', 'MB', 'IPR', 'OPR'),
    'David2': ('IPR', 'OPR'),
    'David3': ('OCC', 'DEF', 'OPR', 'BC'),
    'Deer': ('MB', 'FM', 'IPR', 'BC', 'LR'),
    'Diving': ('SV', 'DEF', 'IPR'),
    'Dog': ('SV', 'DEF', 'OPR'),
    'Dog1': ('SV', 'IPR', 'OPR'),
    'Doll': ('IV', 'SV', 'OCC', 'IPR', 'OPR'),
    'DragonBaby': ('SV', 'OCC', 'MB', 'FM', 'IPR', 'OPR', 'OV'),
    'Dudek': ('SV', 'OCC', 'DEF', 'FM', 'IPR', 'OPR', 'OV', 'BC'),
    'FaceOcc1': ('OCC',),
    'FaceOcc2': ('IV', 'OCC', 'IPR', 'OPR'),
    'Fish': ('IV',),
    'FleetFace': ('SV', 'DEF', 'MB', 'FM', 'IPR', 'OPR'),
    'Football': ('OCC', 'IPR', 'OPR', 'BC'),
    'Football1': ('IPR', 'OPR', 'BC'),
    'Freeman1': ('SV', 'IPR', 'OPR'),
    'Freeman3': ('SV', 'IPR', 'OPR'),
    'Freeman4': ('SV', 'OCC', 'IPR', 'OPR'),
    'Girl': ('SV', 'OCC', 'IPR', 'OPR'),
    'Girl2': ('SV', 'OCC', 'DEF', 'MB', 'OPR'),
    'Gym': ('SV', 'DEF', 'IPR', 'OPR'),
    'Human2': ('IV', 'SV', 'MB', 'OPR'),
    'Human3': ('SV', 'OCC', 'DEF', 'OPR', 'BC'),
    'Human4': ('IV', 'SV', 'OCC', 'DEF'),
    'Human5': ('SV', 'OCC', 'DEF'),
    'Human6': ('SV', 'OCC', 'DEF', 'FM', 'OPR', 'OV'),
    'Human7': ('IV', 'SV', 'OCC', 'DEF', 'MB', 'FM'),
    'Human8': ('IV', 'SV', 'DEF'),
    'Human9': ('IV', 'SV', 'DEF', 'MB', 'FM'),
    'Ironman': ('IV', 'SV', 'OCC', 'MB', 'FM', 'IPR', 'OPR', 'OV', 'BC', 'LR'),
    'Jogging.1': ('OCC', 'DEF', 'OPR'),
    'Jogging.2': ('OCC', 'DEF', 'OPR'),
    'Jump': ('SV', 'OCC', 'DEF', 'MB', 'FM', 'IPR', 'OPR'),
    'Jumping': ('MB', 'FM'),
    'KiteSurf': ('IV', 'OCC', 'IPR', 'OPR'),
    'Lemming': ('IV', 'SV', 'OCC', 'FM', 'OPR', 'OV'),
    'Liquor': ('IV', 'SV', 'OCC', 'MB', 'FM', 'OPR', 'OV', 'BC'),
    'Man': ('IV',),
    'Matrix': ('IV', 'SV', 'OCC', 'FM', 'IPR', 'OPR', 'BC'),
    'Mhyang': ('IV', 'DEF', 'OPR', 'BC'),
    'MotorRolling': ('IV', 'SV', 'MB', 'FM', 'IPR', 'BC', 'LR'),
    'MountainBike': ('IPR', 'OPR', 'BC'),
    'Panda': ('SV', 'OCC', 'DEF', 'IPR', 'OPR', 'OV', 'LR'),
    'RedTeam': ('SV', 'OCC', 'IPR', 'OPR', 'LR'),
    'Rubik': ('SV', 'OCC', 'IPR', 'OPR'),
    'Shaking': ('IV', 'SV', 'IPR', 'OPR', 'BC'),
    'Singer1': ('IV', 'SV', 'OCC', 'OPR'),
    'Singer2': ('IV', 'DEF', 'IPR', 'OPR', 'BC'),
    'Skater': ('SV', 'DEF', 'IPR', 'OPR'),
    'Skater2': ('SV', 'DEF', 'FM', 'IPR', 'OPR'),
    'Skating1': ('IV', 'SV', 'OCC', 'DEF', 'OPR', 'BC'),
    'Skating2.1': ('SV', 'OCC', 'DEF', 'FM', 'OPR'),
    'Skating2.2': ('SV', 'OCC', 'DEF', 'FM', 'OPR'),
    'Skiing': ('IV', 'SV', 'DEF', 'IPR', 'OPR'),
    'Soccer': ('IV', 'SV', 'OCC', 'MB', 'FM', 'IPR', 'OPR', 'BC'),
    'Subway': ('OCC', 'DEF', 'BC'),
    'Surfer': ('SV', 'FM', 'IPR', 'OPR', 'LR'),
    'Suv': ('OCC', 'IPR', 'OV'),
    'Sylvester': ('IV', 'IPR', 'OPR'),
    'Tiger1': ('IV', 'OCC', 'DEF', 'MB', 'FM', 'IPR', 'OPR'),
    'Tiger2': ('IV', 'OCC', 'DEF', 'MB', 'FM', 'IPR', 'OPR', 'OV'),
    'Toy': ('SV', 'FM', 'IPR', 'OPR'),
    'Trans': ('IV', 'SV', 'OCC', 'DEF'),
    'Trellis': ('IV', 'SV', 'IPR', 'OPR', 'BC'),
    'Twinnings': ('SV', 'OPR'),
    'Vase': ('SV', 'FM', 'IPR'),
    'Walking': ('SV', 'OCC', 'DEF'),
    'Walking2': ('SV', 'OCC', 'LR'),
    'Woman': ('IV', 'SV', 'OCC', 'DEF', 'MB', 'FM', 'OPR'),
}



def attributes_of(name: str) -> tuple[str, ...]:
    """tb_100 attributes of a target (got10k-style name); () when the table does not list it."""
    return OTB2015_ATTRIBUTES.get(name, ())


# "IV" -> "Illumination Variation" (the attribute names before their definitions).
ATTRIBUTE_NAMES = {code: text.split(":")[0].strip() for code, text in ATTRIBUTE_DESCRIPTIONS.items()}


def attribute_name(code: str) -> str:
    return ATTRIBUTE_NAMES.get(code, code)
