"""TOML -> validated, frozen dataclasses.

One generic builder walks a dataclass schema, so scenarios, policies and experiments are
checked the same way: unknown fields, wrong types, out-of-range values and bad choices are
all reported as a `ConfigError` naming the file, the dotted field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from sim.errors import ConfigError

T = TypeVar("T")


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into a ConfigError that names the file."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(str(path), "", "is a folder, not a TOML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path), "", f"is not UTF-8 text (byte {exc.start}): save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"malformed TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot be read: {exc.strerror}") from None


def build(cls: type[T], data: Mapping[str, Any], *, file: str, prefix: str = "") -> T:
    """Build dataclass `cls` from a mapping, validating every field against its schema."""
    if not isinstance(data, Mapping):
        raise ConfigError(file, prefix.rstrip(".") or "(top level)", "expected a table")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in data:
        if key not in known:
            raise ConfigError(
                file, f"{prefix}{key}", f"unknown field; allowed: {', '.join(sorted(known))}"
            )
    kwargs = {}
    for name, f in known.items():
        path = f"{prefix}{name}"
        if name in data:
            kwargs[name] = _coerce(hints[name], data[name], file, path, f.metadata)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(file, path, "required field is missing")
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, file: str, path: str, meta: Mapping[str, Any]) -> Any:
    """Check one value against a type annotation and the field's bounds; return it typed."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"unsupported union in schema at {path}: {tp}")
        return _coerce(options[0], value, file, path, meta)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, file=file, prefix=f"{path}.")
    if origin is tuple:
        return _coerce_sequence(args, value, file, path, meta)
    if origin is dict:
        return _coerce_mapping(args[1], value, file, path, meta)
    if tp is typing.Any:
        return value
    return check_scalar(tp, value, file, path, meta)


def _coerce_sequence(args: tuple, value: Any, file: str, path: str, meta: Mapping) -> tuple:
    if not isinstance(value, list | tuple):
        raise ConfigError(file, path, f"expected a list, got {type(value).__name__}")
    length = meta.get("length")
    if length is not None and len(value) != length:
        raise ConfigError(file, path, f"expected {length} items, got {len(value)}")
    item_type = args[0]
    return tuple(
        _coerce(item_type, item, file, f"{path}[{i}]", meta) for i, item in enumerate(value)
    )


def _coerce_mapping(item_type: Any, value: Any, file: str, path: str, meta: Mapping) -> dict:
    if not isinstance(value, Mapping):
        raise ConfigError(file, path, f"expected a table, got {type(value).__name__}")
    allowed = meta.get("keys")
    out = {}
    for key, item in value.items():
        if allowed is not None and key not in allowed:
            raise ConfigError(file, f"{path}.{key}", f"unknown key; allowed: {', '.join(allowed)}")
        out[key] = _coerce(item_type, item, file, f"{path}.{key}", meta)
    return out


