"""Keep documents by license (the ``license`` step), e.g. only CC BY articles from a JATS build.

License names are normalized by :func:`normalize_license` to ``CC <FAMILY> <version>[ <port>]``:

=====================================================================  ======================
input                                                                  normalized
=====================================================================  ======================
``https://creativecommons.org/licenses/by/4.0/`` (``xlink:href``)      ``CC BY 4.0``
``http://creativecommons.org/licenses/by-nc-nd/4.0/deed.ja``           ``CC BY-NC-ND 4.0``
``https://creativecommons.org/licenses/by/2.1/jp/``                    ``CC BY 2.1 JP``
``CC-BY-4.0`` (SPDX), ``CC BY 4.0``, ``cc by4.0``, ``CC-BY``           ``CC BY 4.0`` / ``CC BY``
``CC BY-NC-SA``, ``CC-BY-SA-4.0``                                      ``CC BY-NC-SA`` / ``CC BY-SA 4.0``
``This is an open access article distributed under the terms of the    ``CC BY 4.0``
Creative Commons Attribution 4.0 International License``
``Attribution-NonCommercial-NoDerivatives 4.0 International``          ``CC BY-NC-ND 4.0``
``クリエイティブ・コモンズ 表示-非営利-改変禁止 4.0 国際 ライセンス``        ``CC BY-NC-ND 4.0``
``https://creativecommons.org/publicdomain/zero/1.0/``, ``CC0-1.0``    ``CC0 1.0``
``© 2020 Elsevier. All rights reserved.``, ``無断転載を禁ず``          ``all rights reserved``
any other non-empty value                                              ``other``
=====================================================================  ======================

Modifiers are written in one order (NC, then ND or SA), so ``CC BY-ND-NC`` and
``CC BY-NC-ND`` are the same license.

``allow`` entries are normalized the same way and match by family, and by version only when the
entry names one: ``CC BY`` keeps ``CC BY 4.0`` and ``CC BY 2.1 JP`` but not ``CC BY-NC 4.0``;
``CC BY 4.0`` keeps only 4.0.
"""

from __future__ import annotations

import re
from typing import ClassVar

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import LICENSE_NOT_ALLOWED
from jmedcorpus.registry import register_step

META_LICENSE = "license"
ALL_RIGHTS_RESERVED = "all rights reserved"
OTHER = "other"

_MODIFIERS = ("NC", "ND", "SA")
_CC_URL = re.compile(
    r"creativecommons\.org/(?:licenses/(?P<kind>[a-z\-]+)(?:/(?P<ver>\d(?:\.\d)?))?(?:/(?P<port>[a-z]{2,3})(?=/|$|\s))?"
    r"|publicdomain/(?P<pd>zero|mark)(?:/(?P<pdver>\d\.\d))?)",
    re.IGNORECASE,
)
_CC0 = re.compile(r"\bCC[\s\-_]?(?:0|zero)(?:[\s\-_]*v?(?P<ver>\d\.\d))?(?![\w.])", re.IGNORECASE)
_CC_ABBR = re.compile(
    r"\bCC[\s\-_]*BY(?P<mods>(?:[\s\-_]*(?:NC|ND|SA)\b)*)(?:[\s\-_]*v?(?P<ver>\d\.\d))?"
    r"(?:[\s\-_]+(?P<port>JP|IGO)\b)?",
    re.IGNORECASE,
)
_VERSION = re.compile(r"(?<![\d.])(\d\.\d)(?![\d.])")
_WORDS_EN = {
    "NC": re.compile(r"non[\s\-]?commercial", re.IGNORECASE),
    "ND": re.compile(r"no[\s\-]?deriv", re.IGNORECASE),
    "SA": re.compile(r"share[\s\-]?alike", re.IGNORECASE),
}
_WORDS_JA = {"NC": re.compile("非営利"), "ND": re.compile("改変禁止"), "SA": re.compile("継承")}
_ALL_RIGHTS = re.compile(r"all rights reserved|無断(?:転載|複製|複写)|不許複製", re.IGNORECASE)


def _name(mods, version: str | None, port: str | None = None) -> str:
    family = "CC BY" + "".join(f"-{m}" for m in _MODIFIERS if m in mods)
    return " ".join(x for x in (family, version, port.upper() if port else None) if x)


