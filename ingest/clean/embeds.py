"""Images, links and HTML in a document's text: never shown as anything but their words.

Text from a document is shown in the app and written into the exported handout; it must
never load remote content or pose as the app's own interface (a "Begrippenlijst" with a
link, an image from another server). :func:`strip_embeds` (a line pass, right after the
markup pass) takes out, from the raw lines of each page at once so that a link or a tag
spanning lines goes too:

- Markdown images (``![alt](url)``, ``![alt][ref]``), alt text and all;
- Markdown links, keeping their text: ``[tekst](url)`` and ``[tekst][ref]`` become ``tekst``;
  a link without text goes, and so does a reference definition (``[ref]: https://…``);
- HTML comments, and HTML elements whose content is not text (``<script>``, ``<style>``,
  ``<iframe>``, ``<svg>``, ``<video>`` …) with their content;
- every other HTML tag (``<img …>``, ``<a href=…>``, ``<div>`` …), keeping the text
  between the tags.

Footnote marks (``<sup>4</sup>``, ``[^4]``) stay for :mod:`~ingest.clean.footnotes`, and
``<https://…>`` for :mod:`~ingest.clean.markup` (which shows the address as text). A
line's ``raw`` stays as the file has it; only its text changes, and a line that held
nothing but an image or a tag is dropped (the paragraph around it goes on).
:func:`without_embeds` is the same rewrite for one text.
"""

from __future__ import annotations

import re

from ingest.clean.draft import Draft
from ingest.clean.markup import strip_markup

#: the text between brackets: anything but brackets, or one level of nested brackets ("[zie [1]]")
_LABEL = r"(?:[^\[\]]|\[[^\[\]]{0,200}\]){0,500}"
#: a link destination in parentheses, with an optional title; one level of nested parentheses
_DEST = r"\((?:[^()]|\([^()]{0,500}\)){0,2000}\)"
_IMAGE = re.compile(rf"!\[{_LABEL}\](?:{_DEST}|\[[^\[\]]{{0,200}}\])?")
_LINK = re.compile(rf"\[(?!\^)({_LABEL})\](?:{_DEST}|\[[^\[\]\n]{{0,200}}\])")
#: "[ref]: https://…" (a destination that is an address, optionally a title): a definition line
_DEFINITION = re.compile(
    r"^[ ]{0,3}\[(?!\^)[^\]\n]{1,200}\]:[ \t]*<?(?:[A-Za-z][\w+.-]{0,30}:|/|#|www\.)[^\s>]*>?"
    r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*$",
    re.M,
)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
#: elements whose content is code or media, not text: they go with their content
_OPAQUE = (
    "script|style|iframe|object|svg|math|video|audio|canvas|noscript|template|picture|map|head|title|select|textarea"
)
_OPAQUE_ELEMENT = re.compile(rf"<({_OPAQUE})\b[^>]*>.*?(?:</\1\s*>|\Z)", re.S | re.I)
#: the names of HTML elements (``sup`` is kept: it marks footnotes)
_NAMES = (
    "a|abbr|address|applet|area|article|aside|audio|b|base|basefont|bdi|bdo|big|blink|blockquote|body|br|button|"
    "canvas|caption|center|cite|code|col|colgroup|data|datalist|dd|del|details|dfn|dialog|dir|div|dl|dt|em|embed|"
    "fieldset|figcaption|figure|font|footer|form|frame|frameset|h[1-6]|head|header|hgroup|hr|html|i|iframe|image|img|"
    "input|ins|kbd|label|legend|li|link|main|map|mark|marquee|math|menu|meta|meter|nav|nobr|noembed|noframes|"
    "noscript|object|ol|optgroup|option|output|p|param|picture|plaintext|portal|pre|progress|q|rp|rt|ruby|s|samp|"
    "script|search|section|select|slot|small|source|span|strike|strong|style|sub|summary|svg|table|tbody|td|"
    "template|textarea|tfoot|th|thead|time|title|tr|track|tt|u|ul|var|video|wbr|xmp"
)
_TAG = re.compile(rf"</?(?:{_NAMES})(?=[\s/>])(?:[^<>\"']|\"[^\"]*\"|'[^']*')*>", re.I)
#: tags that end a line of text in a browser: replaced by a space so words do not run together
_BREAKING = re.compile(r"</?(?:br|p|div|li|tr|td|th|h[1-6]|hr|table|ul|ol|dd|dt|blockquote|section|img)\b", re.I)


def _gone(m: re.Match) -> str:
    """Nothing of the match, but its line breaks (the page keeps its lines)."""
    return "\n" * m.group(0).count("\n")


def _label(m: re.Match) -> str:
    """A link's text, and the line breaks of the part that goes."""
    label = m.group(1)
    return label + "\n" * (m.group(0).count("\n") - label.count("\n"))


def _tag(m: re.Match) -> str:
    tag = m.group(0)
    return ("\n" * tag.count("\n")) or (" " if _BREAKING.match(tag) else "")


def without_embeds(text: str) -> str:
    """``text`` without images, links (their text kept) and HTML tags; its line breaks kept."""
    if "[" not in text and "<" not in text:
        return text
    text = _COMMENT.sub(_gone, text)
    text = _OPAQUE_ELEMENT.sub(_gone, text)
    text = _IMAGE.sub(_gone, text)
    text = _DEFINITION.sub(_gone, text)
    for _ in range(3):  # a link in a link's text ("[[tekst](a)](b)")
        text, n = _LINK.subn(_label, text)
        if not n:
            break
    return _TAG.sub(_tag, text)


def strip_embeds(d: Draft) -> None:
    """Pass: each page's lines without images, links and HTML (see the module); raw kept."""
    for p, lines in enumerate(d.page_lines):
        raw = "\n".join(line.raw for line in lines)
        clean = without_embeds(raw)
        if clean == raw:
            continue
        new = clean.split("\n")
        if len(new) != len(lines):  # cannot happen (line breaks are kept); leave the page as it was
            continue
        kept = []
        for line, text in zip(lines, new, strict=True):
            if text != line.raw and not line.blank:
                line.text, line.level, line.bold = strip_markup(text)
                if not line.text.strip():
                    continue  # only an image or a tag: the line goes, the paragraph goes on
            kept.append(line)
        d.page_lines[p] = kept
