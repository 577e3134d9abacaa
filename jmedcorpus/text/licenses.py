"""License names, normalized (used by the JATS reader and the ``license`` step).

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


def family_version(name: str) -> tuple[str, str | None]:
    parts = name.split(" ")
    if name.startswith("CC "):  # "CC BY-NC 4.0 JP" -> ("CC BY-NC", "4.0 JP")
        return " ".join(parts[:2]), " ".join(parts[2:]) or None
    if name.startswith(("CC0", "PDM")):
        return parts[0], " ".join(parts[1:]) or None
    return name, None
