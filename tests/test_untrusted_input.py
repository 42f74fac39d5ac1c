"""Files, names, encodings and manifests from outside are checked, never trusted (issue 9).

Each test failed on the round-1 code or guards a defect of issue 9; real model, real Chroma,
real files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import api
from kb.cli import main as cli
from kb.cli import terminal_safe
from kb.index.layout import active
from kb.index.store import Store
from kb.uploads import add_files

PINGUIN = "# Notities\n\nDe pinguinregeling geeft elke leerling een vaste contactpersoon op school.\n"

ZEBRA = "# Zebra\n\nHet zebraprotocol regelt dat ouders binnen twee weken een gesprek krijgen.\n"


def test_a_failed_reupload_keeps_the_earlier_upload(fresh_settings, embedder):
    ok = add_files([("notities.txt", PINGUIN.encode())], fresh_settings, embedder=embedder)
    assert [r.ok for r in ok] == [True]
    bad = add_files([("notities.txt", bytes(range(256)) * 8)], fresh_settings, embedder=embedder)
    assert [r.ok for r in bad] == [False] and "binair" in bad[0].message

    kept = fresh_settings.home / "uploads" / "notities.txt"
    assert kept.read_text(encoding="utf-8") == PINGUIN
    api.ingest([fresh_settings.home / "uploads"], settings=fresh_settings, embedder=embedder, prune=True)
    assert "notities.txt" in api.documents(fresh_settings)
    assert not list((fresh_settings.home / "uploads").glob(".nieuw/*"))


def test_an_upload_is_checked_by_content_and_size(fresh_settings, embedder):
    fake = add_files(
        [("rapport.pdf", b"Dit is gewoon tekst met een verkeerde extensie. " * 20)], fresh_settings, embedder=embedder
    )
    assert not fake[0].ok and "geen PDF" in fake[0].message
    small = _with(fresh_settings, max_file_mb=0.001)
    big = add_files([("groot.txt", PINGUIN.encode() * 100)], small, embedder=embedder)
    assert not big[0].ok and "te groot" in big[0].message and "KB_MAX_FILE_MB" in big[0].message
    assert not (fresh_settings.home / "uploads" / "groot.txt").exists()


def _with(settings, **changes):
    import dataclasses

    return dataclasses.replace(settings, **changes)


def test_names_that_look_alike_keep_their_own_stored_copy(fresh_settings, embedder, tmp_path):
    (tmp_path / "rapport 2020.txt").write_text(PINGUIN, encoding="utf-8")
    (tmp_path / "rapport_2020.txt").write_text(ZEBRA, encoding="utf-8")
    api.ingest([tmp_path], settings=fresh_settings, embedder=embedder)
    first = " ".join(b["text"] for b in api.document_blocks("rapport 2020.txt", fresh_settings))
    second = " ".join(b["text"] for b in api.document_blocks("rapport_2020.txt", fresh_settings))
    assert "pinguinregeling" in first and "zebraprotocol" not in first
    assert "zebraprotocol" in second and "pinguinregeling" not in second


def test_escape_sequences_from_documents_never_reach_the_terminal(tmp_path, monkeypatch):
    hostile = (
        "# Links\n\nDe pinguinregeling staat op \x1b]8;;https://example.invalid\x1b\\deze pagina\x1b]8;;\x1b\\ "
        "en \x1b[31mrood\x1b[0m gemaakt, met een bel\x07 erbij.\n"
    )
    (tmp_path / "links.txt").write_text(hostile, encoding="utf-8")
    monkeypatch.setenv("KB_HOME", str(tmp_path / "kbhome"))
    assert CliRunner().invoke(cli, ["ingest", str(tmp_path / "links.txt")]).exit_code == 0
    for command in (
        ["search", "pinguinregeling"],
        ["ask", "Waar staat de pinguinregeling?"],
        ["search", "pinguinregeling", "--json"],
    ):
        out = CliRunner().invoke(cli, command).output
        assert "pinguinregeling" in out or command[0] == "ask"
        assert "\x1b" not in out and "\x07" not in out, repr(out)
    assert terminal_safe("a\x1b]8;;http://x\x07b\x1b]8;;\x07c\x1b[2Jd") == "abcd"


@pytest.mark.parametrize(
    "encoding, data",
    [
        ("latin-1", "De leerling wordt geëvalueerd; ouders krijgen één gesprek.".encode("latin-1")),
        ("cp1252", "De leerling wordt geëvalueerd – “één” gesprek voor ouders.".encode("cp1252")),
        ("utf-8-sig", "De leerling wordt geëvalueerd; ouders krijgen één gesprek.".encode("utf-8-sig")),
        ("utf-16", "De leerling wordt geëvalueerd; ouders krijgen één gesprek.".encode("utf-16")),
        ("utf-16-le", "De leerling wordt geëvalueerd; ouders krijgen één gesprek.".encode("utf-16-le")),
    ],
)
def test_text_in_any_common_encoding_is_read(tmp_path, encoding, data):
    from ingest.loaders import load_file

    path = tmp_path / "tekst.txt"
    path.write_bytes(data)
    text = load_file(path).pages[0].text
    assert "geëvalueerd" in text and "één" in text, (encoding, text)


def test_a_file_over_the_size_limit_is_refused_with_the_setting_named(fresh_settings, embedder, tmp_path):
    big = tmp_path / "groot.txt"
    big.write_text(PINGUIN * 20_000, encoding="utf-8")  # about 1.8 MB
    report = api.ingest([big], settings=_with(fresh_settings, max_file_mb=1.0), embedder=embedder)
    assert not report.ok and "KB_MAX_FILE_MB" in report.failed[0][1]


def test_a_damaged_manifest_gives_a_message_not_a_traceback(fresh_settings, embedder, tmp_path, monkeypatch):
    (tmp_path / "pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([tmp_path / "pinguin.txt"], settings=fresh_settings, embedder=embedder)
    active(fresh_settings).manifest.write_text("{niet af", encoding="utf-8")
    monkeypatch.setenv("KB_HOME", str(fresh_settings.home))
    result = CliRunner().invoke(cli, ["search", "pinguinregeling"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "beschadigd" in result.output and "kb ingest --rebuild" in result.output


def test_a_manifest_of_the_first_layout_is_read(fresh_settings, embedder, tmp_path):
    (tmp_path / "_pinguin.txt").write_text(PINGUIN, encoding="utf-8")
    api.ingest([tmp_path / "_pinguin.txt"], settings=fresh_settings, embedder=embedder)
    path = active(fresh_settings).manifest
    data = json.loads(path.read_text(encoding="utf-8"))
    old = {"_model": data["model"], **data["documents"]}  # round 1 kept documents and "_" keys side by side
    path.write_text(json.dumps(old), encoding="utf-8")
    assert set(Store(fresh_settings).documents()) == {"_pinguin.txt"}


def test_the_default_settings_make_no_network_connection(corpus_settings, embedder, monkeypatch):
    import socket

    calls: list = []
    real = socket.socket.connect

    def traced(sock, address):
        calls.append(address)
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", traced)
    monkeypatch.setattr(
        socket,
        "create_connection",
        lambda address, *a, **k: (
            calls.append(address) or (_ for _ in ()).throw(OSError("network blocked in this test"))
        ),
    )
    answer = api.ask("Wat is de zorgplicht?", settings=corpus_settings)
    assert answer.citations
    api.search("ontwikkelingsperspectief", settings=corpus_settings)
    outside = [
        a
        for a in calls
        if not (isinstance(a, tuple) and str(a[0]) in ("127.0.0.1", "::1", "localhost")) and not isinstance(a, str)
    ]
    assert outside == []


def test_paths_of_the_index_do_not_depend_on_file_names(fresh_settings):
    from kb.index.store import doc_file

    assert doc_file("rapport 2020.txt") != doc_file("rapport_2020.txt")
    assert Path(doc_file("../../etc/passwd")).name == doc_file("../../etc/passwd")
