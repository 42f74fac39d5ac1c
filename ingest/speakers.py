"""Who says it: the story or contribution a passage belongs to, and its speaker.

A collection (a booklet of practice stories, a bundle of columns) is made of
contributions that each have a title and, where the text says so, a byline: a closing
signature ("Rob Spardiaans, directeur SWV De Meijerij", "CNV Onderwijs", "Albert Boelen
namens LECSO") or an introduction before a quoted title ("Carmita Poldervaart, directeur
De Breede Hei, over Pim, haar zoon:", "IB’er Dineke Hoogeveen: “Geweldig, …”").
:func:`credits` finds them and gives every block its :class:`Credit`:

- a closing signature credits the blocks back to the title its contribution opened with:
  a heading that starts a page and has three words or more, or one written over two lines
  (a display title), or the first heading after the previous contribution; never past
  another byline;
- an introduction credits the blocks after it up to the next title, byline or credited
  block, and names the heading after it as the title;
- a document without bylines (a report, a slide deck) is one contribution: its author
  (from the document's metadata) is the speaker of every passage.

:func:`aliases` gives the names a question may use for a speaker (the person's full name,
"Van Veen", an organisation's name or abbreviation: "AOb" for "Algemene Onderwijsbond").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ingest.types import Block

#: well-known organisations in Dutch education: the name a byline uses, then what else it is called
ORGANISATIONS: tuple[tuple[str, ...], ...] = (
    ("CNV Onderwijs", "CNV"),
    ("Algemene Onderwijsbond", "AOb"),
    ("FvOv", "Federatie van Onderwijsvakorganisaties"),
    ("Ieder(in)", "Iederin"),
    ("PO-Raad", "PO Raad"),
    ("VO-raad", "VO raad"),
    ("MBO Raad", "MBO-raad"),
    ("LECSO", "Landelijk Expertisecentrum Speciaal Onderwijs"),
    ("VOO", "Vereniging Openbaar Onderwijs"),
    ("Ouders & Onderwijs",),
    ("NCOJ", "Nederlands Centrum Onderwijs en Jeugdzorg"),
    ("NRO", "Nationaal Regieorgaan Onderwijsonderzoek"),
    ("Kohnstamm Instituut", "Kohnstamm"),
    ("KBA Nijmegen", "KBA"),
    ("TIAS", "TIAS School for Business and Society"),
    ("Schoolleidersregister PO", "Schoolleidersregister"),
    ("Ministerie van OCW", "OCW", "Onderwijs, Cultuur en Wetenschap"),
    ("Ministerie van VWS", "VWS", "Volksgezondheid, Welzijn en Sport"),
    ("Inspectie van het Onderwijs", "Onderwijsinspectie"),
    ("Ingrado",),
    ("BOSK",),
    ("Balans", "Oudervereniging Balans"),
    ("Steunpunt Passend Onderwijs",),
    ("CPS Onderwijsontwikkeling en advies", "CPS"),
)

#: words that name a role or function in a byline ("directeur", "namens", "IB’er")
ROLES = frozenset(
    "directeur bestuurder voorzitter adviseur projectleider consultant staatssecretaris minister wethouder "  # noqa: SIM905
    "leraar lerares leraren leerkracht docent juf meester ib'er ib’er orthopedagoog psycholoog "
    "onderwijsassistent stafmedewerker beleidsmedewerker medewerker programmamanager manager coördinator "
    "schoolleider teamleider lector onderzoeker hoogleraar student moeder vader ouder ouders co-teacher "
    "consulent onderwijsconsulent onderwijs-zorgconsulent begeleider specialist secretaris namens "
    "directrice oprichter initiatiefnemer redacteur auteur spreker".split()
)
_ROLE_ENDINGS = ("consulent", "coördinator", "medewerker", "leider", "begeleider", "specialist", "teacher")
_ORG_WORDS = re.compile(
    r"\b(?:raad|bond|stichting|vereniging|federatie|instituut|centrum|ministerie|inspectie|steunpunt|platform"
    r"|academie|hogeschool|universiteit|samenwerkingsverband|swv|onderwijs)\b",
    re.I,
)

_UP = "A-Z\u00c0-\u00dd"
_LOW = "a-z\u00df-\u00ff"
_GIVEN = (
    rf"(?!(?:De|Het|Van|Den|Der|Ter|Ten)\s)(?:[{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)?|(?:[{_UP}]\.\s?){{0,2}}[{_UP}]\.)"
)
_PARTICLE = r"(?:van|de|der|den|ter|ten|te|het|in|op|'t|’t|la|le|du|von|Van|De|Ter|Ten)"
_SURNAME = rf"[{_UP}][{_LOW}]+(?:-[{_UP}][{_LOW}]+)?"
#: a person's name: a given name or initials, particles and a surname ("Jan de Vos", "G. Ledoux")
RE_PERSON = re.compile(rf"(?<![\w’'-]){_GIVEN}\s+(?:{_PARTICLE}\s+)*{_SURNAME}(?![\w’'-])")
_RE_ROLE_NAME = re.compile(
    rf"^(?:\(?[Ee]x-?\)?-?)?(?P<role>[{_UP}{_LOW}’'-]+)\s+(?P<name>[{_UP}][{_LOW}]+(?:\s+(?:{_PARTICLE}\s+)*{_SURNAME})?)"
)
#: where an introduction stops naming its speaker: "…, over Pim, haar zoon:", "… kon …"
_RE_CUT = re.compile(
    r"\s*(?:,\s*|\s)(?:over|waar|vragen|vraagt|vertelt|kon|kan|schrijft|zegt|tijdens|aan het woord)\b.*$"
    r"|\s*\((?:zie|foto)[^)]*\)|\s*:.*$"
)
_RE_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
MAX_BYLINE = 160  # characters: a longer block is running text
MAX_INTRO = 240


@dataclass(frozen=True)
class Credit:
    """The contribution a block belongs to: its title and who says it ("" when unknown)."""

    story: str = ""
    speaker: str = ""


@dataclass(frozen=True)
class Byline:
    kind: str  # "closing" | "intro" | "heading" (a heading "Role Name: “quote”")
    speaker: str
    title: str = ""  # the title a heading byline carries


def fold(text: str) -> str:
    """Lower case without accents, punctuation as spaces: how names are compared."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w&]+", " ", text).split())


