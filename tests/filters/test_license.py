"""License normalization and the ``license`` filter."""

import pytest
from datatrove.data import Document

from jmedcorpus.filters.license import LicenseFilter
from jmedcorpus.text.licenses import normalize_license


@pytest.mark.parametrize(
    "value, name",
    [
        ("https://creativecommons.org/licenses/by/4.0/", "CC BY 4.0"),
        ("http://creativecommons.org/licenses/by-nc-nd/4.0/deed.ja", "CC BY-NC-ND 4.0"),
        ("https://creativecommons.org/licenses/by-nc-sa/3.0/igo/", "CC BY-NC-SA 3.0 IGO"),
        ("https://creativecommons.org/licenses/by/2.1/jp/", "CC BY 2.1 JP"),
        ("CC-BY-4.0", "CC BY 4.0"),
        ("CC BY 4.0", "CC BY 4.0"),
        ("cc by4.0", "CC BY 4.0"),
        ("CC-BY", "CC BY"),
        ("CC BY-ND-NC 4.0", "CC BY-NC-ND 4.0"),
        ("CC-BY-SA-4.0", "CC BY-SA 4.0"),
        ("CC0-1.0", "CC0 1.0"),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0"),
        (
            (
                "This is an open access article distributed under the terms of the Creative Commons "
                "Attribution 4.0 International License, which permits unrestricted use."
            ),
            "CC BY 4.0",
        ),
        ("Attribution-NonCommercial-NoDerivatives 4.0 International", "CC BY-NC-ND 4.0"),
        (
            "本論文はクリエイティブ・コモンズ 表示-非営利-改変禁止 4.0 国際 ライセンスの下に提供されています。",
            "CC BY-NC-ND 4.0",
        ),
        ("© 2021 Example Press Inc. All rights reserved.", "all rights reserved"),
        ("本誌掲載記事の無断転載を禁ず", "all rights reserved"),
        ("open-access", "other"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_license(value, name):
    assert normalize_license(value) == name


def doc(license_value=None):
    metadata = {"source": "x"} if license_value is None else {"source": "x", "license": license_value}
    return Document(text="症例は70歳，男性．", id="d", metadata=metadata)


def keeps(step, value):
    return step.filter(doc(value)) is True


def test_allow_matches_family_and_version():
    step = LicenseFilter(allow=["CC BY", "CC0", "CC BY-SA 4.0"])
    assert keeps(step, "https://creativecommons.org/licenses/by/4.0/")
    assert keeps(step, "CC BY 2.1 JP") and keeps(step, "CC-BY-4.0") and keeps(step, "CC0-1.0")
    assert keeps(step, "CC BY-SA 4.0") and not keeps(step, "CC BY-SA 3.0")
    assert step.filter(doc("CC BY-NC 4.0")) == (False, "license_not_allowed")
    assert not keeps(step, "all rights reserved") and not keeps(step, "open-access")
    versioned = LicenseFilter(allow=["CC-BY-4.0"])
    assert keeps(versioned, "CC BY 4.0") and not keeps(versioned, "CC BY 3.0")


def test_signal_is_normalized_and_unknown_kept_by_default():
    d = doc("CC-BY-NC-4.0")
    LicenseFilter().filter(d)
    assert d.metadata["license"] == "CC BY-NC 4.0"
    assert LicenseFilter.signal_fields == {"license": "string"}
    assert LicenseFilter().filter(doc()) is True
    assert LicenseFilter(keep_unknown=False).filter(doc()) == (False, "license_not_allowed")
    assert keeps(LicenseFilter(allow=["all rights reserved"]), "© 2020 X. All rights reserved.")


@pytest.mark.parametrize("kw", [{"allow": "CC BY"}, {"allow": []}, {"allow": [""]}, {"keep_unknown": "yes"}])
def test_invalid_parameters(kw):
    with pytest.raises(ValueError):
        LicenseFilter(**kw)
