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
