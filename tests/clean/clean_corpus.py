"""The bundled corpus, cleaned once per test run, and small helpers the cleaning tests share."""

from __future__ import annotations

from functools import cache

from ingest.clean import clean_pages
from ingest.types import Block, Page
from kb.config import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"
F000 = "000_4d92f3448d83df09.txt"
F001 = "001_c189e2559444eabf.txt"
F002 = "002_0c56365852a53764.txt"
F003 = "003_99f945db3d15438d.txt"
F004 = "004_e6d995f045a2cb92.txt"


@cache
def source(name: str) -> str:
    """The text of a bundled corpus file, as it ships."""
    return (CORPUS / name).read_text(encoding="utf-8")


@cache
def blocks(name: str) -> tuple[Block, ...]:
    """The blocks a bundled corpus file is cleaned into."""
    return tuple(clean_pages([Page(number=None, text=source(name))]))


def text(name: str) -> str:
    return "\n\n".join(b.text for b in blocks(name))


def find(name: str, needle: str) -> list[Block]:
    return [b for b in blocks(name) if needle in b.text]


def headings(name: str) -> dict[str, int]:
    return {b.text: b.level for b in blocks(name) if b.kind == "heading"}


def one(text_: str) -> list[Block]:
    """Clean a small made-up example as one page."""
    return clean_pages([Page(number=None, text=text_)])
