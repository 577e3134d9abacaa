"""Keep documents by license (the ``license`` step), e.g. only CC BY articles from a JATS build.

License names are normalized by :func:`jmedcorpus.text.licenses.normalize_license` (its docstring
has the table of forms); ``allow`` entries are normalized the same way and match by family, and
by version only when the entry names one.
"""

from __future__ import annotations

from typing import ClassVar

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.constants import LICENSE_NOT_ALLOWED
from jmedcorpus.registry import register_step
from jmedcorpus.text.licenses import META_LICENSE, family_version, normalize_license


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
    reasons: ClassVar[tuple[str, ...]] = (LICENSE_NOT_ALLOWED,)
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
        self.allow = [family_version(normalize_license(a)) for a in allow]
        self.keep_unknown = keep_unknown

    def allowed(self, license_name: str) -> bool:
        family, version = family_version(license_name)
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
