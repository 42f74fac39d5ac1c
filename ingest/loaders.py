"""Load files into :class:`Document` objects: PDF page by page, .txt and .md whole.

The formats are one registry, :data:`FORMATS` (suffixes, loader, whether the file has
pages, its Dutch name); the upload widget, the CLI help, error texts and page counting
read it. A new format is one loader function and one line there.

Every problem with a file becomes a :class:`LoadError` that names the file and says,
in Dutch, what is wrong and what to do about it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.types import Document, Page

# A PDF page with fewer characters of text than this is treated as having no text layer.
MIN_TEXT_CHARS = 20


class LoadError(Exception):
    """A file that cannot be indexed, with a reason a user can act on."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{Path(path).name}: {reason}")


def is_supported(path: Path) -> bool:
    return format_of(path) is not None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_file(path: str | Path, max_bytes: int | None = None, max_pages: int | None = None) -> Document:
    """Read one supported file; raise :class:`LoadError` if it cannot be used (or is over
    ``max_bytes``, or has more than ``max_pages`` pages: counted before any page is read)."""
    path = Path(path)
    fmt = format_of(path)
    if fmt is None:
        raise LoadError(path, f"bestandstype '{path.suffix}' wordt niet ondersteund (alleen {format_names()})")
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise LoadError(
                path,
                f"het bestand is te groot ({size / 1e6:.1f} MB; de grens is {max_bytes / 1e6:.0f} MB, "
                "in te stellen met KB_MAX_FILE_MB); splits het of verhoog de grens",
            )
        data = path.read_bytes()
    except OSError as e:
        raise LoadError(path, f"bestand kan niet worden gelezen ({e.strerror})") from e
    if not data.strip():
        raise LoadError(path, "het bestand is leeg")
    pages, meta = fmt.load(path, data, max_pages)
    return Document(
        doc_id=path.name,
        path=str(path),
        kind=fmt.kind,
        pages=pages,
        sha256=hashlib.sha256(data).hexdigest(),
        meta=meta,
    )


