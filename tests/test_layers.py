"""The library's shape, as drawn in the README: each layer imports only layers below it, and
functions stay short enough to read at once."""
from __future__ import annotations

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "siamfc_lib"

# Lowest first. A module of a layer may import modules of its own room or of lower layers only;
# two rooms of one layer never import each other.
LAYERS = [
    {"io_utils", "cores", "boxes", "seeding", "progress"},
    {"config", "devices"},
    {"paths"},
    {"notebook_params"},
    {"data", "model"},
    {"tracking", "training"},
    {"deploy"},
    {"evaluation", "weights"},
    {"visualisation"},
    {"video"},
    {"reporting"},
    {"pipeline", "bench", "nbhygiene"},
    {"nbfilter"},
    {"interactive", "doctor", "track", "export"},
]
RANK = {room: level for level, rooms in enumerate(LAYERS) for room in rooms}
LONGEST_FUNCTION = 60


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module(path: Path) -> str:
    parts = list(path.relative_to(LIB.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    module, is_package = _module(path), path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{a.name}" for a in node.names}
    return {m for m in found if m.startswith("siamfc_lib.")}


def test_every_room_has_a_layer():
    rooms = {_room(_module(p)) for p in LIB.rglob("*.py")} - {""}
    assert rooms <= set(RANK), f"place {sorted(rooms - set(RANK))} in LAYERS (and the README's drawing)"


def test_no_import_runs_up_or_sideways():
    wrong = []
    for path in sorted(LIB.rglob("*.py")):
        room = _room(_module(path))
        for target in _imports(path):
            other = _room(target)
            if other and room and other != room and other in RANK and RANK[other] >= RANK[room]:
                wrong.append(f"{path.relative_to(LIB.parent)} imports {target} ({room} -> {other})")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(set(wrong)))


def test_functions_are_short():
    long = []
    for path in sorted(LIB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > LONGEST_FUNCTION:
                    long.append(f"{path.relative_to(LIB.parent)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "split these into steps with names:\n" + "\n".join(long)
