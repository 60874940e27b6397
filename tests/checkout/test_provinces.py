"""Recognising the province an address names (pure)."""

from __future__ import annotations

import pytest

from omnimall.checkout.provinces import CODES, PROVINCES, province_code, province_name


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("新疆维吾尔自治区", "XJ"),
        ("新疆", "XJ"),
        (" 新 疆 ", "XJ"),
        ("Xinjiang Uygur Autonomous Region", "XJ"),
        ("xj", "XJ"),
        ("CN-XJ", "XJ"),
        ("上海市", "SH"),
        ("上海", "SH"),
        ("Shanghai", "SH"),
        ("广东深圳", "GD"),  # the city written in the province's field
        ("内蒙古自治区", "NM"),
        ("内蒙", "NM"),
        ("Inner Mongolia", "NM"),
        ("Nei Mongol", "NM"),
        ("Tibet", "XZ"),
        ("Xizang", "XZ"),
        ("Shanxi", "SX"),
        ("Shaanxi", "SN"),
        ("陕西省", "SN"),
        ("山西省", "SX"),
        ("Hong Kong SAR", "HK"),
        ("香港特别行政区", "HK"),
        ("Macau", "MO"),
        ("澳門", "MO"),
        ("臺灣", "TW"),
    ],
)
def test_province_code_recognises_the_ways_a_province_is_written(text, code):
    assert province_code(text) == code


@pytest.mark.parametrize("text", ["", "   ", "Atlantis", "California", "西安", "P", None, 42])
def test_province_code_is_none_for_anything_else(text):
    assert province_code(text) is None


def test_every_province_is_found_by_its_full_short_and_english_names():
    for province in PROVINCES:
        for text in (province.name_zh, province.short_zh, province.name_en, province.code):
            assert province_code(text) == province.code, text


def test_the_list_holds_the_34_provincial_level_divisions_once_each():
    assert len(CODES) == len(set(CODES)) == 34


def test_province_name_is_short_in_chinese_and_english_else_the_code():
    assert province_name("XJ", zh=True) == "新疆"
    assert province_name("XJ", zh=False) == "Xinjiang"
    assert province_name("ZZ", zh=True) == "ZZ"
