"""``kb eval``: the evaluation as a command of the ``kb`` CLI (registered as an entry point).

See :mod:`eval.harness` for what it measures and ``eval/README.md`` for today's figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from eval.gold import DEFAULT_GOLD
from kb.config import Settings


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.command(name="eval", help="Meet retrieval, antwoorden, weigeringen en snelheid op een goudset.")
@click.option(
    "--gold",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=str(DEFAULT_GOLD),
    show_default=True,
    help="Goudset (JSONL, zie eval/gold.py).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("eval/out"),
    show_default=True,
    help="Map voor report.json, report.md en report.png.",
)
@click.option(
    "--ablations", is_flag=True, help="Ook: alleen dense, alleen BM25, zonder glossarium, zonder contextkoppen."
)
@click.option(
    "--baseline", is_flag=True, help="Ook: de tutorial-baseline (ruwe tekst, MiniLM, Chroma) ter vergelijking."
)
@click.option(
    "--floors",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON met ondergrenzen (eval/floors.json); exitcode 1 als een cijfer eronder zakt.",
)
def eval_command(gold: Path, out: Path, ablations: bool, baseline: bool, floors: Path | None) -> None:
    from eval.baseline import MissingExtra
    from eval.harness import GoldError, evaluate
    from eval.report import table
    from kb.errors import KBError

    try:
        report = evaluate(gold, out, settings=Settings.from_env(), ablations=ablations, baseline=baseline)
    except (MissingExtra, GoldError, KBError) as e:
        _fail(str(e))
    click.echo(table(report))
    click.echo(f"\nRapport: {out / 'report.md'} (en report.json, report.png) · {report['seconds']} s")
    if floors is not None:
        from eval.floors import check_floors, read_floors

        problems = check_floors(report, read_floors(floors))
        for p in problems:
            click.secho(f"ONDER DE GRENS: {p}", fg="red", err=True)
        if problems:
            sys.exit(1)
        click.echo(f"Alle kwaliteitsgrenzen uit {floors} gehaald.")
