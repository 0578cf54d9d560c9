"""Documentation stays true: the parameter table in docs/model.md is the generated one."""

from __future__ import annotations

from pathlib import Path

from benchmarks.__main__ import DEMO_ARGS
from sim.paramdoc import (
    END,
    METRICS_END,
    METRICS_START,
    REF_END,
    REF_START,
    SECTIONS,
    START,
    config_reference,
    metrics_reference,
    parameter_table,
)
from sim.params import iter_params

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_model_md_parameter_table_is_current():
    text = (DOCS / "model.md").read_text()
    embedded = text[text.index(START) : text.index(END) + len(END)]
    assert embedded == parameter_table(), "run `crowdsim params` and paste it into model.md"


def test_every_behavioural_parameter_has_unit_doc_and_source():
    for _, cls, behavioural in SECTIONS:
        for name, f, _ in iter_params(cls):
            assert f.metadata.get("doc"), f"{cls.__name__}.{name} has no description"
            if behavioural:  # a study, the case, or an explicit assumption
                assert f.metadata.get("source"), f"{cls.__name__}.{name} has no source"


def test_usage_md_field_reference_is_current():
    text = (DOCS / "usage.md").read_text()
    embedded = text[text.index(REF_START) : text.index(REF_END) + len(REF_END)]
    assert embedded == config_reference(), "run `crowdsim params --fields` into usage.md"


def test_usage_md_metrics_table_is_the_registry():
    text = (DOCS / "usage.md").read_text()
    embedded = text[text.index(METRICS_START) : text.index(METRICS_END) + len(METRICS_END)]
    assert embedded == metrics_reference(), "run `make docs`"


def test_benchmark_times_the_demo_the_makefile_runs():
    makefile = (DOCS.parent / "Makefile").read_text()
    assert f"DEMO_ARGS := {' '.join(DEMO_ARGS)}\n" in makefile


def test_citation_names_the_package_version():
    from importlib.metadata import version  # noqa: PLC0415

    citation = (DOCS.parent / "CITATION.cff").read_text()
    assert f'version: "{version("crowdsim")}"' in citation
    assert "authors:" in citation
