"""Shared fixtures: the real embedding model and a real index of the bundled corpus.

Both are built once per test session in a temporary KB_HOME, so tests never touch
the user's own index.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder():
    from kb.embedding import load_embedder

    return load_embedder(Settings.from_env())


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory, embedder) -> Settings:
    """Settings whose KB_HOME holds an index of the bundled corpus."""
    from kb.indexer import ingest

    settings = Settings.from_env(home=tmp_path_factory.mktemp("kbhome"), corpus_dir=CORPUS)
    report = ingest(settings=settings, embedder=embedder)
    assert report.ok, report.failed
    return settings


@pytest.fixture
def fresh_settings(tmp_path) -> Settings:
    """Settings with an empty KB_HOME of its own."""
    return Settings.from_env(home=tmp_path / "kbhome", corpus_dir=tmp_path / "docs")


def write_pdf(path: Path, pages: list[str], **encryption) -> Path:
    """A real PDF with one page per string (fpdf2), optionally encrypted."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    if encryption:
        pdf.set_encryption(**encryption)
    pdf.output(str(path))
    return path
