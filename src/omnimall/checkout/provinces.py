"""The provinces an address may name, and how a typed province is recognised (pure Python).

The 34 provincial-level divisions of GB/T 2260 (provinces, autonomous regions,
municipalities, Hong Kong, Macao and Taiwan), each under its ISO 3166-2:CN code without
the ``CN-`` prefix (``XJ`` is Xinjiang). Shipping zones list provinces by these codes.

Addresses keep the province as the shopper wrote it (that is what goes on the parcel);
``province_code`` finds which division it names, whether written in full
(``新疆维吾尔自治区``), short (``新疆``), followed by the city (``广东深圳``), in pinyin or
English (``Xinjiang``, ``Inner Mongolia``, ``Macau``) or as the code (``XJ``, ``CN-XJ``).
Anything else is not a province we know: addresses must name one, so that the delivery
fee of its zone applies (an unrecognised province would otherwise slip past a zone's fee
or past a region the shop does not deliver to).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Province:
    code: str  # ISO 3166-2:CN without "CN-"
    name_zh: str  # in full, as on a parcel
    short_zh: str  # as people say it, and how zone lists show it
    name_en: str
    aliases: tuple[str, ...] = ()  # more beginnings, Chinese or Latin


PROVINCES: tuple[Province, ...] = (
    Province("BJ", "北京市", "北京", "Beijing"),
    Province("TJ", "天津市", "天津", "Tianjin"),
    Province("HE", "河北省", "河北", "Hebei"),
    Province("SX", "山西省", "山西", "Shanxi"),
    Province("NM", "内蒙古自治区", "内蒙古", "Inner Mongolia", ("内蒙", "neimenggu", "neimongol")),
    Province("LN", "辽宁省", "辽宁", "Liaoning"),
    Province("JL", "吉林省", "吉林", "Jilin"),
    Province("HL", "黑龙江省", "黑龙江", "Heilongjiang"),
    Province("SH", "上海市", "上海", "Shanghai"),
    Province("JS", "江苏省", "江苏", "Jiangsu"),
    Province("ZJ", "浙江省", "浙江", "Zhejiang"),
    Province("AH", "安徽省", "安徽", "Anhui"),
    Province("FJ", "福建省", "福建", "Fujian"),
    Province("JX", "江西省", "江西", "Jiangxi"),
    Province("SD", "山东省", "山东", "Shandong"),
    Province("HA", "河南省", "河南", "Henan"),
    Province("HB", "湖北省", "湖北", "Hubei"),
    Province("HN", "湖南省", "湖南", "Hunan"),
    Province("GD", "广东省", "广东", "Guangdong", ("廣東",)),
    Province("GX", "广西壮族自治区", "广西", "Guangxi"),
    Province("HI", "海南省", "海南", "Hainan"),
    Province("CQ", "重庆市", "重庆", "Chongqing"),
    Province("SC", "四川省", "四川", "Sichuan"),
    Province("GZ", "贵州省", "贵州", "Guizhou"),
    Province("YN", "云南省", "云南", "Yunnan"),
    Province("XZ", "西藏自治区", "西藏", "Tibet", ("xizang",)),
    Province("SN", "陕西省", "陕西", "Shaanxi"),
    Province("GS", "甘肃省", "甘肃", "Gansu"),
    Province("QH", "青海省", "青海", "Qinghai"),
    Province("NX", "宁夏回族自治区", "宁夏", "Ningxia"),
    Province("XJ", "新疆维吾尔自治区", "新疆", "Xinjiang"),
    Province("HK", "香港特别行政区", "香港", "Hong Kong", ("xianggang",)),
    Province("MO", "澳门特别行政区", "澳门", "Macao", ("澳門", "macau", "aomen")),
    Province("TW", "台湾省", "台湾", "Taiwan", ("台灣", "臺灣", "臺湾")),
)

BY_CODE = {p.code: p for p in PROVINCES}
CODES = tuple(p.code for p in PROVINCES)


def _latin(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _prefixes() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    chinese: list[tuple[str, str]] = []
    latin: list[tuple[str, str]] = []
    for p in PROVINCES:
        chinese.append((p.short_zh, p.code))
        latin.append((_latin(p.name_en), p.code))
        for alias in p.aliases:
            if alias.isascii():
                latin.append((_latin(alias), p.code))
            else:
                chinese.append((alias, p.code))
    # Longest first, so that a longer name wins over any shorter one it starts with.
    return (
        tuple(sorted(chinese, key=lambda item: -len(item[0]))),
        tuple(sorted(latin, key=lambda item: -len(item[0]))),
    )


_CHINESE, _LATIN = _prefixes()


def province_code(text: object) -> str | None:
    """The code of the province ``text`` names (see the module docstring), else None."""
    if not isinstance(text, str):
        return None
    compact = "".join(text.split())
    if not compact:
        return None
    upper = compact.upper().removeprefix("CN-")
    if upper in BY_CODE:
        return upper
    for prefix, code in _CHINESE:
        if compact.startswith(prefix):
            return code
    latin = _latin(compact)
    if latin:
        for prefix, code in _LATIN:
            if latin.startswith(prefix):
                return code
    return None


def province_name(code: str, *, zh: bool) -> str:
    """The short name of a province (``新疆`` / ``Xinjiang``); an unknown code as given."""
    found = BY_CODE.get(code)
    if found is None:
        return code
    return found.short_zh if zh else found.name_en