def _decode_text(path: Path, data: bytes) -> str:
    if data.startswith(b"%PDF"):
        raise LoadError(path, "dit is een PDF met een verkeerde extensie; hernoem het naar .pdf")
    text = decode_text(data)
    if text is None:
        raise LoadError(
            path, "dit is geen tekstbestand maar een binair bestand; sla het op als platte tekst (UTF-8) of als PDF"
        )
    control = sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if control > max(10, len(text) // 100):
        raise LoadError(
            path, "het bestand bevat vooral stuurtekens en lijkt binair; sla het op als platte tekst (UTF-8)"
        )
    if not text.strip():
        raise LoadError(path, "het bestand bevat geen tekst")
    return text


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_text(data: bytes) -> str | None:
    """The text of a .txt/.md file in any common encoding (UTF-8 with or without BOM,
    UTF-16, cp1252/latin-1), detected with charset-normalizer; None for binary data."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:8192]:
        # UTF-16 without a BOM has a zero byte in every other position; anything else is binary
        head = data[:4096]
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if max(even, odd) < len(head) // 4 or min(even, odd) > len(head) // 16:
            return None
        return data.decode("utf-16-be" if even > odd else "utf-16-le", errors="replace")
    western = _as_western(data)
    if western is not None:
        return western
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    encoding = best.encoding if best is not None else "cp1252"
    if encoding.replace("_", "").lower() in ("latin1", "iso88591", "ascii"):
        encoding = "cp1252"  # a superset, with the typographic quotes Word writes
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:
        return data.decode("cp1252", errors="replace")


# What a Dutch (or other Western European) text in cp1252/latin-1 has outside ASCII.
_WESTERN = set("àáâäãåèéêëìíîïòóôöõùúûüýÿçñæøœßÀÁÂÄÃÅÈÉÊËÌÍÎÏÒÓÔÖÕÙÚÛÜÝÇÑÆØŒ€“”‘’„–—…•°·«»×½¼¾²³§©®±µ ")


def _as_western(data: bytes) -> str | None:
    """cp1252 text, when every non-ASCII character reads as Western European.

    Short texts fool any statistical detector (a latin-1 "geëvalueerd" comes out as
    mac_latin2); the documents here are Dutch, so cp1252 goes first when it fits.
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    other = [c for c in text if ord(c) > 127]
    if other and sum(c in _WESTERN for c in other) >= 0.9 * len(other):
        return text
    return None


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


def load_text_file(path: Path, data: bytes, max_pages: int | None = None) -> tuple[list[Page], dict]:
    """A .txt or .md file: one page without a number, no metadata."""
    return [Page(None, _decode_text(path, data))], {}


def load_pdf_file(path: Path, data: bytes, max_pages: int | None = None) -> tuple[list[Page], dict]:
    """A PDF: its pages and its metadata (title, author, year); refused when it has more
    than ``max_pages`` pages (a PDF bomb repeats one small page thousands of times)."""
    if b"%PDF-" not in data[:1024]:
        raise LoadError(
            path,
            "dit bestand heet .pdf maar is geen PDF (de inhoud begint niet als een PDF); "
            "exporteer het document opnieuw als PDF",
        )
    return _load_pdf(path, max_pages)


def _load_pdf(path: Path, max_pages: int | None = None) -> tuple[list[Page], dict]:
    reader = _open_pdf(path)
    pages: list[Page] = []
    try:
        if max_pages and max_pages > 0 and (count := len(reader.pages)) > max_pages:
            raise LoadError(
                path,
                f"de PDF heeft {count} pagina's; de grens is {max_pages} pagina's per bestand "
                "(in te stellen met KB_MAX_PAGES); splits het document of verhoog de grens",
            )
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
    title, author = _info_text(info, "/Title"), _info_text(info, "/Author")
    if title:
        meta["title"] = title
    if author:
        meta["author"] = author
    created = _info_text(info, "/CreationDate")
    if created.startswith("D:") and created[2:6].isdigit():
        meta["year"] = int(created[2:6])
    return meta


def _info_text(info, key: str) -> str:
    """One entry of a PDF's document information as text; "" when it is missing or unusable.

    The entries are meant to be text strings, but a PDF may hold a number, a name, an array
    or a reference to nothing there: that is metadata we do without, not a broken file."""
    try:
        value = info.get(key)
        if hasattr(value, "get_object"):
            value = value.get_object()
    except Exception:
        return ""
    if value is None or isinstance(value, (dict, list, tuple, bytes)):
        return ""
    return str(value).strip()


# -- the registry: a new format is one loader function above and one line in FORMATS --


@dataclass(frozen=True)
class FileFormat:
    kind: str  # stored as the document's kind ("pdf", "txt", "md")
    suffixes: tuple[str, ...]  # lower case, with the dot
    name: str  # how the app and the CLI name it, in Dutch
    paged: bool  # whether the file has pages (page numbers are cited)
    # (path, bytes, max_pages) -> (pages, metadata); a paged format refuses more than max_pages pages
    load: Callable[[Path, bytes, int | None], tuple[list[Page], dict]]


FORMATS: tuple[FileFormat, ...] = (
    FileFormat("pdf", (".pdf",), "PDF", paged=True, load=load_pdf_file),
    FileFormat("txt", (".txt",), "tekst (.txt)", paged=False, load=load_text_file),
    FileFormat("md", (".md", ".markdown"), "Markdown (.md)", paged=False, load=load_text_file),
)


def format_of(path: str | Path) -> FileFormat | None:
    """The format of a file, by its suffix; None when it is not supported."""
    suffix = Path(path).suffix.lower()
    return next((f for f in FORMATS if suffix in f.suffixes), None)


def format_by_kind(kind: str) -> FileFormat | None:
    return next((f for f in FORMATS if f.kind == kind), None)


def upload_types() -> list[str]:
    """Suffixes without the dot, for a file picker."""
    return [s.lstrip(".") for f in FORMATS for s in f.suffixes]


def format_names() -> str:
    """The supported formats in one Dutch phrase: "PDF, tekst (.txt) en Markdown (.md)"."""
    names = [f.name for f in FORMATS]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]
