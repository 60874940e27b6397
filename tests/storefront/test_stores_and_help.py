"""The store finder (`/stores/`) and the help pages (`/help/<topic>/`), linked from every
page's footer; their figures come from the settings and the tier table."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from omnimall.inventory.models import LocationKind
from tests.checkout.conftest import make_zone
from tests.inventory.factories import make_location

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def stores():
    """Two stores in Shanghai, one in Beijing, a closed one and a warehouse."""
    common = {"kind": LocationKind.STORE, "offers_pickup": True}
    return {
        "nanjing": make_location(
            "sh-nanjing", name_en="Nanjing Road", name_zh="南京路店", city="Shanghai",
            address="南京东路 300 号", opening_hours="10:00-22:00 daily",
            latitude=Decimal("31.2360"), longitude=Decimal("121.4800"), **common,
        ),
        "pudong": make_location(
            "sh-pudong", name_en="Pudong", name_zh="浦东店", city="Shanghai",
            address="世纪大道 8 号", **{**common, "offers_pickup": False},
        ),
        "xidan": make_location(
            "bj-xidan", name_en="Beijing Xidan", name_zh="北京西单店", city="Beijing",
            address="西单北大街 132 号", latitude=Decimal("39.9100"),
            longitude=Decimal("116.3700"), **common,
        ),
        "closed": make_location(
            "gz-closed", name_en="Closed Store", city="Guangzhou", is_active=False, **common
        ),
        "warehouse": make_location("wh-east", name_en="East Warehouse", city="Shanghai"),
    }  # fmt: skip


def names_in_order(page: str) -> list[str]:
    return re.findall(r'<span class="store-name">([^<]+)</span>', page)


def test_store_finder_lists_open_stores_by_city_with_address_hours_and_pickup(client, stores):
    response = client.get("/stores/", **EN)

    assert response.status_code == 200
    page = response.content.decode()
    assert sorted(names_in_order(page)) == ["Beijing Xidan", "Nanjing Road", "Pudong"]
    assert "Closed Store" not in page
    assert "East Warehouse" not in page
    assert re.findall(r'<h2 class="stores-city">([^<]+)</h2>', page) == ["Shanghai", "Beijing"]
    assert "南京东路 300 号" in page
    assert "10:00-22:00 daily" in page
    assert page.count("Pick-up of online orders") == 2
    assert "No pick-up of online orders" in page  # Pudong
    assert "position=121.480000,31.236000" in page  # the map link: longitude first


def test_store_finder_puts_the_nearest_first_for_a_city(client, stores):
    page = client.get("/stores/", {"city": "Beijing"}, **EN).content.decode()

    assert names_in_order(page)[0] == "Beijing Xidan"
    assert "Nearest to Beijing" in page
    distances = [float(km) for km in re.findall(r'class="store-distance">([\d.]+) km<', page)]
    assert len(distances) == 2  # Pudong has no coordinates: no distance, listed last
    assert distances[0] < 20 < 1000 < distances[1]  # Xidan in Beijing, Nanjing Road not
    assert names_in_order(page)[-1] == "Pudong"


def test_store_finder_says_when_it_does_not_know_the_city(client, stores):
    page = client.get("/stores/", {"city": "Atlantis"}, **EN).content.decode()

    assert "We could not find “Atlantis”" in page
    assert len(names_in_order(page)) == 3


def test_store_finder_speaks_chinese(client, stores):
    page = client.get("/stores/", **ZH).content.decode()

    assert "南京路店" in page
    assert '<h1 class="page-title">门店</h1>' in page
    assert "可自提网上订单" in page


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("delivery", ["Delivery costs ¥12; it is free for orders of ¥199 or more.", "3 days"]),
        ("returns", ["within 30 days of delivery or pick-up"]),
        ("membership", ["Gold", "from ¥10,000", "200 points are worth ¥1", "up to 40%"]),
    ],
)
def test_help_pages_state_this_shops_rules(client, settings, topic, expected):
    settings.SHIPPING_FEE = "12.00"
    settings.FREE_SHIPPING_FROM = "199.00"
    settings.PICKUP_UNCOLLECTED_DAYS = 3
    settings.RETURN_WINDOW_DAYS = 30
    settings.POINTS_PER_CNY_VALUE = 200
    settings.POINTS_MAX_SHARE = "0.40"

    response = client.get(f"/help/{topic}/", **EN)

    assert response.status_code == 200
    page = re.sub(r"\s+", " ", response.content.decode())
    for text in expected:
        assert text in page


def test_delivery_help_lists_the_shipping_zones_as_configured(client, settings):
    settings.SHIPPING_FEE = "10.00"
    settings.FREE_SHIPPING_FROM = "99.00"
    settings.SHIPPING_DAYS = (2, 4)
    make_zone("偏远地区", ["XJ", "XZ", "NM"], name_en="Remote regions", days_min=4, days_max=7)
    make_zone("港澳台", ["HK", "MO", "TW"], fee="0.00", free_from=None, delivers=False)
    make_zone("海南", ["HI"], fee="15.00", free_from=None)

    english = re.sub(r"\s+", " ", client.get("/help/delivery/", **EN).content.decode())
    chinese = re.sub(r"\s+", " ", client.get("/help/delivery/", **ZH).content.decode())

    assert "Delivery to the provinces not listed below costs ¥10; it is free for orders of ¥99" in (
        english
    )
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", english)
    assert rows == [
        "Remote regions</th><td>Inner Mongolia, Tibet, Xinjiang</td> <td>¥20</td><td>¥299</td>"
        "<td>Usually delivered in 4–7 days</td> ",
        "海南</th><td>Hainan</td> <td>¥15</td><td>never free</td><td>—</td> ",
        '港澳台</th><td>Hong Kong, Macao, Taiwan</td> <td colspan="3">We do not deliver here.</td>',
    ]
    assert "Usually delivered in 2–4 days at our usual rate" in english
    assert '<th scope="row">偏远地区</th><td>内蒙古、西藏、新疆</td>' in chinese


def test_unknown_help_topic_is_404(client):
    assert client.get("/help/shipping-to-mars/", **EN).status_code == 404


def test_footer_links_to_the_stores_and_help_pages(client):
    page = client.get("/", **EN).content.decode()

    for path in ("/stores/", "/help/delivery/", "/help/returns/", "/help/membership/"):
        assert f'href="{path}"' in page


def test_a_help_page_is_titled_and_links_to_the_other_topics(client):
    page = client.get("/help/returns/", **ZH).content.decode()

    assert '<h1 class="page-title">退换货</h1>' in page
    others = re.search(r'<p class="help-others">(.*?)</p>', page).group(1)
    assert re.findall(r'href="([^"]+)"', others) == [
        "/help/delivery/",
        "/help/membership/",
        "/stores/",
    ]


@pytest.mark.parametrize(
    ("cancel_paid", "rule"),
    [
        (True, "paid or not, until the warehouse or store starts preparing it"),
        (False, "An order you have not paid for yet can simply be cancelled"),
    ],
)
def test_the_returns_page_states_when_an_order_may_be_cancelled(
    client, settings, cancel_paid, rule
):
    settings.SHOPPER_CANCEL_PAID = cancel_paid

    page = re.sub(r"\s+", " ", client.get("/help/returns/", **EN).content.decode())

    assert rule in page
