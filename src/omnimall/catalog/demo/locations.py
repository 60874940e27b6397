"""The demo's stock locations: two distribution centres and twelve stores in six cities."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

STORE_HOURS = "10:00–22:00"  # free text shown on pages in every language: no words


@dataclass(frozen=True, slots=True)
class LocationRow:
    code: str
    kind: str  # "warehouse" or "store" (inventory.models.LocationKind)
    name_en: str
    name_zh: str
    city: str
    address: str
    latitude: Decimal
    longitude: Decimal
    priority: int  # lower ships first: the warehouses before the stores
    can_ship: bool
    offers_pickup: bool
    opening_hours: str = ""


def _warehouse(
    code: str,
    name_en: str,
    name_zh: str,
    city: str,
    address: str,
    lat: str,
    lng: str,
    priority: int,
) -> LocationRow:
    return LocationRow(
        code,
        "warehouse",
        name_en,
        name_zh,
        city,
        address,
        Decimal(lat),
        Decimal(lng),
        priority,
        can_ship=True,
        offers_pickup=False,
    )


def _store(
    code: str,
    name_en: str,
    name_zh: str,
    city: str,
    address: str,
    lat: str,
    lng: str,
    priority: int,
    *,
    ships: bool = False,
) -> LocationRow:
    # Every store offers pick-up; the larger ones also ship online orders (ship-from-store).
    return LocationRow(
        code,
        "store",
        name_en,
        name_zh,
        city,
        address,
        Decimal(lat),
        Decimal(lng),
        priority,
        can_ship=ships,
        offers_pickup=True,
        opening_hours=STORE_HOURS,
    )


LOCATIONS: tuple[LocationRow, ...] = (
    _warehouse(
        "wh-east",
        "East China distribution centre",
        "华东中心仓",
        "Shanghai",
        "上海市青浦区华新镇华志路1688号",
        "31.235000",
        "121.240000",
        10,
    ),
    _warehouse(
        "wh-south",
        "South China distribution centre",
        "华南中心仓",
        "Guangzhou",
        "广州市花都区花东镇空港大道88号",
        "23.410000",
        "113.300000",
        20,
    ),
    _store(
        "sh-nanjing-road",
        "Shanghai Nanjing Road",
        "上海南京东路店",
        "Shanghai",
        "上海市黄浦区南京东路353号",
        "31.236600",
        "121.480000",
        100,
        ships=True,
    ),
    _store(
        "sh-xintiandi",
        "Shanghai Xintiandi",
        "上海新天地店",
        "Shanghai",
        "上海市黄浦区马当路245号",
        "31.219500",
        "121.475000",
        110,
    ),
    _store(
        "sh-jingan",
        "Shanghai Jing'an",
        "上海静安寺店",
        "Shanghai",
        "上海市静安区南京西路1618号",
        "31.224000",
        "121.448000",
        120,
    ),
    _store(
        "bj-sanlitun",
        "Beijing Sanlitun",
        "北京三里屯店",
        "Beijing",
        "北京市朝阳区三里屯路19号",
        "39.936000",
        "116.455000",
        100,
        ships=True,
    ),
    _store(
        "bj-xidan",
        "Beijing Xidan",
        "北京西单店",
        "Beijing",
        "北京市西城区西单北大街132号",
        "39.911000",
        "116.374000",
        110,
    ),
    _store(
        "gz-tianhe",
        "Guangzhou Tianhe Road",
        "广州天河路店",
        "Guangzhou",
        "广州市天河区天河路208号",
        "23.132000",
        "113.327000",
        100,
        ships=True,
    ),
    _store(
        "gz-beijing-road",
        "Guangzhou Beijing Road",
        "广州北京路店",
        "Guangzhou",
        "广州市越秀区北京路238号",
        "23.125000",
        "113.270000",
        110,
    ),
    _store(
        "sz-futian",
        "Shenzhen Futian",
        "深圳福田店",
        "Shenzhen",
        "深圳市福田区福华三路268号",
        "22.537000",
        "114.056000",
        100,
        ships=True,
    ),
    _store(
        "sz-nanshan",
        "Shenzhen Nanshan",
        "深圳南山店",
        "Shenzhen",
        "深圳市南山区深南大道9668号",
        "22.540000",
        "113.953000",
        110,
    ),
    _store(
        "hz-hubin",
        "Hangzhou Hubin",
        "杭州湖滨店",
        "Hangzhou",
        "杭州市上城区延安路258号",
        "30.259000",
        "120.165000",
        100,
        ships=True,
    ),
    _store(
        "hz-wulin",
        "Hangzhou Wulin",
        "杭州武林店",
        "Hangzhou",
        "杭州市拱墅区延安路530号",
        "30.272000",
        "120.164000",
        110,
    ),
    _store(
        "cd-chunxi-road",
        "Chengdu Chunxi Road",
        "成都春熙路店",
        "Chengdu",
        "成都市锦江区春熙路8号",
        "30.655000",
        "104.080000",
        100,
        ships=True,
    ),
)
