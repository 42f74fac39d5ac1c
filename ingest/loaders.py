"""Load files into :class:`Document` objects: PDF page by page, .txt and .md whole.

Every problem with a file becomes a :class:`LoadError` that names the file and says,
in Dutch, what is wrong and what to do about it.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from ingest.types import Document, Page

SUPPORTED = {".pdf": "pdf", ".txt": "txt", ".md": "md", ".markdown": "md"}

# A PDF page with fewer characters of text than this is treated as having no text layer.
MIN_TEXT_CHARS = 20


class LoadError(Exception):
    """A file that cannot be indexed, with a reason a user can act on."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{Path(path).name}: {reason}")


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_file(path: str | Path) -> Document:
    """Read one supported file; raise :class:`LoadError` if it cannot be used."""
    path = Path(path)
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise LoadError(path, f"bestandstype '{path.suffix}' wordt niet ondersteund (alleen PDF, .txt en .md)")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(path, f"bestand kan niet worden gelezen ({e.strerror})") from e
    if not data.strip():
        raise LoadError(path, "het bestand is leeg")
    if kind == "pdf":
        pages, meta = _load_pdf(path)
    else:
        pages, meta = [Page(None, _decode_text(path, data))], {}
    return Document(
        doc_id=path.name,
        path=str(path),
        kind=kind,
        pages=pages,
        sha256=hashlib.sha256(data).hexdigest(),
        meta=meta,
    )


def _decode_text(path: Path, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise LoadError(
            path, "dit is geen tekstbestand maar een binair bestand; sla het op als platte tekst (UTF-8) of als PDF"
        )
    if data.startswith(b"%PDF"):
        raise LoadError(path, "dit is een PDF met een verkeerde extensie; hernoem het naar .pdf")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LoadError(
            path,
            f"de tekst is geen geldige UTF-8 (ongeldige byte op positie {e.start}); "
            "sla het bestand opnieuw op met codering UTF-8",
        ) from e
    control = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if control > max(10, len(text) // 100):
        raise LoadError(
            path, "het bestand bevat vooral stuurtekens en lijkt binair; sla het op als platte tekst (UTF-8)"
        )
    if not text.strip():
        raise LoadError(path, "het bestand bevat geen tekst")
    return text


def _open_pdf(path: Path):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path), strict=False)
    except (PdfReadError, ValueError, OSError, KeyError, TypeError) as e:
        raise LoadError(
            path,
            f"de PDF is beschadigd en kan niet worden gelezen ({e}); probeer het origineel opnieuw op te slaan of te exporteren",
        ) from e
    except Exception as e:  # pypdf raises many kinds of errors on broken files
        raise LoadError(
            path,
            f"de PDF is beschadigd en kan niet worden gelezen ({type(e).__name__}); exporteer het document opnieuw als PDF",
        ) from e
    if reader.is_encrypted:
        try:
            opened = bool(reader.decrypt(""))
        except Exception:
            opened = False
        if not opened:
            raise LoadError(
                path, "de PDF is versleuteld met een wachtwoord; sla een versie zonder wachtwoord op en voeg die toe"
            )
    return reader


def _load_pdf(path: Path) -> tuple[list[Page], dict]:
    reader = _open_pdf(path)
    pages: list[Page] = []
    try:
        for number, page in enumerate(reader.pages, start=1):
            pages.append(Page(number, page.extract_text() or ""))
    except LoadError:
        raise
    except Exception as e:
        raise LoadError(
            path,
            f"de PDF is beschadigd: pagina {len(pages) + 1} kan niet worden gelezen ({type(e).__name__}); exporteer het document opnieuw als PDF",
        ) from e
    if not pages:
        raise LoadError(path, "de PDF heeft geen pagina's")
    if sum(len(p.text.strip()) for p in pages) < MIN_TEXT_CHARS * len(pages) / 2:
        raise LoadError(
            path,
            "de PDF heeft geen tekstlaag (waarschijnlijk een scan); maak de tekst eerst doorzoekbaar met OCR en voeg het bestand dan opnieuw toe",
        )
    return pages, _pdf_metadata(reader)


def _pdf_metadata(reader) -> dict:
    """Title, author and year from the PDF's own metadata, where present."""
    try:
        info = reader.metadata or {}
    except Exception:
        return {}
    meta: dict = {}
    title = (info.get("/Title") or "").strip()
    author = (info.get("/Author") or "").strip()
    if title:
        meta["title"] = title
    if author:
        meta["author"] = author
    created = str(info.get("/CreationDate") or "")
    if created.startswith("D:") and created[2:6].isdigit():
        meta["year"] = int(created[2:6])
    return meta
