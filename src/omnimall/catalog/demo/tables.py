"""The demo catalog's vocabulary: brands, the category tree and the words product names use.

Plain data, no Django. A product name is ``adjective + material + type`` in both languages
("Classic Cotton Crew T-shirt" / "经典纯棉圆领T恤"), so names read naturally in each.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Word:
    en: str
    zh: str


def w(en: str, zh: str) -> Word:
    return Word(en, zh)


NO_MATERIAL = Word("", "")


@dataclass(frozen=True, slots=True)
class BrandRow:
    slug: str
    code: str  # SKU code prefix
    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    online_only: bool
    weight: float  # share of the generated products


# fmt: off
BRANDS: tuple[BrandRow, ...] = (
    BrandRow("northpeak", "NP", "Northpeak", "北峰",
             "Outdoor and sportswear since 1998, sold in stores across China.",
             "始于1998年的户外与运动服饰品牌，门店遍布全国。",
             online_only=False, weight=0.4),
    BrandRow("suzhi", "SZ", "Suzhi", "素织",
             "Everyday clothing in natural fabrics, from the brand's city-centre stores.",
             "以天然面料打造日常衣橱，城市中心门店有售。",
             online_only=False, weight=0.35),
    BrandRow("cloudnest", "CN", "Cloudnest", "云栖",
             "A new online-only brand: light, soft basics designed for the mall.",
             "专为线上商城打造的新锐品牌，轻盈柔软的基础款。",
             online_only=True, weight=0.25),
)
# fmt: on
BRAND_SLUGS = tuple(b.slug for b in BRANDS)

# Colour palettes (codes from catalog.domain.COLOURS) and sizes per kind of product.
PALETTES: dict[str, tuple[str, ...]] = {
    "clothing": ("black", "white", "grey", "navy", "beige", "green", "red", "pink"),
    "shoes": ("black", "white", "grey", "brown", "navy", "beige"),
    "accessories": ("black", "brown", "beige", "navy", "grey", "red"),
}
CLOTHING_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
MEN_SHOE_SIZES = tuple(str(n) for n in range(39, 46))
WOMEN_SHOE_SIZES = tuple(str(n) for n in range(36, 41))
ONE_SIZE = ("ONE",)

# fmt: off
ADJECTIVES: dict[str, tuple[Word, ...]] = {
    "clothing": (
        w("Classic", "经典"), w("Essential", "基础款"), w("Relaxed", "宽松"),
        w("Lightweight", "轻薄"), w("Everyday", "日常"), w("Urban", "都市"),
        w("Vintage", "复古"), w("Soft-touch", "柔软"), w("Minimalist", "极简"),
        w("Premium", "高级"),
    ),
    "shoes": (
        w("Lightweight", "轻量"), w("Cushioned", "缓震"), w("Breathable", "透气"),
        w("Classic", "经典"), w("All-weather", "全天候"), w("Retro", "复古"),
        w("Everyday", "日常"), w("Comfort", "舒适"),
    ),
    "accessories": (
        w("Classic", "经典"), w("Minimalist", "极简"), w("Urban", "都市"),
        w("Travel", "旅行"), w("Everyday", "日常"), w("Vintage", "复古"),
        w("Compact", "轻便"),
    ),
}
# fmt: on

FITS = (w("Regular", "标准"), w("Slim", "修身"), w("Relaxed", "宽松"), w("Oversized", "廓形"))
CLOSURES = (w("Lace-up", "系带"), w("Slip-on", "一脚蹬"), w("Hook-and-loop", "魔术贴"))
STYLES = (w("Casual", "休闲"), w("Business", "商务"), w("Sporty", "运动"))
SEASONS = (w("Spring/Summer", "春夏"), w("Autumn/Winter", "秋冬"), w("All seasons", "四季"))
WARM_MATERIALS = frozenset(
    {"Down", "Wool", "Wool-blend", "Cashmere", "Fleece", "Merino Wool", "Corduroy", "Flannel"}
)
COLLECTIONS = (
    w("Core", "常青系列"),
    w("City", "城市系列"),
    w("Outdoor", "户外系列"),
    w("Studio", "设计师系列"),
)


@dataclass(frozen=True, slots=True)
class Leaf:
    slug: str
    name_en: str
    name_zh: str
    shape: str  # placeholder image silhouette, see demo.images
    types: tuple[Word, ...]
    materials: tuple[Word, ...]
    price: tuple[int, int]  # list price range in CNY
    weight: int = 2  # relative share of products
    featured: bool = False


@dataclass(frozen=True, slots=True)
class Branch:
    slug: str
    name_en: str
    name_zh: str
    kind: str  # "clothing", "shoes" or "accessories": decides sizes and palette
    sizes: tuple[str, ...]
    leaves: tuple[Leaf, ...]
    featured: bool = False


@dataclass(frozen=True, slots=True)
class Root:
    slug: str
    name_en: str
    name_zh: str
    branches: tuple[Branch, ...]
    featured: bool = False


# fmt: off
COTTON, LINEN, WOOL, DENIM = w("Cotton", "纯棉"), w("Linen", "亚麻"), w("Wool", "羊毛"), w("Denim", "牛仔")  # noqa: E501
LEATHER, SUEDE, CANVAS, NYLON = w("Leather", "真皮"), w("Suede", "麂皮"), w("Canvas", "帆布"), w("Nylon", "尼龙")  # noqa: E501
MESH, KNIT, SILK, CHIFFON = w("Mesh", "网面"), w("Knit", "针织"), w("Silk", "真丝"), w("Chiffon", "雪纺")  # noqa: E501
STRETCH, DOWN, FLEECE, TWILL = w("Stretch", "弹力"), w("Down", "羽绒"), w("Fleece", "抓绒"), w("Twill", "斜纹")  # noqa: E501
WATERPROOF, CORDUROY, SATIN = w("Waterproof", "防水"), w("Corduroy", "灯芯绒"), w("Satin", "缎面")
CASHMERE, MERINO, NUBUCK = w("Cashmere", "羊绒"), w("Merino Wool", "美利奴羊毛"), w("Nubuck", "磨砂皮")  # noqa: E501
FLYKNIT, EVA, PATENT = w("Flyknit", "飞织"), w("EVA", "EVA"), w("Patent Leather", "漆皮")
WOVEN, VEGAN, QUICK_DRY = w("Woven", "编织"), w("Vegan Leather", "环保皮革"), w("Quick-dry", "速干")

TSHIRT_MATERIALS = (COTTON, w("Organic Cotton", "有机棉"), w("Modal", "莫代尔"),
                    w("Linen-blend", "亚麻混纺"), QUICK_DRY)
HOODIE_MATERIALS = (FLEECE, w("French Terry", "毛圈"), COTTON, w("Heavyweight Cotton", "重磅纯棉"))
TROUSER_MATERIALS = (STRETCH, LINEN, WOOL, CORDUROY, TWILL)
JEANS_MATERIALS = (STRETCH, w("Raw", "原色"), w("Washed", "水洗"), w("Selvedge", "赤耳"))
JACKET_MATERIALS = (NYLON, DENIM, WATERPROOF, w("Wool-blend", "羊毛混纺"), DOWN)
SNEAKER_MATERIALS = (LEATHER, CANVAS, MESH, SUEDE, NO_MATERIAL)
RUNNING_MATERIALS = (MESH, FLYKNIT, NO_MATERIAL)

T = w  # a product type: the last word(s) of a name

CATEGORY_TREE: tuple[Root, ...] = (
    Root("clothing", "Clothing", "服装", featured=True, branches=(
        Branch("men", "Men", "男装", "clothing", CLOTHING_SIZES, featured=True, leaves=(
            Leaf("t-shirts", "T-shirts", "T恤", "tshirt", (
                T("Crew T-shirt", "圆领T恤"), T("V-neck T-shirt", "V领T恤"),
                T("Pocket T-shirt", "口袋T恤"), T("Graphic T-shirt", "印花T恤"),
                T("Polo Shirt", "POLO衫")), TSHIRT_MATERIALS, (59, 199), weight=4, featured=True),
            Leaf("shirts", "Shirts", "衬衫", "shirt", (
                T("Button-down Shirt", "扣领衬衫"), T("Overshirt", "衬衫外套"),
                T("Short-sleeve Shirt", "短袖衬衫"), T("Dress Shirt", "正装衬衫")),
                (w("Oxford", "牛津纺"), LINEN, w("Poplin", "府绸"), DENIM, w("Flannel", "法兰绒")),
                (129, 399), weight=3),
            Leaf("hoodies", "Hoodies", "卫衣", "hoodie", (
                T("Pullover Hoodie", "套头连帽卫衣"), T("Zip Hoodie", "拉链连帽卫衣"),
                T("Crewneck Sweatshirt", "圆领卫衣")), HOODIE_MATERIALS, (159, 459),
                weight=3, featured=True),
            Leaf("jackets", "Jackets", "夹克", "jacket", (
                T("Bomber Jacket", "飞行员夹克"), T("Windbreaker", "防风夹克"),
                T("Trucker Jacket", "工装夹克"), T("Field Jacket", "户外夹克")),
                JACKET_MATERIALS, (299, 1299), weight=3),
            Leaf("coats", "Coats", "大衣", "jacket", (
                T("Overcoat", "大衣"), T("Parka", "派克大衣"), T("Car Coat", "短款大衣")),
                (WOOL, w("Cashmere-blend", "羊绒混纺"), DOWN, TWILL), (599, 2499)),
            Leaf("trousers", "Trousers", "裤子", "trousers", (
                T("Chinos", "休闲裤"), T("Tapered Trousers", "锥形裤"),
                T("Cargo Pants", "工装裤"), T("Joggers", "束脚裤")), TROUSER_MATERIALS,
                (159, 499), weight=3),
            Leaf("jeans", "Jeans", "牛仔裤", "trousers", (
                T("Straight Jeans", "直筒牛仔裤"), T("Slim Jeans", "修身牛仔裤"),
                T("Relaxed Jeans", "宽松牛仔裤")), JEANS_MATERIALS, (199, 599), weight=3),
            Leaf("shorts", "Shorts", "短裤", "shorts", (
                T("Chino Shorts", "休闲短裤"), T("Running Shorts", "运动短裤"),
                T("Cargo Shorts", "工装短裤")), (COTTON, LINEN, QUICK_DRY, NYLON), (79, 259)),
        )),
        Branch("women", "Women", "女装", "clothing", CLOTHING_SIZES, featured=True, leaves=(
            Leaf("t-shirts", "T-shirts", "T恤", "tshirt", (
                T("Crew T-shirt", "圆领T恤"), T("Cropped T-shirt", "短款T恤"),
                T("Boxy T-shirt", "落肩T恤"), T("V-neck T-shirt", "V领T恤")),
                TSHIRT_MATERIALS, (59, 199), weight=4),
            Leaf("blouses", "Blouses & Shirts", "衬衫", "shirt", (
                T("Blouse", "衬衫"), T("Wrap Blouse", "裹身衬衫"),
                T("Tie-neck Blouse", "系带衬衫")),
                (SILK, CHIFFON, COTTON, LINEN), (149, 599), weight=3),
            Leaf("hoodies", "Hoodies & Sweatshirts", "卫衣", "hoodie", (
                T("Pullover Hoodie", "套头连帽卫衣"), T("Cropped Hoodie", "短款连帽卫衣"),
                T("Crewneck Sweatshirt", "圆领卫衣")), HOODIE_MATERIALS, (159, 459), weight=3),
            Leaf("jackets", "Jackets & Coats", "外套", "jacket", (
                T("Blazer", "西装外套"), T("Trench Coat", "风衣"),
                T("Cropped Jacket", "短款夹克"), T("Quilted Jacket", "绗缝外套")),
                (WOOL, TWILL, NYLON, DOWN, DENIM), (299, 1899), weight=3, featured=True),
            Leaf("dresses", "Dresses", "连衣裙", "dress", (
                T("Midi Dress", "中长款连衣裙"), T("Shirt Dress", "衬衫裙"),
                T("Slip Dress", "吊带裙"), T("Wrap Dress", "裹身裙")),
                (SILK, COTTON, LINEN, CHIFFON, KNIT), (199, 899), weight=4, featured=True),
            Leaf("skirts", "Skirts", "半身裙", "skirt", (
                T("A-line Skirt", "A字裙"), T("Pleated Skirt", "百褶裙"),
                T("Pencil Skirt", "铅笔裙"), T("Midi Skirt", "中长半身裙")),
                (WOOL, DENIM, CHIFFON, COTTON, SATIN), (129, 499), weight=3),
            Leaf("trousers", "Trousers", "裤子", "trousers", (
                T("Wide-leg Trousers", "阔腿裤"), T("Straight Trousers", "直筒裤"),
                T("Cigarette Trousers", "烟管裤")), TROUSER_MATERIALS, (159, 559), weight=3),
            Leaf("jeans", "Jeans", "牛仔裤", "trousers", (
                T("Straight Jeans", "直筒牛仔裤"), T("Mom Jeans", "老爹牛仔裤"),
                T("Flared Jeans", "喇叭牛仔裤")), JEANS_MATERIALS, (199, 599), weight=3),
        )),
        Branch("kids", "Kids", "童装", "clothing", ("XS", "S", "M", "L"), leaves=(
            Leaf("t-shirts", "T-shirts", "T恤", "tshirt", (
                T("Kids' Crew T-shirt", "儿童圆领T恤"), T("Kids' Graphic T-shirt", "儿童印花T恤")),
                (COTTON, w("Organic Cotton", "有机棉")), (39, 129)),
            Leaf("hoodies", "Hoodies", "卫衣", "hoodie", (
                T("Kids' Hoodie", "儿童连帽卫衣"), T("Kids' Sweatshirt", "儿童卫衣")),
                (FLEECE, COTTON), (89, 259)),
            Leaf("trousers", "Trousers", "裤子", "trousers", (
                T("Kids' Joggers", "儿童束脚裤"), T("Kids' Jeans", "儿童牛仔裤")),
                (COTTON, STRETCH), (79, 259)),
            Leaf("jackets", "Jackets", "外套", "jacket", (
                T("Kids' Puffer Jacket", "儿童棉服"), T("Kids' Windbreaker", "儿童防风外套")),
                (NYLON, WATERPROOF), (159, 599)),
        )),
    )),
    Root("shoes", "Shoes", "鞋靴", featured=True, branches=(
        Branch("men", "Men", "男鞋", "shoes", MEN_SHOE_SIZES, leaves=(
            Leaf("sneakers", "Sneakers", "运动鞋", "sneaker", (
                T("Low-top Sneakers", "低帮板鞋"), T("High-top Sneakers", "高帮板鞋"),
                T("Court Sneakers", "网球鞋"), T("Slip-on Sneakers", "一脚蹬休闲鞋")),
                SNEAKER_MATERIALS, (299, 999), weight=4, featured=True),
            Leaf("running-shoes", "Running shoes", "跑步鞋", "sneaker", (
                T("Running Sneakers", "跑步运动鞋"), T("Trail Running Shoes", "越野跑鞋"),
                T("Racing Shoes", "竞速跑鞋")), RUNNING_MATERIALS, (399, 1299), weight=3,
                featured=True),
            Leaf("boots", "Boots", "靴子", "boot", (
                T("Chelsea Boots", "切尔西靴"), T("Lace-up Boots", "系带短靴"),
                T("Hiking Boots", "徒步靴")), (LEATHER, SUEDE, WATERPROOF, NUBUCK), (499, 1599)),
            Leaf("sandals", "Sandals", "凉鞋", "sandal", (
                T("Slide Sandals", "拖鞋"), T("Sport Sandals", "运动凉鞋")),
                (LEATHER, EVA, NO_MATERIAL), (99, 399)),
            Leaf("leather-shoes", "Leather shoes", "皮鞋", "sneaker", (
                T("Derby Shoes", "德比鞋"), T("Oxford Shoes", "牛津鞋"), T("Loafers", "乐福鞋")),
                (w("Calf Leather", "小牛皮"), PATENT, SUEDE), (499, 1899)),
        )),
        Branch("women", "Women", "女鞋", "shoes", WOMEN_SHOE_SIZES, leaves=(
            Leaf("sneakers", "Sneakers", "运动鞋", "sneaker", (
                T("Low-top Sneakers", "低帮板鞋"), T("Platform Sneakers", "厚底板鞋"),
                T("Court Sneakers", "网球鞋")), SNEAKER_MATERIALS, (299, 999), weight=4,
                featured=True),
            Leaf("running-shoes", "Running shoes", "跑步鞋", "sneaker", (
                T("Running Sneakers", "跑步运动鞋"), T("Trail Running Shoes", "越野跑鞋")),
                RUNNING_MATERIALS, (399, 1299), weight=3),
            Leaf("boots", "Boots", "靴子", "boot", (
                T("Ankle Boots", "踝靴"), T("Knee-high Boots", "长筒靴"),
                T("Chelsea Boots", "切尔西靴")), (LEATHER, SUEDE, NUBUCK), (499, 1799)),
            Leaf("sandals", "Sandals", "凉鞋", "sandal", (
                T("Strappy Sandals", "绑带凉鞋"), T("Slide Sandals", "拖鞋"),
                T("Sport Sandals", "运动凉鞋")), (LEATHER, EVA, NO_MATERIAL), (99, 499)),
            Leaf("heels", "Heels", "高跟鞋", "heel", (
                T("Pumps", "浅口高跟鞋"), T("Block Heels", "粗跟鞋"),
                T("Slingback Heels", "露跟高跟鞋")), (LEATHER, PATENT, SATIN, SUEDE), (399, 1499)),
            Leaf("flats", "Flats", "平底鞋", "sneaker", (
                T("Ballet Flats", "芭蕾平底鞋"), T("Loafers", "乐福鞋"),
                T("Mary Janes", "玛丽珍鞋")),
                (LEATHER, KNIT, SUEDE, CANVAS), (299, 899)),
        )),
    )),
    Root("accessories", "Accessories", "配饰", branches=(
        Branch("bags", "Bags", "包袋", "accessories", ONE_SIZE, featured=True, leaves=(
            Leaf("backpacks", "Backpacks", "双肩包", "backpack", (
                T("Backpack", "双肩包"), T("Rolltop Backpack", "卷口双肩包"),
                T("Laptop Backpack", "电脑双肩包")),
                (NYLON, CANVAS, LEATHER, w("Recycled Polyester", "再生涤纶")), (199, 899),
                weight=3, featured=True),
            Leaf("handbags", "Handbags", "手提包", "handbag", (
                T("Tote Bag", "托特包"), T("Top-handle Bag", "手提包"), T("Bucket Bag", "水桶包")),
                (LEATHER, CANVAS, WOVEN, VEGAN), (299, 2499), weight=3),
            Leaf("crossbody-bags", "Crossbody bags", "斜挎包", "handbag", (
                T("Crossbody Bag", "斜挎包"), T("Sling Bag", "胸包"), T("Messenger Bag", "邮差包")),
                (LEATHER, NYLON, CANVAS), (199, 1299)),
            Leaf("wallets", "Wallets", "钱包", "wallet", (
                T("Bifold Wallet", "对折钱包"), T("Card Holder", "卡包"),
                T("Zip Wallet", "拉链钱包")),
                (LEATHER, CANVAS, VEGAN), (99, 699)),
        )),
        Branch("hats-scarves", "Hats & scarves", "帽子围巾", "accessories", ONE_SIZE, leaves=(
            Leaf("caps", "Caps", "棒球帽", "cap", (
                T("Baseball Cap", "棒球帽"), T("Dad Cap", "软顶棒球帽")),
                (w("Cotton Twill", "棉质斜纹"), CORDUROY, NYLON), (79, 259)),
            Leaf("bucket-hats", "Bucket hats", "渔夫帽", "cap", (T("Bucket Hat", "渔夫帽"),),
                (COTTON, NYLON, CORDUROY), (99, 299)),
            Leaf("beanies", "Beanies", "针织帽", "beanie", (
                T("Beanie", "针织帽"), T("Ribbed Beanie", "罗纹针织帽")),
                (MERINO, CASHMERE, KNIT), (79, 399)),
            Leaf("scarves", "Scarves", "围巾", "scarf", (
                T("Scarf", "围巾"), T("Wrap Scarf", "披肩")),
                (WOOL, CASHMERE, SILK, COTTON), (129, 1299), featured=True),
        )),
        Branch("small-accessories", "Small accessories", "小配饰", "accessories", ONE_SIZE,
               leaves=(
            Leaf("belts", "Belts", "腰带", "belt", (
                T("Belt", "腰带"), T("Reversible Belt", "双面腰带")),
                (LEATHER, CANVAS, WOVEN), (129, 599)),
            Leaf("socks", "Socks", "袜子", "sock", (
                T("Crew Socks", "中筒袜"), T("Ankle Socks", "船袜")),
                (COTTON, MERINO, w("Bamboo", "竹纤维")), (29, 99)),
            Leaf("sunglasses", "Sunglasses", "太阳镜", "glasses", (
                T("Aviator Sunglasses", "飞行员太阳镜"), T("Round Sunglasses", "圆框太阳镜"),
                T("Square Sunglasses", "方框太阳镜")),
                (w("Acetate", "板材"), w("Metal", "金属"), NO_MATERIAL), (199, 999)),
            Leaf("gloves", "Gloves", "手套", "glove", (
                T("Gloves", "手套"), T("Touchscreen Gloves", "触屏手套")),
                (LEATHER, WOOL, KNIT), (79, 399)),
        )),
    )),
)
# fmt: on
