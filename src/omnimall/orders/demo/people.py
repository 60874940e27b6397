"""Who buys in the demo history: generated guests with Chinese names, mobiles and
addresses in a dozen cities, companies asking for invoices, carriers and their tracking
numbers. Pure Python over a ``random.Random``: the same seed gives the same people.

Guest emails are at ``example.com`` (reserved: nothing is ever delivered there), so the
history's emails can never reach a real person, whatever mail server the shop uses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from stdnum.cn import uscc

GUEST_DOMAIN = "example.com"

# (surname, pinyin), the most common ones first.
SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("林", "lin"), ("高", "gao"), ("罗", "luo"),
    ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
    ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
)  # fmt: skip
GIVEN_NAMES = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("磊", "lei"), ("洋", "yang"), ("艳", "yan"), ("杰", "jie"), ("涛", "tao"),
    ("晨", "chen"), ("欣怡", "xinyi"), ("子涵", "zihan"), ("浩然", "haoran"),
    ("雨桐", "yutong"), ("梓萱", "zixuan"), ("宇轩", "yuxuan"), ("思彤", "sitong"),
    ("佳怡", "jiayi"), ("博文", "bowen"), ("诗涵", "shihan"), ("俊杰", "junjie"),
    ("晓燕", "xiaoyan"), ("建华", "jianhua"), ("丽娟", "lijuan"), ("志强", "zhiqiang"),
    ("婷婷", "tingting"), ("一鸣", "yiming"), ("嘉欣", "jiaxin"), ("天宇", "tianyu"),
)  # fmt: skip
MOBILE_PREFIXES = (
    "130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152",
    "155", "156", "158", "159", "166", "176", "177", "180", "181", "186", "187",
    "188", "189", "199",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class City:
    province: str
    city: str
    postal_prefix: str  # the first four digits of its postal codes
    weight: int  # how often the history ships there
    districts: tuple[str, ...]
    streets: tuple[str, ...]


CITIES = (
    City("上海市", "上海市", "2000", 24, ("黄浦区", "徐汇区", "静安区", "浦东新区", "长宁区"),
         ("南京西路 1266 号", "漕溪北路 88 号", "世纪大道 100 号", "淮海中路 283 号",
          "延安西路 1111 号", "张杨路 500 号")),
    City("北京市", "北京市", "1000", 14, ("朝阳区", "海淀区", "东城区", "西城区"),
         ("建国路 87 号", "中关村大街 27 号", "王府井大街 138 号", "金融大街 9 号",
          "望京街 10 号")),
    City("广东省", "广州市", "5106", 9, ("天河区", "越秀区", "海珠区"),
         ("天河路 383 号", "中山五路 219 号", "新港中路 397 号", "体育西路 191 号")),
    City("广东省", "深圳市", "5180", 9, ("福田区", "南山区", "罗湖区"),
         ("深南大道 6008 号", "海德三道 1 号", "人民南路 3002 号", "福华一路 88 号")),
    City("浙江省", "杭州市", "3100", 8, ("西湖区", "上城区", "拱墅区", "滨江区"),
         ("文三路 90 号", "延安路 258 号", "江南大道 3688 号", "莫干山路 18 号")),
    City("四川省", "成都市", "6100", 6, ("锦江区", "武侯区", "成华区"),
         ("红星路三段 1 号", "人民南路四段 3 号", "建设路 55 号")),
    City("江苏省", "南京市", "2100", 5, ("鼓楼区", "玄武区", "秦淮区"),
         ("中山路 18 号", "珠江路 699 号", "中华路 100 号")),
    City("江苏省", "苏州市", "2150", 4, ("姑苏区", "工业园区"),
         ("观前街 8 号", "现代大道 88 号", "星海街 9 号")),
    City("湖北省", "武汉市", "4300", 4, ("江汉区", "武昌区", "洪山区"),
         ("解放大道 688 号", "中南路 99 号", "珞喻路 129 号")),
    City("陕西省", "西安市", "7100", 3, ("雁塔区", "碑林区"),
         ("小寨东路 126 号", "南大街 30 号")),
    City("重庆市", "重庆市", "4000", 3, ("渝中区", "江北区"),
         ("民族路 188 号", "建新北路 18 号")),
    City("天津市", "天津市", "3000", 3, ("和平区", "南开区"),
         ("南京路 189 号", "鞍山西道 299 号")),
    City("福建省", "厦门市", "3610", 2, ("思明区", "湖里区"),
         ("中山路 169 号", "嘉禾路 388 号")),
    City("湖南省", "长沙市", "4100", 2, ("芙蓉区", "岳麓区"),
         ("五一大道 389 号", "麓山南路 932 号")),
    City("山东省", "青岛市", "2660", 2, ("市南区", "崂山区"),
         ("香港中路 10 号", "海尔路 178 号")),
)  # fmt: skip

# Companies asking for a company invoice: (name, the first 17 characters of a taxpayer ID
# — registration "9" + "1", the region, an organisation code; the check character is
# computed, so every ID passes the shop's check).
COMPANIES = (
    ("上海云杉贸易有限公司", "91310101MA1FP3X2K"),
    ("杭州青禾科技有限公司", "91330106MA2CD8L45"),
    ("北京木棉文化传媒有限公司", "91110105MA01R7B3Q"),
    ("深圳蓝湾电子商务有限公司", "91440300MA5G2N6T8"),
    ("广州知行企业管理咨询有限公司", "91440106MA9UK1P2X"),
    ("成都锦里餐饮管理有限公司", "91510104MA6C9W3H1"),
)

CARRIERS = (("SF Express", "SF", 13), ("ZTO Express", "75", 12), ("YTO Express", "YT", 13),
            ("JD Logistics", "JDX", 12))  # fmt: skip

RETURN_REASONS = (
    "尺码偏小，想换大一号。",
    "颜色和图片不太一样。",
    "收到时领口有一处污渍。",
    "买重复了，吊牌未拆。",
    "上身效果不合适，未穿过。",
)
REJECTION = "商品已洗涤并有穿着痕迹，不符合退货条件。"


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    phone: str
    address: dict[str, str]  # a delivery address (checkout's fields)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + _digits(rng, 8)


def address(rng: random.Random, *, name: str, phone: str) -> dict[str, str]:
    city = rng.choices(CITIES, weights=[c.weight for c in CITIES])[0]
    building = rng.randint(1, 12)
    room = rng.randint(2, 28) * 100 + rng.randint(1, 6)
    return {
        "name": name,
        "phone": phone,
        "province": city.province,
        "city": city.city,
        "district": rng.choice(city.districts),
        "street": f"{rng.choice(city.streets)} {building} 号楼 {room} 室",
        "postal_code": f"{city.postal_prefix}{rng.randint(0, 99):02d}",
    }


def guest(rng: random.Random) -> Person:
    surname, surname_pinyin = rng.choices(SURNAMES, weights=range(len(SURNAMES), 0, -1))[0]
    given, given_pinyin = rng.choice(GIVEN_NAMES)
    name = surname + given
    local = rng.choice(
        (
            f"{given_pinyin}.{surname_pinyin}",
            f"{surname_pinyin}{given_pinyin}{rng.randint(1, 99)}",
            f"{surname_pinyin}.{given_pinyin}{rng.randint(1975, 2005)}",
        )
    )
    phone = mobile(rng)
    return Person(
        name=name,
        email=f"{local}@{GUEST_DOMAIN}",
        phone=phone,
        address=address(rng, name=name, phone=phone),
    )


def company_invoice(rng: random.Random, *, email: str) -> dict[str, str]:
    name, base = rng.choice(COMPANIES)
    return {
        "kind": "company",
        "title": name,
        "tax_id": base + uscc.calc_check_digit(base),
        "email": email,
    }


# What shoppers write to the shop at checkout (买家留言), as they write it.
SHOPPER_NOTES = (
    "送货前请电话联系",
    "工作日白天家里没人，请放门卫室",
    "是送人的礼物，包裹里请不要放价格单",
    "请下午6点以后送货，谢谢",
    "Please call before delivering.",
    "A gift: no price list in the parcel, please.",
)


def shopper_note(seed: int) -> str:
    """About one order in six carries a note; chosen from the plan's seed alone, so the
    rest of the demo draws the same numbers with or without it."""
    rng = random.Random(seed ^ 0x6E07E)  # noqa: S311 - demo data, not security
    return rng.choice(SHOPPER_NOTES) if rng.random() < 1 / 6 else ""


def cancel_reason(seed: int) -> str:
    """Why a demo shopper cancels (or says nothing, one in four), from the plan's seed
    alone, as ``shopper_note``."""
    rng = random.Random(seed ^ 0xCA7CE1)  # noqa: S311 - demo data, not security
    reasons = ("", "changed_mind", "wrong_items", "wrong_details", "cheaper", "payment_trouble")
    return rng.choices(reasons, weights=(25, 30, 20, 10, 10, 5))[0]


def carrier(rng: random.Random) -> str:
    return rng.choice(CARRIERS)[0]


def tracking_number(rng: random.Random, carrier: str) -> str:
    prefix, digits = next((p, d) for name, p, d in CARRIERS if name == carrier)
    return prefix + _digits(rng, digits)


def invoice_number(rng: random.Random, *, year: int) -> str:
    """A fully digital invoice's 20-digit number (数电发票): the year, then digits."""
    return f"{year % 100:02d}31" + _digits(rng, 16)
