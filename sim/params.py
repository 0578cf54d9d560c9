"""Parameter fields that carry their unit, source and bounds.

Every behavioural default is declared once, with `param(...)`. Config validation reads the
bounds, and `docs/model.md`'s parameter table is generated from the same metadata, so the
documentation, the defaults and the checks cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from typing import Any

ASSUMPTION = "assumption"
BASES = ("behavioural study", "fit", "outcome study", "case data", ASSUMPTION)
"""Where a behavioural value comes from: a study of behaviour (not of policing outcomes), a
fit (`crowdsim calibrate`), a study of outcomes (which then cannot also validate it), the
case's own records of its setting (visitors, places), or an assumption."""


def param(
    default: Any,
    *,
    unit: str = "",
    source: str = ASSUMPTION,
    doc: str = "",
    low: float | None = None,
    high: float | None = None,
    choices: Collection[str] | None = None,
    keys: tuple[str, ...] | None = None,
    length: int | None = None,
    basis: str | None = None,
) -> Any:
    """A dataclass field with documentation and validation metadata.

    `low`/`high` bound numbers (and every item of a sequence or mapping), `choices` the
    allowed strings (read when a value is checked, so a table that grows is followed),
    `keys` the allowed mapping keys and `length` a sequence's length. `basis` is the
    value's provenance class (`BASES`); a source that starts with "assumption" is one.
    """
    if basis is None:
        basis = ASSUMPTION if source.startswith(ASSUMPTION) else ""
    if basis and basis not in BASES:
        raise ValueError(f"basis {basis!r} is not one of {BASES}")
    meta = {
        "unit": unit,
        "source": source,
        "doc": doc,
        "low": low,
        "high": high,
        "choices": choices,
        "keys": keys,
        "length": length,
        "basis": basis,
    }
    return dataclasses.field(default=default, metadata=meta)


def iter_params(cls: type, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field, Any]]:
    """Yield (dotted name, field, default) for every leaf parameter of a dataclass tree."""
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        name = f"{prefix}{f.name}"
        default = f.default
        if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        if dataclasses.is_dataclass(default):
            yield from iter_params(type(default), prefix=f"{name}.")
        else:
            yield name, f, default