@lru_cache(maxsize=1)
def _org_index() -> dict[str, tuple[str, ...]]:
    """Every folded name of a known organisation → all its names."""
    return {fold(name): names for names in ORGANISATIONS for name in names}


def known_organisation(text: str) -> tuple[str, ...] | None:
    """The names of the known organisation ``text`` is (exactly), or None."""
    return _org_index().get(fold(text.strip(" .:;,")))


def _organisations_in(text: str) -> list[tuple[str, ...]]:
    folded = f" {fold(text)} "
    found = []
    for key, names in _org_index().items():
        if f" {key} " in folded and names not in found:
            found.append(names)
    return found


def _is_role(word: str) -> bool:
    w = word.lower().strip("()-,.:")
    w = re.sub(r"^\(?ex-?\)?-?", "", w)
    return w in ROLES or (len(w) > 6 and w.endswith(_ROLE_ENDINGS))


def _starts_org(text: str) -> bool:
    return any(fold(text).startswith(key + " ") or fold(text) == key for key in _org_index())


def _sentence_like(text: str) -> bool:
    return bool(re.search(r"[.!?][”’\"']?\s*$", text)) and len(text.split()) > 12


def _closing(text: str) -> str | None:
    """The speaker of a closing signature, or None."""
    t = " ".join(text.split()).strip()
    if not t or len(t) > MAX_BYLINE or _RE_URL.search(t) or _sentence_like(t) or t.endswith("?"):
        return None
    if known_organisation(t) is not None:
        return t.strip(" .:;,")
    words = t.split()
    short = len(words) <= 4 and t[0].isupper() and not t.rstrip().endswith((".", ":", ";", ","))
    if short and _ORG_WORDS.search(t) and (re.search(r"[A-Z]{2}", t) or re.search(r"[a-z][A-Z]", t)):
        return t  # an organisation signs: "Stichting VOBO"
    if _starts_org(t):
        names = next(n for key, n in _org_index().items() if fold(t).startswith(key + " ") or fold(t) == key)
        return names[0]  # "Ouders & Onderwijs Marc Dullaert tijdens …" (a caption ran into it)
    m = RE_PERSON.match(t)
    if m is None or _is_role(m.group(0).split()[0]):
        return None
    rest = t[m.end() :].lstrip(" ,")
    first = rest.split()[0] if rest.split() else ""
    if not rest or not (_is_role(first) or _starts_org(rest) or rest.startswith(("namens", "Namens"))):
        return None
    return _display(m.group(0), rest)


def _display(name: str, rest: str) -> str:
    rest = _RE_CUT.sub("", rest).strip(" ,:;.")
    if rest.lower().startswith("namens "):
        return f"{name} {rest}"
    return f"{name}, {rest[:1].lower() + rest[1:] if _is_role(rest.split()[0]) else rest}" if rest else name