def check_scalar(tp: Any, value: Any, file: str, path: str, meta: Mapping) -> Any:
    """One scalar against its type and the field's bounds or choices; numbers must be finite."""
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(file, path, f"expected true or false, got {value!r}")
        return value
    if tp in (int, float):
        ok = isinstance(value, int) if tp is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise ConfigError(
                file, path, f"expected {'an integer' if tp is int else 'a number'}, got {value!r}"
            )
        if not math.isfinite(value):
            raise ConfigError(file, path, f"{value!r} is not a finite number")
        low, high = meta.get("low"), meta.get("high")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
            raise ConfigError(file, path, f"{value!r} is out of range; allowed: {bounds}")
        return tp(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(file, path, f"expected a string, got {value!r}")
        choices = meta.get("choices")
        if choices is not None and value not in choices:
            allowed = ", ".join(choices)
            raise ConfigError(file, path, f"{value!r} is not allowed; allowed: {allowed}")
        return value
    raise TypeError(f"unsupported type in schema at {path}: {tp}")


def to_raw(value: Any) -> Any:
    """Turn a dataclass tree back into plain TOML/JSON data (`build` reverses it).

    Unset (None) and internal fields are left out: TOML has no null.
    """
    if dataclasses.is_dataclass(value):
        return {
            f.name: to_raw(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not f.metadata.get("internal") and getattr(value, f.name) is not None
        }
    if isinstance(value, list | tuple):
        return [to_raw(v) for v in value]
    if isinstance(value, Mapping):
        return {k: to_raw(v) for k, v in value.items()}
    return value


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split a `--set key.path=value` override; the value is read as a TOML literal."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError("--set", text, "expected key.path=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # a bare word such as `active` is a string
    return key.strip(), value


def apply_overrides(
    cls: type, data: dict[str, Any], overrides: Mapping[str, Any], *, label: str = "--set"
) -> dict[str, Any]:
    """Return a copy of raw config `data` with dotted-path overrides applied.

    Each path is checked against the schema of `cls` first, so a typo fails with the list of
    fields that exist rather than silently adding a key nobody reads.
    """
    out = _deep_copy(data)
    for dotted, value in overrides.items():
        _check_path(cls, dotted, label)
        node: Any = out
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = _child(node, part, dotted, label)
        if isinstance(node, list):
            node[_list_index(node, leaf, dotted, label)] = value
        else:
            node[leaf] = value
    return out


def _child(node: Any, part: str, dotted: str, label: str) -> Any:
    """Step into a raw config node; list items are addressed by index (deploy.0)."""
    if isinstance(node, list):
        return node[_list_index(node, part, dotted, label)]
    return node.setdefault(part, {})


def _list_index(node: list, part: str, dotted: str, label: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(
            label, dotted, f"index {part!r} is out of range; the list has {len(node)} items"
        )
    return int(part)


def _check_path(cls: type, dotted: str, label: str) -> None:
    current: Any = cls
    walked = []
    for part in dotted.split("."):
        walked.append(part)
        if typing.get_origin(current) is tuple and part.isdigit():  # deploy.0.count
            current = typing.get_args(current)[0]
            continue
        if not dataclasses.is_dataclass(current):
            if typing.get_origin(current) is dict:  # per-key mapping such as dwell by kind
                current = typing.get_args(current)[1]
                continue
            raise ConfigError(label, dotted, f"{'.'.join(walked[:-1])} has no sub-fields")
        hints = typing.get_type_hints(current)
        if part not in hints:
            raise ConfigError(
                label, dotted, f"unknown field {part!r}; allowed: {', '.join(sorted(hints))}"
            )
        current = _strip_optional(hints[part])


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return options[0]
    return tp


def _deep_copy(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def resolve(name_or_path: str, directory: Path, kind: str) -> Path:
    """A built-in name (file stem in `directory`) or a path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return path
    builtin = directory / f"{name_or_path}.toml"
    if builtin.exists():
        return builtin
    known = ", ".join(sorted(p.stem for p in directory.glob("*.toml")))
    raise ConfigError(
        name_or_path, "", f"unknown {kind}; built-in: {known}, or a path to a .toml file"
    )


def check_range(file: str, where: str, low: float, high: float) -> None:
    """A range of a sampled or fitted value must not be empty or reversed."""
    if not low < high:
        raise ConfigError(file, where, f"empty range [{low:g}, {high:g}]: low must be below high")


def beside(folder: Path, name: str) -> str:
    """A .toml path relative to the file that names it, made absolute; names stay names.

    Experiments, validation plans and search spaces name policies this way.
    """
    candidate = folder / name
    if name.endswith(".toml") and not Path(name).is_absolute() and candidate.exists():
        return str(candidate.resolve())
    return name


def build_file(cls: type[T], path: str | Path, *, relative: tuple[str, ...] = ()) -> T:
    """A schema read from a TOML file, `source_file` set.

    The `relative` fields (.toml paths, or tuples of them) are made absolute beside the
    file, as a user reading the file expects.
    """
    path = Path(path)
    built = build(cls, read_toml(path), file=str(path))
    here = path.parent
    paths = {}
    for name in relative:
        value = getattr(built, name)
        paths[name] = (
            tuple(beside(here, v) for v in value)
            if isinstance(value, tuple)
            else beside(here, value)
        )
    return dataclasses.replace(built, source_file=str(path), **paths)