def normalize_license(value) -> str | None:
    """A license name, URL or statement → its normalized name (table above); None if empty."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = " ".join(value.split())
    m = _CC_URL.search(text)
    if m:
        if m.group("pd"):
            return "CC0 " + (m.group("pdver") or "1.0") if m.group("pd").lower() == "zero" else "PDM 1.0"
        parts = m.group("kind").lower().split("-")
        if parts[0] == "by":
            return _name({p.upper() for p in parts[1:]}, m.group("ver"), m.group("port"))
    m = _CC0.search(text)
    if m:
        return "CC0" + (f" {m.group('ver')}" if m.group("ver") else "")
    m = _CC_ABBR.search(text)
    if m:
        mods = {x.upper() for x in re.findall(r"NC|ND|SA", m.group("mods") or "", re.IGNORECASE)}
        return _name(mods, m.group("ver"), m.group("port"))
    version = _VERSION.search(text)
    ver = version.group(1) if version else None
    if re.search(r"creative\s*commons|attribution", text, re.IGNORECASE):
        if re.search(r"public\s+domain|\bzero\b", text, re.IGNORECASE):
            return "CC0" + (f" {ver}" if ver else "")
        if re.search(r"attribution", text, re.IGNORECASE):
            return _name({m for m, rx in _WORDS_EN.items() if rx.search(text)}, ver)
    if re.search(r"クリエイティブ・?コモンズ", text) and "表示" in text:
        return _name({m for m, rx in _WORDS_JA.items() if rx.search(text)}, ver)
    if _ALL_RIGHTS.search(text):
        return ALL_RIGHTS_RESERVED
    return OTHER


def _family_version(name: str) -> tuple[str, str | None]:
    parts = name.split(" ")
    if name.startswith("CC "):  # "CC BY-NC 4.0 JP" -> ("CC BY-NC", "4.0 JP")
        return " ".join(parts[:2]), " ".join(parts[2:]) or None
    if name.startswith(("CC0", "PDM")):
        return parts[0], " ".join(parts[1:]) or None
    return name, None


@register_step("license")
class LicenseFilter(BaseFilter):
    """Keep documents whose ``metadata["license"]`` is allowed (set by the JATS reader).

    Both the document's license and the ``allow`` entries are normalized with
    :func:`normalize_license` (``CC-BY-4.0``, ``CC BY 4.0`` and the creativecommons.org URL are
    the same license). An entry without a version allows every version of its family (``CC BY``
    allows ``CC BY 4.0`` and ``CC BY 2.1 JP``, not ``CC BY-NC``). Writes the normalized name back to
    ``metadata["license"]``; reason ``license_not_allowed``.

    Args:
        allow: license names to keep, e.g. ``["CC BY", "CC BY-SA", "CC0"]``; also
            ``"all rights reserved"`` and ``"other"`` (an unrecognized license).
        keep_unknown: keep documents without any license (JSONL, text files, JATS articles
            with no permissions statement). Default True.
        exclusion_writer: optional writer for dropped documents.
    """

    name = "license"
    signal_fields: ClassVar[dict[str, str]] = {META_LICENSE: "string"}

    def __init__(
        self,
        *,
        allow: list[str] = ("CC BY", "CC BY-SA", "CC0"),
        keep_unknown: bool = True,
        exclusion_writer=None,
    ) -> None:
        super().__init__(exclusion_writer)
        if isinstance(allow, str) or not all(isinstance(a, str) and a.strip() for a in allow):
            raise ValueError(f"allow must be a list of license names, e.g. ['CC BY', 'CC0'], got {allow!r}")
        if not allow:
            raise ValueError("allow must name at least one license, e.g. ['CC BY']")
        if not isinstance(keep_unknown, bool):
            raise ValueError(f"keep_unknown must be true or false, got {keep_unknown!r}")  # noqa: TRY004 - recipe errors are ValueError
        self.allow = [_family_version(normalize_license(a)) for a in allow]
        self.keep_unknown = keep_unknown

    def allowed(self, license_name: str) -> bool:
        family, version = _family_version(license_name)
        return any(
            f == family and (v is None or version is not None and (version + " ").startswith(v + " "))
            for f, v in self.allow
        )

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        name = normalize_license(doc.metadata.get(META_LICENSE))
        doc.metadata[META_LICENSE] = name
        if name is None:
            return self.keep_unknown or (False, LICENSE_NOT_ALLOWED)
        return self.allowed(name) or (False, LICENSE_NOT_ALLOWED)
