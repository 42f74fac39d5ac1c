"""Text we did not write, inside Streamlit's Markdown: shown exactly as written, never as markup.

Streamlit renders the body of ``st.error``, ``st.warning``, ``st.info``, ``st.success``
and ``st.caption`` as Markdown. An error message can quote a file name, a PDF's bytes or
a server's reply; as Markdown those could show a live link, load a remote image or pose
as a heading. :func:`md_plain` makes such text literal:

- Markdown's own syntax is backslash-escaped (``\\ ` * [ ] < > $ ~ |``, ``_`` at a word's
  edge, ``&`` of an entity, and ``# - + =`` and ``1.`` at the start of a line);
- what Streamlit finds in the text *after* parsing, where an escape does not help (web
  addresses and e-mail addresses made into links, ``:smile:`` and ``:material/…:``
  shortcodes), is broken with an invisible word joiner (U+2060) after the ``:`` of
  ``https:``, the ``w`` of ``www.`` and the ``@``.

Copied text may carry that word joiner; it is invisible and screen readers skip it.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"

_ALWAYS = re.compile(r"[\\`*\[\]<>$~|]|(?<![^\W_])_|_(?![^\W_])|&(?=#?\w+;)")
_LINE_START = re.compile(r"^([ \t]*)([-+=#]|\d+[.)])", re.M)
_SHORTCODE_OR_SCHEME = re.compile(r":(?=[^\W\d_]|/)")  # "https://", ":smile:", ":material/home:"
_WWW = re.compile(r"(?i)\b(w)(ww\.)")
_AT = re.compile(r"@(?=[^\W_])")


def md_plain(text: object) -> str:
    """``text`` as Markdown that Streamlit shows literally: no link, image, icon or markup."""
    s = str(text if text is not None else "")
    s = _ALWAYS.sub(lambda m: "\\" + m.group(0), s)
    s = _LINE_START.sub(lambda m: f"{m.group(1)}{m.group(2)[:-1]}\\{m.group(2)[-1]}", s)
    s = _SHORTCODE_OR_SCHEME.sub(":" + WORD_JOINER, s)
    s = _WWW.sub(lambda m: m.group(1) + WORD_JOINER + m.group(2), s)
    return _AT.sub("@" + WORD_JOINER, s)


def shown(markdown: str) -> str:
    """What a reader sees of :func:`md_plain`'s output (its escapes and word joiners undone)."""
    return re.sub(r"\\(.)", r"\1", markdown.replace(WORD_JOINER, ""))
