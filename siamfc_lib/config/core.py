"""Strict mapping of flat parameter dictionaries (papermill, params YAML) onto dataclasses.

Why strict: a typo in a params file must fail loudly instead of silently training with a
default. Unknown keys and wrong types raise :class:`ConfigError` naming the key.
"""
from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A parameter that does not exist or has the wrong type."""


def _coerce(name: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(name, value, arg)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"parameter {name!r}: {value!r} matches none of {hint}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"parameter {name!r} must be one of {list(args)}, got {value!r}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"parameter {name!r} must be a list, got {type(value).__name__} {value!r}")
        inner = args[0] if args else Any
        items = [_coerce(f"{name}[{i}]", v, inner) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if hint is Any:
        return value
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if isinstance(value, hint):
            return value
        if isinstance(value, Mapping):
            return build(hint, value)
        raise ConfigError(f"parameter {name!r} must be a mapping of {hint.__name__} fields, got {value!r}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"parameter {name!r} must be true or false, got {value!r}")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"parameter {name!r} must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"parameter {name!r} must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if isinstance(value, Path):
            return str(value)
        if not isinstance(value, str):
            raise ConfigError(f"parameter {name!r} must be a string, got {value!r}")
        return value
    if isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ConfigError(f"parameter {name!r}: cannot use {value!r} as {hint}")


def build(cls: type[T], params: Mapping[str, Any] | None = None, *, ignore: tuple[str, ...] = (), **extra: Any) -> T:
    """Instantiate dataclass ``cls`` from ``params`` (+ ``extra``), refusing unknown keys.

    ``ignore`` lists keys that belong to the caller (for example a notebook's ``progress``)
    and are dropped instead of rejected.
    """
    merged = {**dict(params or {}), **extra}
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(k for k in merged if k not in fields and k not in ignore)
    if unknown:
        raise ConfigError(
            f"unknown parameter(s) for {cls.__name__}: {', '.join(unknown)}; "
            f"known: {', '.join(sorted(fields))}"
        )
    kwargs = {k: _coerce(k, v, hints[k]) for k, v in merged.items() if k in fields}
    return cls(**kwargs)


def to_dict(obj: Any) -> dict[str, Any]:
    """Plain JSON/YAML-safe dict of a config dataclass."""
    out = dataclasses.asdict(obj)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads ``1e-5`` (no dot) as a string; params files mean a number, as JSON does."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_params(path: str | Path) -> dict[str, Any]:
    """Read a flat params file (YAML, or JSON which YAML includes); errors name the file."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of parameter names to values, got {type(data).__name__}")
    return data
