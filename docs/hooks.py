"""MkDocs hook: the shipped results' figures, which the pages link as ../results/...

The pages are written to be read in the repository (links to `../results/`); on the site
those files are added under `results/` and the links rewritten to match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ("*.png", "*.svg")


def on_files(files: Files, config: Any) -> Files:
    """Add every figure of results/ to the site, under results/."""
    for pattern in FIGURES:
        for path in sorted((ROOT / "results").rglob(pattern)):
            uri = path.relative_to(ROOT).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Links to ../results/ from a page at the top of docs/ point at the added files."""
    depth = page.file.src_uri.count("/")
    return markdown.replace("](../results/", "](" + "../" * depth + "results/")
