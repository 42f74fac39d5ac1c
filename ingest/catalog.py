"""Document metadata: title, author, year, type and sectors.

Sources, strongest first: a ``metadata.json`` next to the file (keyed by file name),
the PDF's own metadata, and finally the document's first heading and file name.
Citations show these titles and years, never the opaque file names.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from ingest.types import Block, Document

SECTORS = ("po", "vo", "so", "mbo")

#: how a text names each sector: its abbreviation (also in "mbo-instellingen", "vo-scholen", "roc's") or its name
#: ("primair en voortgezet onderwijs" names both: a sector's adjective counts before "onderwijs")
_BEFORE_ONDERWIJS = r"(?=(?:[\s,/]+(?:en|of|het|\(?voortgezet\)?|\(?speciaal\)?|primair))*[\s,]+onderwijs\b)"
SECTOR_NAMES = {
    "po": rf"po|primair{_BEFORE_ONDERWIJS}|basisonderwijs|basisscho(?:ol|len)|sbo",
    "vo": rf"vo|voortgezet(?!\s+speciaal){_BEFORE_ONDERWIJS}|middelbare scho(?:ol|len)|vmbo|havo|vwo|praktijkonderwijs",
    "so": r"so|vso|speciaal onderwijs",
    "mbo": r"mbo|middelbaar beroepsonderwijs|roc",
}
#: not a sector, an organisation named after it: "PO-Raad", "MBO Raad"
_NOT_A_SECTOR = r"(?![\s-]*ra(?:ad|den)\b)"
_SECTOR_RE = {
    s: re.compile(rf"(?<![^\W_])(?:{names})(?:['’]s)?(?![^\W_]|['’][^\W_]){_NOT_A_SECTOR}", re.I)
    for s, names in SECTOR_NAMES.items()
}


@lru_cache(maxsize=32)
def _read_catalog(path: str, mtime: float) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def catalog_entry(file: Path) -> dict:
    cat = file.parent / "metadata.json"
    if not cat.exists():
        return {}
    return dict(_read_catalog(str(cat), cat.stat().st_mtime).get(file.name, {}))


def describe(doc: Document, blocks: list[Block]) -> dict:
    meta = {**doc.meta, **catalog_entry(Path(doc.path))}
    if not meta.get("title"):
        heading = next((b.text for b in blocks if b.kind == "heading" and len(b.text) > 3), None)
        meta["title"] = heading or _title_from_name(doc.doc_id)
    meta.setdefault("short_title", meta["title"])
    meta.setdefault("author", "")
    meta.setdefault("year", None)
    meta.setdefault("doc_type", "onbekend")
    meta.setdefault("sectors", [])
    meta["source"] = doc.doc_id
    return meta


def _title_from_name(name: str) -> str:
    stem = re.sub(r"[_-]+", " ", Path(name).stem).strip()
    return stem[:1].upper() + stem[1:] if stem else name


def sectors_named(text: str) -> list[str]:
    """The sectors ``text`` names ("In het mbo en het vo …" → ["vo", "mbo"]), in :data:`SECTORS` order."""
    return [s for s in SECTORS if _SECTOR_RE[s].search(text or "")]


def passage_sectors(section: str, text: str, document: list[str] | tuple[str, ...]) -> list[str]:
    """The sectors a passage is about, where it says so; else its document's sectors.

    The innermost heading of its section path (" > "-joined) that names a sector decides
    ("Impact op ouders in het primair en voortgezet onderwijs" → po, vo); without one, the
    sectors its own text names; a passage that names none is about the document's sectors.
    """
    for heading in reversed((section or "").split(" > ")):
        named = sectors_named(heading)
        if named:
            return named
    return sectors_named(text) or list(document)