def _intro(text: str) -> str | None:
    """The speaker of an introduction ("Carlijn Volker, onderwijs-zorgconsulent:"), or None."""
    t = " ".join(text.split()).strip()
    if not t.endswith(":") or len(t) > MAX_INTRO or _RE_URL.search(t):
        return None
    body = t.rstrip(":").strip()
    m = RE_PERSON.match(body)
    if m is not None and not _is_role(m.group(0).split()[0]):
        rest = body[m.end() :].lstrip(" ,")
        return _display(m.group(0), rest)
    rn = _RE_ROLE_NAME.match(body)
    if rn is not None and _is_role(rn.group("role")):
        return _RE_CUT.sub("", body[: rn.end()] + body[rn.end() :]).strip(" ,:;")[:MAX_BYLINE]
    # "Leraren van het Jaar 2015, Lonneke Thijs en Wouter Siebers, vragen zich af:"
    head, _, tail = body.partition(",")
    names = RE_PERSON.findall(tail)
    if names and any(_is_role(w) for w in head.split()[:2]):
        return f"{_RE_CUT.sub('', tail).strip(' ,')}, {head.strip()}"
    return None


def _heading_byline(text: str) -> Byline | None:
    """A heading "IB’er Dineke Hoogeveen: “Geweldig, nu vinden we elkaar!”"."""
    m = re.match(r"^(.{3,80}?):\s*([“\"‘'].+)$", text.strip())
    if not m:
        return None
    speaker = _intro(m.group(1) + ":")
    return Byline("heading", speaker, m.group(2).strip()) if speaker else None


def bylines(blocks: list[Block]) -> dict[int, Byline]:
    """The bylines among ``blocks`` (by index)."""
    out: dict[int, Byline] = {}
    for i, b in enumerate(blocks):
        prev = blocks[i - 1] if i else None
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if b.kind == "heading":
            hb = _heading_byline(b.text)
            if hb is not None:
                out[i] = hb
                continue
        if b.kind == "paragraph" and nxt is not None and (nxt.kind == "heading" or _title_like(nxt)):
            speaker = _intro(b.text)
            if speaker:
                out[i] = Byline("intro", speaker)
                continue
        after_text = prev is not None and prev.kind in ("paragraph", "list") and (i - 1) not in out
        ends = nxt is None or nxt.kind == "heading" or _trailer(blocks, i + 1)
        if b.kind in ("paragraph", "heading") and after_text and ends:
            speaker = _closing(b.text)
            if speaker:
                out[i] = Byline("closing", speaker)
    return out


def _title_like(b: Block) -> bool:
    t = b.text.strip()
    return b.kind == "paragraph" and len(t) <= 100 and not t.endswith((".", ":", ";", ",")) and not _RE_URL.search(t)


def _trailer(blocks: list[Block], i: int) -> bool:
    """Block ``i`` ends a contribution after its signature: a URL, a second line of the
    byline, or an introduction of the next one; followed by a heading or the end."""
    b = blocks[i]
    t = b.text.strip()
    short = b.kind == "paragraph" and (bool(_RE_URL.fullmatch(t)) or (len(t) <= 80 and not t.endswith((".", "?"))))
    if _intro(t) is not None:
        return True
    nxt = blocks[i + 1] if i + 1 < len(blocks) else None
    return short and (nxt is None or nxt.kind == "heading")


def _trailing(blocks: list[Block], found: dict[int, Byline], j: int) -> list[int]:
    """The blocks after closing signature ``j`` that belong to it: its second line, a URL."""
    out = []
    k = j + 1
    while k < len(blocks) and k not in found and blocks[k].kind == "paragraph" and _intro(blocks[k].text) is None:
        if not _trailer(blocks, k):
            break
        out.append(k)
        k += 1
    return out


def _title_start(b: Block, after_boundary: bool) -> bool:
    """A heading that may open a contribution: a display title (two lines), a heading that
    starts a page with three words or more, or the first heading after a contribution."""
    if b.kind != "heading":
        return False
    raw_lines = [ln for ln in (b.raw or "").splitlines() if ln.strip()]
    page_start = bool(b.raw[:1].isspace()) if b.raw else False
    return after_boundary or len(raw_lines) >= 2 or (page_start and len(b.text.split()) >= 3)


