"""``kb``: the command line, a thin layer over the Python API in :mod:`kb.api`."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from ingest.loaders import format_names
from kb.config import Settings


class _Bars:
    """tqdm progress bars for ingest: one for files, one for passages."""

    def __init__(self):
        from tqdm import tqdm

        self._tqdm = tqdm
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int, label: str) -> None:
        if stage == "wait":  # another process is writing
            _out(label, err=True, fg="yellow")
            return
        if total == 0:
            return
        bar = self.bars.get(stage)
        if bar is None:
            desc = {"files": "Bestanden ", "clean": "Opschonen "}.get(stage, "Passages  ")
            unit = " stap" if stage == "clean" else " st"
            bar = self.bars[stage] = self._tqdm(
                total=total, desc=desc, unit=unit, file=sys.stderr, leave=stage != "clean"
            )
        bar.total = total
        bar.update(done - bar.n)
        if label:
            bar.set_postfix_str(label[:40], refresh=False)
        if done >= total:
            bar.close()
            if stage == "clean":  # one bar per big file, gone when it is clean
                del self.bars[stage]

    def close(self):
        for bar in self.bars.values():
            bar.close()


_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def terminal_safe(text: str) -> str:
    """Text from documents and users without terminal escape sequences or control characters."""
    return _ESCAPES.sub("", str(text))


def _out(text: str, **style) -> None:
    """Print to the terminal; what comes from documents can never drive the terminal."""
    click.secho(terminal_safe(text), **style)


def _fail(message: str) -> None:
    raise click.ClickException(terminal_safe(message))


PERSONAS = ("ouder", "leraar", "trainer")


@click.group(help="Kennisbank Passend Onderwijs: doorzoek en bevraag de evaluatieliteratuur.")
@click.version_option(package_name="kennisbank-passend-onderwijs")
def main() -> None:
    from kb.errors import KBError

    try:
        Settings.from_env()  # a bad KB_* value is a message, not a traceback
    except (KBError, ValueError) as e:
        _fail(str(e))


@main.command(help=f"Voeg documenten ({format_names()}) toe aan de index; standaard de meegeleverde corpus/.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--rebuild",
    is_flag=True,
    help="Bouw de index opnieuw op, naast de huidige (die blijft in gebruik tot de nieuwe klaar is).",
)
@click.option("--prune", is_flag=True, help="Verwijder documenten waarvan het bestand niet meer bestaat.")
def ingest(paths: tuple[Path, ...], rebuild: bool, prune: bool) -> None:
    from kb.api import ingest as run_ingest
    from kb.errors import KBError

    settings = Settings.from_env()
    bars = _Bars()
    try:
        report = run_ingest(list(paths) or None, settings=settings, rebuild=rebuild, prune=prune, progress=bars)
    except KBError as e:
        _fail(str(e))
    finally:
        bars.close()
    for path, reason in report.skipped:
        _out(f"overgeslagen: {path}: {reason}", err=True)
    for path, reason in report.failed:
        _out(f"MISLUKT: {path}: {reason}", fg="red", err=True)
    if report.stopped:
        _out(f"GESTOPT: {report.stopped}", fg="red", err=True)
    _out(report.summary())
    if report.stalled:  # a hung write cannot be cancelled; end the process so nothing waits on it
        sys.stdout.flush(), sys.stderr.flush()
        os._exit(1)
    if report.failed or report.stopped:
        sys.exit(1)


@main.command(help="Zoek passages in de index.")
@click.argument("query")
@click.option("-k", "k", default=10, show_default=True, help="Aantal resultaten.")
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON.")
def search(query: str, k: int, as_json: bool) -> None:
    from kb.api import search as run_search
    from kb.errors import KBError

    try:
        results = run_search(query, k=k)
    except KBError as e:
        _fail(str(e))
    if as_json:
        _out(json.dumps({"query": query, "results": [r.to_dict() for r in results]}, ensure_ascii=False, indent=2))
        return
    if not results:
        _out("Geen passages gevonden.")
    for r in results:
        _out(f"[{r.rank}] {r.title} ({r.year or 'z.j.'}) {(r.page and f'p. {r.page}') or r.section}", bold=True)
        text = " ".join(r.text.split())
        _out(f"    {text[:300]}{'…' if len(text) > 300 else ''}\n")


@main.command(help="Stel een vraag; het antwoord citeert de bronnen of zegt dat het er niet in staat.")
@click.argument("question", required=False)
@click.option("--persona", type=click.Choice(PERSONAS), help="Voor wie het antwoord is.")
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON.")
@click.option("--batch", "batch", type=click.File("rb"), help="JSONL met {id, question, history}.")
@click.option(
    "--out",
    "out",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Uitvoer voor --batch (standaard: stdout).",
)
def ask(question: str | None, persona: str | None, as_json: bool, batch, out) -> None:
    from kb.api import ask as run_ask
    from kb.errors import KBError

    if batch is None and question is None:
        _fail("Geef een vraag op, of --batch BESTAND.jsonl")
    try:
        if batch is not None:
            _ask_batch(batch, out, persona, run_ask)
            return
        result = run_ask(question or "", persona=persona)
    except KBError as e:
        _fail(str(e))
    if as_json:
        _out(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if result.notice:
        _out(result.notice, fg="yellow", err=True)
    if result.searched_also:
        _out("Ook gezocht op: " + ", ".join(result.searched_also), dim=True, err=True)
    _out(result.answer)
    if result.citations and not result.bullets:  # trainer bullets carry their own source list
        _out("\nBronnen:")
        for c in result.citations:
            _out(f"[{c.n}] {c.source_line()}")


def _ask_batch(infile, out, persona, run_ask) -> None:
    """One JSON answer per input line, in order, with the input's id; the model loads once.

    A line that is not a usable question (not UTF-8, not JSON, not an object, a question that
    is not text, a history that is not a list of messages) gets an error object with its line
    number, in the output and on stderr; the other lines are answered all the same."""
    for lineno, raw in enumerate(infile, start=1):
        if not raw.strip():
            continue
        try:
            item = _batch_item(raw)
        except ValueError as e:
            message = f"regel {lineno} overgeslagen: {e}"
            _out(message, fg="red", err=True)
            out.write(json.dumps({"id": None, "line": lineno, "error": message}, ensure_ascii=False) + "\n")
            out.flush()
            continue
        result = run_ask(item["question"], history=item["history"], persona=item["persona"] or persona)
        out.write(json.dumps({"id": item["id"], **result.to_dict()}, ensure_ascii=False) + "\n")
        out.flush()


def _batch_item(raw: bytes) -> dict:
    """One line of ``kb ask --batch``, checked: {id, question, history, persona}; ValueError (Dutch) otherwise."""
    try:
        line = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as e:
        raise ValueError(f"geen geldige UTF-8 (byte {e.start + 1})") from None
    try:
        item = json.loads(line)
    except ValueError as e:
        raise ValueError(f"ongeldige JSON ({e})") from None
    except RecursionError:
        raise ValueError("ongeldige JSON (te diep genest)") from None
    if not isinstance(item, dict):
        raise ValueError(f"een regel moet een JSON-object zijn, geen {_json_kind(item)}")
    question = item.get("question", "")
    if not isinstance(question, str):
        raise ValueError(f"'question' moet tekst zijn, geen {_json_kind(question)}")
    history = item.get("history") or []
    if not isinstance(history, list):
        raise ValueError(f"'history' moet een lijst van berichten zijn, geen {_json_kind(history)}")
    for i, turn in enumerate(history, start=1):
        if not (
            isinstance(turn, dict)
            and turn.get("role") in ("user", "assistant")
            and isinstance(turn.get("content", ""), str)
        ):
            raise ValueError(
                f"'history' bericht {i} moet een object zijn met 'role' (user of assistant) en 'content' (tekst)"
            )
    who = item.get("persona")
    if who is not None and who not in PERSONAS:
        raise ValueError(f"'persona' moet een van {', '.join(PERSONAS)} zijn")
    ident = item.get("id")
    if isinstance(ident, (dict, list)):
        raise ValueError("'id' moet tekst of een getal zijn")
    return {"id": ident, "question": question, "history": history, "persona": who}


def _json_kind(value) -> str:
    names = {dict: "object", list: "lijst", str: "tekst", bool: "waar/onwaar", int: "getal", float: "getal"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


@main.group(help="Beoordelingen die gebruikers in de app bij antwoorden gaven.")
def feedback() -> None:
    pass


@feedback.command("export", help="Schrijf alle feedback (vraag, antwoord, geciteerde passages, oordeel, toelichting).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Uitvoerbestand (standaard: stdout)."
)
def feedback_export(fmt: str, out: Path | None) -> None:
    from kb.chats import ChatStore, export_feedback

    settings = Settings.from_env()
    rows = ChatStore.for_settings(settings).feedback()
    text = export_feedback(rows, fmt)
    if out is None:
        _out(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8", newline="")
        _out(f"{len(rows)} beoordelingen geschreven naar {out}", err=True)


@main.command(help="Controleer de index (manifest, Chroma, BM25, model, restanten) en zeg hoe je herstelt.")
@click.option("--repair", is_flag=True, help="Herstel wat veilig kan (weespassages, BM25, restanten).")
def doctor(repair: bool) -> None:
    from kb.errors import KBError
    from kb.index.doctor import check

    try:
        result = check(Settings.from_env(), repair=repair)
    except KBError as e:  # e.g. a Chroma server that does not answer, or another writer
        _fail(str(e))
    _out(
        f"Kennisbank: {result.home}  (index: {result.index.name}; {result.documents} documenten, "
        f"{result.chunks} passages)"
    )
    for f in result.findings:
        mark = "HERSTELD" if f.repaired and repair else ("LET OP" if f.repaired else "PROBLEEM")
        _out(f"{mark}: {f.problem}", fg="green" if f.repaired else "red")
        if not (f.repaired and repair):
            _out(f"  herstel: {f.fix}")
    if not result.findings:
        _out("Alles in orde.", fg="green")
    if not result.healthy:
        raise SystemExit(1)


def _transfer(to_server: bool) -> None:
    from dataclasses import replace

    from kb.errors import KBError
    from kb.index.transfer import copy_index

    settings = Settings.from_env()
    embedded, server = replace(settings, chroma_mode="embedded"), replace(settings, chroma_mode="http")
    bars = _Bars()
    try:
        report = copy_index(embedded, server, bars) if to_server else copy_index(server, embedded, bars)
    except KBError as e:
        _fail(str(e))
    finally:
        bars.close()
    _out(report.summary())


@main.command(
    "export",
    help="Kopieer de index in KB_HOME naar de Chroma-server (KB_CHROMA_HOST/PORT), zonder opnieuw in te bedden.",
)
def export_index() -> None:
    _transfer(to_server=True)


@main.command("import", help="Kopieer de index uit de Chroma-server naar KB_HOME (terug naar embedded).")
def import_index() -> None:
    _transfer(to_server=False)


@main.command(help="Wis opgeslagen gesprekken en feedback: alles, één gesprek, of ouder dan N dagen.")
@click.option("--conversation", help="Alleen dit gesprek (id).")
@click.option("--older-than", "days", type=float, help="Alleen gesprekken die N dagen (minstens 1) niet gebruikt zijn.")
@click.option("--yes", is_flag=True, help="Niet om bevestiging vragen.")
def forget(conversation: str | None, days: float | None, yes: bool) -> None:
    from kb.chats import ChatStore
    from kb.errors import KBError

    if days is not None and not days >= 1:  # 0 or less would be every conversation
        _fail(f"--older-than moet minstens 1 (dag) zijn, niet {days:g}; alles wissen: kb forget zonder --older-than")
    if conversation is None and days is None and not yes:
        click.confirm("Alle gesprekken en feedback wissen?", abort=True)
    try:
        n = ChatStore.for_settings(Settings.from_env()).forget(conversation=conversation, older_than_days=days)
    except KBError as e:
        _fail(str(e))
    _out(f"{n} gesprek(ken) gewist, met hun vragen, antwoorden en feedback.")


def _add_plugin_commands(group: click.Group) -> None:
    """Commands that other packages register under the entry point group ``kb.commands``
    (``kb eval`` comes from the evaluation package, which the CLI does not import)."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="kb.commands"):
        if ep.name not in group.commands:
            try:
                group.add_command(ep.load(), ep.name)
            except ImportError:  # an optional extra that is not installed
                continue


_add_plugin_commands(main)


if __name__ == "__main__":
    main()