def credits(blocks: list[Block], meta: dict) -> list[Credit]:
    """Each block's contribution and speaker (see the module docstring)."""
    found = bylines(blocks)
    if len(found) < 2:  # not a collection: one contribution, by the document's author
        author = " ".join(str(meta.get("author") or "").split())
        return [Credit("", author)] * len(blocks)
    n = len(blocks)
    story: list[str | None] = [None] * n
    speaker: list[str] = [""] * n
    trailers = {k: _trailing(blocks, found, k) for k, b in found.items() if b.kind == "closing"}
    trailing = {t for ts in trailers.values() for t in ts}
    starts = [False] * n
    boundary = True
    for i, b in enumerate(blocks):
        if (i in found and found[i].kind == "closing") or i in trailing:
            boundary = True
            continue
        starts[i] = i not in found and _title_start(b, boundary)
        if b.kind == "heading" or b.kind == "paragraph":
            boundary = boundary and b.kind != "paragraph" and not starts[i]

    def first_heading(lo: int, hi: int) -> str:
        return next((blocks[k].text for k in range(lo, hi) if blocks[k].kind == "heading" and k not in found), "")

    # closing signatures: back to the title their contribution opened with
    for j in sorted(k for k, b in found.items() if b.kind == "closing"):
        k = j - 1
        while k >= 0 and k not in found and story[k] is None and not starts[k]:
            k -= 1
        start = k if k >= 0 and starts[k] and k not in found and story[k] is None else k + 1
        title = first_heading(start, j)
        for k in [*range(start, j + 1), *trailers[j]]:
            story[k], speaker[k] = title, found[j].speaker
    # introductions and heading bylines: forward to the next title, byline or credited block
    for i in sorted(k for k, b in found.items() if b.kind != "closing"):
        if story[i] is not None:
            continue
        by = found[i]
        title = by.title or (blocks[i + 1].text if i + 1 < n and by.kind == "intro" else "")
        end = i + 1 + (1 if by.kind == "intro" else 0)
        while end < n and end not in found and story[end] is None and not starts[end]:
            end += 1
        for k in range(i, end):
            story[k], speaker[k] = title, by.speaker
    # the rest: under the nearest title above, without a speaker
    current = ""
    out: list[Credit] = []
    for i, b in enumerate(blocks):
        if story[i] is not None:
            current = story[i] or current
            out.append(Credit(story[i] or "", speaker[i]))
            continue
        if starts[i] or (b.kind == "heading" and not current):
            current = b.text
        out.append(Credit(current, ""))
    return out


_LINKS = frozenset(["de", "van", "het", "voor", "en", "&"])


def _capital_runs(text: str) -> list[str]:
    """Runs of capitalised words, with "de", "van", "en", "&" inside them: "De Breede Hei"."""
    runs: list[list[str]] = [[]]
    for tok in re.findall(r"[\w’'()&-]+|[,;:/]", text):
        if tok in ",;:/":
            runs.append([])
        elif tok[:1].isupper() or tok[1:2].isupper() or (tok.lower() in _LINKS and runs[-1]):
            runs[-1].append(tok)
        else:
            runs.append([])
    out = []
    for run in runs:
        while run and not run[-1][:1].isupper():
            run.pop()
        if len(run) >= 2:
            out.append(" ".join(run))
    return out


def aliases(speaker: str) -> list[str]:
    """The names a question may use for ``speaker``, folded (:func:`fold`): a person's full
    name and surname with its particles ("van veen"), a surname alone when it is no Dutch
    word, every name of a known organisation in it ("aob" for the Algemene Onderwijsbond)
    and other names of two capitalised words or more ("de breede hei")."""
    from ingest.clean.lexicon import zipf

    out: list[str] = []

    def add(name: str) -> None:
        f = fold(name)
        if f and f not in out:
            out.append(f)

    for names in _organisations_in(speaker):
        for name in names:
            add(name)
    persons: list[str] = []
    orgs = [key for key in _org_index() if len(key) > 4]
    for m in RE_PERSON.finditer(speaker):
        name = m.group(0)
        if any(_is_role(w) for w in name.split()) or any(fold(name) in key for key in orgs):
            continue
        persons.append(fold(name))
        add(name)
        rest = re.match(rf"^{_GIVEN}\s+(.+)$", name)
        surname = rest.group(1) if rest else ""
        if " " in surname or (len(surname) >= 4 and zipf(surname) < 3.0):
            add(surname)  # "van Veen", "Ledoux"; not "Dekker", "Veen": Dutch words too
    rn = _RE_ROLE_NAME.match(speaker)
    if rn is not None and _is_role(rn.group("role")) and fold(rn.group("name")) not in persons:
        add(f"{rn.group('role')} {rn.group('name')}")  # "moeder Mirjam"
        if " " in rn.group("name"):
            add(rn.group("name"))
    for run in _capital_runs(speaker):
        f = fold(run)
        if any(_is_role(w) for w in run.split()) or any(f in p or p in f for p in persons):
            continue
        if _org_index().get(f) is None and len(f) > 4:
            add(run)
    return out
