"""Generate a realistic, fully synthetic demo street: grids, places and a year of cases.

Everything is built in a local metric frame (metres east/north of a south-west origin in
Zhengzhou's Jinshui district) and converted to WGS 84 lon/lat, rounded to 7 decimals, only when
written. The comprehensive levels come from ONE lattice of jittered vertices: a lattice vertex
is rounded once and reused by every polygon that touches it, so shared edges carry identical
coordinates on both sides and the coverage is exact after a JSON round trip.

Run ``python -m onegrid.demo.generate OUT_DIR`` to write the files and print the counts.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

COUNTY_CODE = "410105"  # 郑州市金水区
STREET_NO = "001"
STREET_CODE = f"{COUNTY_CODE}{STREET_NO}000000"
STREET_NAME = "丰产路街道"
CITY_PREFIX = "郑州市金水区"

N_ROWS, N_COLS = 5, 6  # third-level grids: 5 rows (north to south) x 6 columns (west to east)
CELL_M = 500.0
LON0, LAT0 = 113.662, 34.768  # south-west corner of the lattice
M_PER_DEG_LAT = 110_950.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0 + N_ROWS * CELL_M / 2 / M_PER_DEG_LAT))
BEIJING = timezone(timedelta(hours=8))

# Lattice lines are streets; grid boundaries follow road centre lines, as in practice.
H_ROADS = ("东风路", "丰产路", "黄河路", "红旗路", "纬五路", "金水路")  # line i, north to south
V_ROADS = (
    "文化路",
    "政七街",
    "经三路",
    "花园路",
    "经五路",
    "经七路",
    "经八路",
)  # line j, west to east

# Which community each lattice cell belongs to (rows north to south); irregular on purpose.
COMMUNITY_LAYOUT = ("AAABBC", "AABBCC", "DABBCC", "DDEEEC", "DDDEEE")
COMMUNITY_NAMES = {
    "A": "文化路社区",
    "B": "丰产路社区",
    "C": "花园路社区",
    "D": "黄河路社区",
    "E": "纬五路社区",
}

EdgeKey = tuple[str, int, int]  # ("H", line i, col j) or ("V", row i, line j)
COMMERCIAL: frozenset[EdgeKey] = frozenset(
    [("H", 2, j) for j in range(N_COLS)]
    + [("H", 4, j) for j in range(3)]
    + [("V", i, 3) for i in range(N_ROWS)]
)

PARCEL_SPANS = ((0.10, 0.48), (0.52, 0.90))  # 2 x 2 parcels per cell, between inner roads
COURTYARD_COUNT = 25

# fmt: off
# Data tables stay compact on purpose: one entry per line is easier to review than the formatter's
# one value per line.
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
    "贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红建文辉力永健志义兴良海山波宁贵"
    "福生龙全国胜学祥才发新利清飞彬顺信子昌成康星光天达安岩中进林有坚和博诚先敬振会思群"
    "豪心邦承乐功松善厚庆民友裕哲江浩亮政鸣朋斌栋维启克翔旭鹏泽晨辰家树德盛雄冠楠航"
)
COURTYARD_NAMES = (
    "文化苑小区", "金桥花园", "丰产小区", "农科院家属院", "省建三公司家属院", "黄河小区",
    "绿荫花园", "锦江花园", "银基公寓", "电力家属院", "财政厅家属院", "新天地小区", "金色港湾",
    "红旗小区", "花园新村", "东风小区", "丰庆佳苑", "水利厅家属院", "纺织机械厂家属院",
    "粮食局家属院", "银杏苑", "翰林雅居", "文博苑", "育才小区", "康乐园", "和美家园", "嘉园小区",
    "书香苑", "学府名苑", "宏达花园", "邮电家属院", "建设厅家属院",
)
TOWER_STEMS = (
    "金水", "丰华", "中原", "文博", "汇丰", "鼎盛", "嘉和", "天润", "瑞祥", "信达", "恒泰",
    "紫荆", "盛世", "泰和", "华府",
)
# Property companies (物业) and red-property companies (红色物业, party-led, taking over
# unmanaged courtyards): (unit code, name, phone). The loader makes each a unit of kind
# property_company, and the courtyards it manages are dispatched to it.
PROPERTY_COMPANIES = (
    ("P01", "郑州润泽物业服务有限公司", "0371-63512278"),
    ("P02", "河南安居物业管理有限公司", "0371-65936410"),
    ("P03", "郑州金桥物业服务有限公司", "0371-63886752"),
    ("P04", "河南宏鑫物业有限公司", "0371-60913385"),
)
RED_PROPERTY_COMPANIES = (
    ("P05", "丰产路街道红色物业服务中心", "0371-63920517"),
    ("P06", "郑州丰盛红色物业服务有限公司", "0371-55629087"),
)
CONTRACTORS = (
    "中建七局第二建筑有限公司", "河南五建建设集团有限公司", "郑州市市政工程总公司",
    "中铁十五局集团有限公司",
)
RESIDENT_UNITS = (  # (name, unit_type); the last two are street-front offices without compound
    ("丰产路派出所", "police"),
    ("金水区城市管理局丰产路执法中队", "city_management"),
    ("金水区市场监督管理局丰产路市场监管所", "market_supervision"),
    ("金水区消防救援大队丰产路消防站", "fire"),
    ("国网郑州供电公司金水供电所", "power"),
    ("金水区税务局第二税务所", "tax"),
    ("郑州自来水投资控股有限公司金水营业所", "water"),
    ("金水区司法局丰产路司法所", "justice"),
    ("郑州华润燃气金水服务站", "gas"),
    ("金水区环境卫生服务中心丰产路环卫所", "sanitation"),
    ("中国邮政丰产路邮政支局", "post"),
    ("中国工商银行郑州丰产路支行", "bank"),
)
UNIT_COMPOUNDS = 10
DEDICATED = (  # (grid name, unit name, unit type)
    ("文化公园专属网格", "金水区园林绿化中心文化公园管理处", "park"),
    ("金水区第一中学专属网格", "金水区第一中学", "school"),
    ("中原数据科技园专属网格", "中原数据科技股份有限公司", "enterprise"),
    ("金水区中心医院专属网格", "金水区中心医院", "hospital"),
    ("丰产路街道机关大院专属网格", "中共丰产路街道工作委员会", "government"),
)
MARKET_NAMES = ("丰产路农贸市场", "黄河路便民市场")
METRO_JUNCTIONS = ((2, 3), (4, 1))  # metro exits: hot spots for shared bikes

MERCHANT_TRADES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("餐饮", 0.36, ("烩面馆", "胡辣汤", "饺子馆", "烧烤", "米线", "包子铺", "奶茶店", "麻辣烫",
                   "快餐", "火锅店")),
    ("零售", 0.28, ("便利店", "超市", "水果店", "烟酒店", "五金店", "服装店", "母婴店")),
    ("美容美发", 0.10, ("美发店", "美甲店", "理发店")),
    ("维修", 0.07, ("手机维修", "家电维修", "开锁配钥匙", "电动车维修")),
    ("医药", 0.05, ("大药房", "诊所")),
    ("生活服务", 0.09, ("洗衣店", "打印复印", "快递驿站", "干洗店")),
    ("教育培训", 0.05, ("培训中心", "书法班", "舞蹈室")),
)
MERCHANT_PREFIXES = (
    "老王", "老李", "张记", "刘家", "豫香", "中原", "惠民", "便民", "鑫源", "福满多", "好又多",
    "金鼎", "阿强", "小美", "佳佳", "顺发", "益民", "德惠", "万家", "美佳", "聚福", "一品",
    "老街", "四季", "百味", "新华", "宏达", "天天", "众诚", "豫园",
)
ENTERPRISE_BRANDS = (
    "华信", "中联", "宏图", "恒达", "瑞丰", "博远", "鼎盛", "启航", "汇智", "嘉禾", "天成", "云帆",
    "中科", "佳和", "信达", "德润", "润邦", "同创", "新元", "卓越", "立方", "金鹰", "思源", "正道",
    "方圆", "海纳", "合众", "远景", "明德", "东方", "豫商", "开元", "久安", "金诺", "华晟",
)
ENTERPRISE_INDUSTRIES = (
    ("科技", "软件和信息技术服务"), ("网络科技", "互联网服务"), ("建筑工程", "建筑业"),
    ("商贸", "批发零售"), ("文化传媒", "文化传媒"), ("餐饮管理", "住宿餐饮"),
    ("医疗器械", "医疗器械"), ("教育咨询", "教育服务"), ("财务咨询", "商务服务"),
    ("电子商务", "互联网服务"), ("广告", "商务服务"), ("人力资源", "商务服务"),
)
UNIFIED_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
UNIFIED_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

SOURCE_MIXES: dict[str, dict[str, float]] = {
    "default": {"grid_patrol": 0.68, "resident_wechat": 0.11, "hotline_12345": 0.08,
                "property_company": 0.05, "camera_sensor": 0.05, "enterprise_service": 0.03},
    "nuisance": {"grid_patrol": 0.25, "resident_wechat": 0.30, "hotline_12345": 0.40,
                 "property_company": 0.05},
    "street": {"grid_patrol": 0.60, "camera_sensor": 0.25, "resident_wechat": 0.08,
               "hotline_12345": 0.07},
    "courtyard": {"grid_patrol": 0.60, "property_company": 0.20, "resident_wechat": 0.12,
                  "hotline_12345": 0.08},
    "public": {"hotline_12345": 0.55, "resident_wechat": 0.35, "grid_patrol": 0.10},
}
HOURS_BY_GROUP: dict[str, tuple[float, ...]] = {
    # Grid workers patrol in two shifts; residents report around the clock with an evening bump.
    "patrol": (0, 0, 0, 0, 0, 0, 0.3, 1.2, 4, 6, 6, 4.5, 1.5, 1.5, 4, 5.5, 5, 3.5, 1.2, 0.6,
               0.3, 0.1, 0, 0),
    "public": (0.1, 0.05, 0.02, 0.02, 0.05, 0.2, 0.8, 2, 3, 3.5, 3.5, 3, 2.5, 2.5, 3, 3, 3, 3,
               3.2, 3.5, 3.2, 2.5, 1.2, 0.5),
    "camera": (0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5,
               3.5, 3.5, 3, 2.5, 1.5, 1, 0.5, 0.3),
}
HOUR_GROUP_OF_SOURCE = {
    "grid_patrol": "patrol", "property_company": "patrol", "enterprise_service": "patrol",
    "resident_wechat": "public", "hotline_12345": "public", "camera_sensor": "camera",
}
WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 0.95, 0.6, 0.5)
# Month/day ranges of the long holidays (Spring Festival as in 2025-2026); reporting drops then.
HOLIDAYS = (((2, 15), (2, 23), 0.35), ((5, 1), (5, 5), 0.6), ((10, 1), (10, 7), 0.5))
# fmt: on


@dataclass(frozen=True)
class CaseCategory:
    """One 小类 of the two-level taxonomy with how, where and when it tends to occur."""

    letter: str  # E = event (事件), C = component (部件)
    # The type code of the seed taxonomy (cases/seed/categories.csv), whose name this is;
    # "" for reports nobody has classified yet (其他), which the community takes on.
    code: str
    name: str
    weight: float
    pools: dict[str, float]
    sources: str
    templates: tuple[str, ...]
    season: tuple[float, ...] = (1.0,) * 12


_cat = CaseCategory  # short name keeps the category table one entry per few lines


# fmt: off
SUMMER = (0.7, 0.7, 0.8, 1, 1.2, 1.4, 1.5, 1.5, 1.2, 1, 0.8, 0.7)
# Weights are relative frequencies; exposed garbage and street vending dominate, as in practice.
# Codes and names are those of the seed taxonomy, which sets each type's department and limits.
CATEGORIES: tuple[CaseCategory, ...] = (
    _cat("E", "01001", "暴露垃圾", 0.17, {"courtyard": 3, "strip": 2, "market": 2, "road": 1},
         "default", ("{place}有暴露垃圾，未及时清运", "{place}垃圾桶周边散落生活垃圾",
                     "{place}绿化带内堆有塑料袋等垃圾"),
         (0.9, 0.9, 1, 1, 1.1, 1.2, 1.2, 1.2, 1.1, 1, 0.9, 0.9)),
    _cat("E", "01002", "乱堆物料", 0.07, {"courtyard": 2, "site": 2, "strip": 1}, "default",
         ("{place}堆放建材杂物，占用通道", "{place}有废旧家具乱堆乱放")),
    _cat("E", "01003", "道路不洁", 0.04, {"road": 2, "site": 1, "market": 1}, "default",
         ("{place}路面有泥土污渍，需清扫", "{place}路面油污明显")),
    _cat("E", "02001", "非法小广告", 0.06, {"courtyard": 2, "strip": 1, "road": 1}, "default",
         ("{place}墙面张贴小广告", "{place}电线杆上有喷涂小广告")),
    _cat("E", "03001", "施工扰民", 0.02, {"site": 1}, "nuisance",
         ("{place}夜间施工噪音大，影响居民休息", "{place}施工车辆夜间作业扰民")),
    _cat("E", "03002", "工地扬尘", 0.02, {"site": 1}, "default",
         ("{place}裸土未覆盖，扬尘较大", "{place}出入车辆未冲洗带泥上路"),
         (1.3, 1.2, 1.4, 1.5, 1.1, 0.8, 0.6, 0.6, 0.8, 1.1, 1.3, 1.3)),
    _cat("E", "04001", "占道经营", 0.11, {"market": 3, "strip": 2, "school": 2}, "street",
         ("{place}有流动摊贩占道经营", "{place}早市摊点占用人行道"),
         (0.7, 0.6, 0.9, 1.1, 1.2, 1.3, 1.3, 1.3, 1.2, 1.1, 0.9, 0.7)),
    _cat("E", "04002", "店外经营", 0.05, {"strip": 1}, "street",
         ("{place}商户店外摆放商品经营", "{place}商户在门前摆桌经营")),
    _cat("E", "04003", "共享单车乱停放", 0.08, {"junction": 3, "school": 1, "strip": 1}, "street",
         ("{place}共享单车乱停乱放，占用盲道", "{place}共享单车堆积影响通行"),
         (0.7, 0.7, 1.1, 1.3, 1.3, 1.1, 0.9, 0.9, 1.2, 1.2, 0.9, 0.7)),
    _cat("E", "04004", "机动车违停", 0.04, {"road": 1, "strip": 1, "hospital": 1}, "street",
         ("{place}机动车占用人行道停放", "{place}车辆乱停影响通行")),
    _cat("E", "04005", "消防通道堵塞", 0.03, {"courtyard": 1}, "courtyard",
         ("{place}消防通道被车辆堵塞", "{place}消防通道堆放杂物")),
    _cat("E", "05001", "违章搭建", 0.03, {"courtyard": 3, "strip": 1}, "courtyard",
         ("{place}有居民私自搭建彩钢棚", "{place}一楼住户违规扩建院墙")),
    _cat("E", "06001", "油烟扰民", 0.03, {"restaurant": 1}, "nuisance",
         ("{place}油烟直排，居民反映扰民", "{place}未安装油烟净化设施"), SUMMER),
    _cat("E", "06002", "噪音扰民", 0.03, {"restaurant": 1, "site": 1, "courtyard": 1},
         "nuisance", ("{place}夜间噪音扰民", "{place}商户使用高音喇叭招揽生意"), SUMMER),
    _cat("E", "07001", "道路积水", 0.015, {"lowpoint": 1}, "default",
         ("{place}雨后路面积水严重", "{place}雨水篦子堵塞造成积水"),
         (0.05, 0.05, 0.1, 0.3, 0.8, 2.5, 4, 3.5, 1.5, 0.4, 0.1, 0.05)),
    _cat("E", "07005", "井盖缺失", 0.008, {"road": 1}, "default",
         ("{place}井盖缺失，已临时围挡", "{place}井盖丢失，存在坠落风险")),
    _cat("E", "08001", "私搭乱接电线", 0.02, {"courtyard": 2, "strip": 1}, "courtyard",
         ("{place}私拉电线存在安全隐患", "{place}楼道内电线乱接乱拉")),
    _cat("E", "08002", "电动车违规充电", 0.025, {"courtyard": 1}, "courtyard",
         ("{place}有电动车飞线充电", "{place}楼道内停放电动车充电")),
    _cat("C", "21002", "路灯", 0.04, {"road": 1}, "default",
         ("{place}路灯不亮", "{place}多盏路灯夜间不亮"),
         (1.4, 1.3, 1.1, 0.9, 0.8, 0.7, 0.7, 0.8, 0.9, 1.1, 1.3, 1.4)),
    _cat("C", "21003", "污水井盖", 0.022, {"road": 1}, "default",
         ("{place}污水井盖破损，存在安全隐患", "{place}污水井盖松动，车辆经过异响")),
    _cat("C", "22001", "道路路面", 0.035, {"road": 1}, "default",
         ("{place}路面出现坑槽", "{place}人行道板松动破损")),
    _cat("C", "23003", "果皮箱", 0.015, {"road": 1, "strip": 1}, "default",
         ("{place}果皮箱破损", "{place}果皮箱缺失")),
    _cat("C", "24001", "绿地", 0.025, {"road": 1, "park": 2}, "default",
         ("{place}绿化带苗木被踩踏损坏", "{place}绿地被毁改种蔬菜"),
         (0.5, 0.6, 1.2, 1.5, 1.3, 1.1, 1, 1, 1, 1, 0.8, 0.6)),
    _cat("E", "", "其他", 0.015, {"courtyard": 2, "strip": 1, "road": 1}, "public",
         ("{place}居民反映楼道照明损坏多日无人维修", "{place}居民反映附近有刺鼻异味，来源不明",
          "{place}居民反映门禁损坏，外来人员随意进出")),
)
UNCLASSIFIED_CODE = "00000"  # stands in for the type code in the case number of a 其他 report
ON_EDGE_CATEGORIES = ("污水井盖", "路灯", "道路路面")
# Reports only: what happens to each case is simulated through the workflow when the demo
# loads (lifecycle.py), so the file carries no status.
CASE_COLUMNS = ("external_id", "lon", "lat", "category", "category_code", "description",
                "source", "reported_at")
# fmt: on


# --------------------------------------------------------------------------- geometry helpers


def _ll(x: float, y: float) -> list[float]:
    """Metric local coordinates to WGS 84 [lon, lat], rounded once to 7 decimals (~1 cm)."""
    return [round(LON0 + x / M_PER_DEG_LON, 7), round(LAT0 + y / M_PER_DEG_LAT, 7)]


def _bilerp(q: np.ndarray, u: float, v: float) -> np.ndarray:
    """Point at (u east, v south) in [0, 1]^2 inside a quad given as NW, NE, SE, SW corners."""
    return q[0] * (1 - u) * (1 - v) + q[1] * u * (1 - v) + q[2] * u * v + q[3] * (1 - u) * v


def _subquad(q: np.ndarray, u0: float, u1: float, v0: float, v1: float) -> np.ndarray:
    """The quad spanned by a (u, v) rectangle of a parent quad (NW, NE, SE, SW)."""
    return np.array(
        [_bilerp(q, u0, v0), _bilerp(q, u1, v0), _bilerp(q, u1, v1), _bilerp(q, u0, v1)]
    )


def _quad_ring(q: np.ndarray) -> np.ndarray:
    """Closed counter-clockwise ring (SW, SE, NE, NW, SW) of a quad."""
    return q[[3, 2, 1, 0, 3]]


def _signed_area(ring: np.ndarray) -> float:
    """Shoelace area: positive for a counter-clockwise ring."""
    x, y = ring[:, 0], ring[:, 1]
    return float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]) / 2)


def _polygon_geojson(ring: np.ndarray) -> dict[str, Any]:
    """GeoJSON polygon from a closed metric ring, counter-clockwise as RFC 7946 asks."""
    if _signed_area(ring) < 0:
        ring = ring[::-1]
    return {"type": "Polygon", "coordinates": [[_ll(float(x), float(y)) for x, y in ring]]}


def _point_geojson(xy: np.ndarray | Sequence[float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": _ll(float(xy[0]), float(xy[1]))}


def _centroid(q: np.ndarray) -> np.ndarray:
    return _bilerp(q, 0.5, 0.5)


# --------------------------------------------------------------------------- lattice


@dataclass
class Lattice:
    """Jittered lattice: vertex coordinates plus vertex paths along every edge."""

    xy: list[tuple[float, float]]
    corner: dict[tuple[int, int], int]
    edges: dict[EdgeKey, list[int]]

    def ll(self, vid: int) -> list[float]:
        return _ll(*self.xy[vid])

    def path_xy(self, key: EdgeKey) -> np.ndarray:
        return np.array([self.xy[v] for v in self.edges[key]])


def _is_outer(key: EdgeKey) -> bool:
    kind, i, j = key
    return (kind == "H" and i in (0, N_ROWS)) or (kind == "V" and j in (0, N_COLS))


def _build_lattice(rng: np.random.Generator) -> Lattice:
    """Jitter the corners and give about half the edges one or two bent intermediate vertices."""
    xy: list[tuple[float, float]] = []
    corner: dict[tuple[int, int], int] = {}
    for i in range(N_ROWS + 1):
        for j in range(N_COLS + 1):
            outer = i in (0, N_ROWS) or j in (0, N_COLS)
            dx, dy = rng.uniform(-25.0 if outer else -45.0, 25.0 if outer else 45.0, size=2)
            corner[(i, j)] = len(xy)
            xy.append((j * CELL_M + float(dx), (N_ROWS - i) * CELL_M + float(dy)))
    keys: list[EdgeKey] = [("H", i, j) for i in range(N_ROWS + 1) for j in range(N_COLS)]
    keys += [("V", i, j) for i in range(N_ROWS) for j in range(N_COLS + 1)]
    edges: dict[EdgeKey, list[int]] = {}
    for key in keys:
        kind, i, j = key
        a = corner[(i, j)]
        b = corner[(i, j + 1)] if kind == "H" else corner[(i + 1, j)]
        path = [a]
        if rng.random() < 0.55:
            # Commercial streets bend little so the street-front strips stay clear of them.
            lo, hi = (
                (1.5, 6.0) if key in COMMERCIAL else (5.0, 25.0) if _is_outer(key) else (3.0, 18.0)
            )
            pa, pb = np.array(xy[a]), np.array(xy[b])
            normal = np.array([-(pb - pa)[1], (pb - pa)[0]]) / float(np.linalg.norm(pb - pa))
            fracs = (
                [rng.uniform(0.3, 0.7)]
                if rng.random() < 0.6
                else [rng.uniform(0.2, 0.4), rng.uniform(0.6, 0.8)]
            )
            for f in fracs:
                sign = 1.0 if rng.random() < 0.5 else -1.0
                p = pa + float(f) * (pb - pa) + sign * float(rng.uniform(lo, hi)) * normal
                path.append(len(xy))
                xy.append((float(p[0]), float(p[1])))
        path.append(b)
        edges[key] = path
    return Lattice(xy, corner, edges)


def _on_edge(lat: Lattice, key: EdgeKey, f: float) -> tuple[np.ndarray, np.ndarray]:
    """Point at fraction ``f`` of an edge's length and the unit normal to its left there."""
    line = LineString(lat.path_xy(key))
    p0 = np.array(line.interpolate(f - 0.01, normalized=True).coords[0])
    p1 = np.array(line.interpolate(f + 0.01, normalized=True).coords[0])
    normal = np.array([-(p1 - p0)[1], (p1 - p0)[0]]) / float(np.linalg.norm(p1 - p0))
    return np.array(line.interpolate(f, normalized=True).coords[0]), normal


def _cell_ring(lat: Lattice, r: int, c: int) -> list[int]:
    """Closed counter-clockwise vertex-id ring of cell (r, c): south, east, north, west sides."""
    south = lat.edges[("H", r + 1, c)]
    east = lat.edges[("V", r, c + 1)][::-1]
    north = lat.edges[("H", r, c)][::-1]
    west = lat.edges[("V", r, c)]
    return south + east[1:] + north[1:] + west[1:]


def _merge_rings(rings: Sequence[list[int]]) -> list[int]:
    """Outer ring of adjacent cells: segments used in both directions are interior, drop them.

    Working on vertex ids (not a geometric union) keeps every output vertex a lattice vertex.
    """
    segments = {(a, b) for ring in rings for a, b in zip(ring, ring[1:], strict=False)}
    nxt: dict[int, int] = {}
    for a, b in sorted(segments):
        if (b, a) not in segments:
            if a in nxt:
                raise ValueError("cells touch at a single corner; cannot trace one ring")
            nxt[a] = b
    start = min(nxt)
    ring = [start]
    while True:
        ring.append(nxt[ring[-1]])
        if ring[-1] == start:
            break
    if len(ring) - 1 != len(nxt):
        raise ValueError("cells do not form one ring without holes")
    return ring


# --------------------------------------------------------------------------- records


@dataclass
class Cell:
    """A third-level grid (三级网格) and the metric quad of its four corners."""

    row: int
    col: int
    community: str
    ring: list[int]
    quad: np.ndarray
    code: str = ""
    name: str = ""
    local_code: str = ""
    leader: str = ""
    households: int = 0
    residents: int = 0


@dataclass
class Parcel:
    """A block between inner roads of a cell; hosts at most one use (courtyard, site...)."""

    cell: Cell
    uv: tuple[float, float, float, float]  # (u0, u1, v0, v1) inside the cell
    quad: np.ndarray
    use: str = "free"
    name: str = ""
    address: str = ""
    ref: int = -1  # index into the list of the use's records


@dataclass
class Building:
    """A building footprint with its households; ``weight`` shares the grid's households."""

    code: str
    name: str
    address: str
    quad: np.ndarray
    cell: Cell
    kind: str  # slab, tower, office
    courtyard: str | None
    weight: float
    micro: int | None = None  # index of the micro grid it lies in
    households: int = 0
    residents: int = 0
    floors: int = 0


@dataclass
class Micro:
    """A micro grid (微网格) inside exactly one third-level cell."""

    cell: Cell
    ring: np.ndarray
    micro_type: str
    name: str
    households: int = 0
    code: str = ""
    leader: str = ""


@dataclass
class Strip:
    """A street-front micro grid: a thin quad along one commercial edge of its cell."""

    micro: Micro
    quad: np.ndarray
    along_u: bool  # True along an east-west road
    key: EdgeKey


@dataclass
class PlacePoint:
    """A point place (merchant, enterprise, resident unit) and its GeoJSON properties."""

    xy: np.ndarray
    props: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- small generators


def _person(rng: np.random.Generator) -> str:
    """A plausible Chinese name: common surname plus one or two given-name characters."""
    surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
    n = 1 if rng.random() < 0.3 else 2
    return surname + "".join(GIVEN_CHARS[int(rng.integers(len(GIVEN_CHARS)))] for _ in range(n))


def _unified_code(prefix: str, rng: np.random.Generator) -> str:
    """18-character unified social credit code with a valid GB 32100 check character."""
    body = prefix + "".join(UNIFIED_CODE_CHARS[int(rng.integers(31))] for _ in range(17 - 8))
    total = sum(
        UNIFIED_CODE_CHARS.index(ch) * w for ch, w in zip(body, UNIFIED_CODE_WEIGHTS, strict=True)
    )
    return body + UNIFIED_CODE_CHARS[(31 - total % 31) % 31]


def _road_address(lat: Lattice, key: EdgeKey, xy: np.ndarray) -> tuple[str, str]:
    """(road, house-number address) on the road of edge ``key``; odd numbers north or west."""
    kind, i, j = key
    path = lat.path_xy(key)
    a, b = path[0], path[-1]
    # Cross product sign: left of a west-to-east road is north, of a north-to-south road east.
    cross = (b[0] - a[0]) * (xy[1] - a[1]) - (b[1] - a[1]) * (xy[0] - a[0])
    if kind == "H":
        road, along, odd = H_ROADS[i], float(xy[0]), cross >= 0
    else:
        road, along, odd = V_ROADS[j], N_ROWS * CELL_M - float(xy[1]), cross < 0
    number = 2 * int(max(along, 0.0) // 30) + (1 if odd else 2)
    return road, f"{CITY_PREFIX}{road}{number}号"


def _address(lat: Lattice, cell: Cell, xy: np.ndarray, uv: tuple[float, float]) -> tuple[str, str]:
    """(road, address) on the side of the cell nearest to a point at (u, v) in the cell."""
    u, v = uv
    side = min((v, "N"), (1 - v, "S"), (u, "W"), (1 - u, "E"))[1]
    r, c = cell.row, cell.col
    key: EdgeKey = {"N": ("H", r, c), "S": ("H", r + 1, c), "W": ("V", r, c), "E": ("V", r, c + 1)}[
        side
    ]
    return _road_address(lat, key, xy)


def _choice(rng: np.random.Generator, weights: Sequence[float]) -> int:
    """Index drawn with probability proportional to ``weights``."""
    p = np.asarray(weights, dtype=float)
    return int(rng.choice(len(p), p=p / p.sum()))


# --------------------------------------------------------------------------- the street


@dataclass
class Street:
    """Everything generated, in metric coordinates, before it is written out."""

    lattice: Lattice
    cells: list[Cell]
    community_rings: dict[str, list[int]]
    street_ring: list[int]
    street_poly: Polygon
    community_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    street_leader: str = ""
    dedicated: list[tuple[np.ndarray, dict[str, Any]]] = field(default_factory=list)
    parcels: list[Parcel] = field(default_factory=list)
    micros: list[Micro] = field(default_factory=list)
    buildings: list[Building] = field(default_factory=list)
    courtyards: list[tuple[Parcel, dict[str, Any]]] = field(default_factory=list)
    sites: list[tuple[Parcel, dict[str, Any]]] = field(default_factory=list)
    merchants: list[PlacePoint] = field(default_factory=list)
    enterprises: list[PlacePoint] = field(default_factory=list)
    units: list[PlacePoint] = field(default_factory=list)
    strips: list[Strip] = field(default_factory=list)


def _build_grids(rng: np.random.Generator) -> Street:
    lat = _build_lattice(rng)
    cells: list[Cell] = []
    for r in range(N_ROWS):
        for c in range(N_COLS):
            quad = np.array(
                [lat.xy[lat.corner[k]] for k in ((r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c))]
            )
            cells.append(Cell(r, c, COMMUNITY_LAYOUT[r][c], _cell_ring(lat, r, c), quad))
    community_rings = {
        key: _merge_rings([cell.ring for cell in cells if cell.community == key])
        for key in COMMUNITY_NAMES
    }
    street_ring = _merge_rings([cell.ring for cell in cells])
    street_poly = Polygon([lat.xy[v] for v in street_ring])
    street = Street(lat, cells, community_rings, street_ring, street_poly)
    street.street_leader = _person(rng)
    for n, (key, name) in enumerate(COMMUNITY_NAMES.items(), start=1):
        community_code = f"{COUNTY_CODE}{STREET_NO}{n:03d}"
        street.community_meta[key] = {
            "code": f"{community_code}000",
            "name": name,
            "leader": _person(rng),
            "index": n,
        }
        # Numbered north to south, then west to east, as the coding rules ask.
        members = sorted(
            (cl for cl in cells if cl.community == key), key=lambda cl: (cl.row, cl.col)
        )
        for seq, cell in enumerate(members, start=1):
            cell.code = f"{community_code}{seq:03d}"
            cell.name = f"{name}第{seq}网格"
            cell.local_code = f"SQ-{n}-{seq}"
            cell.leader = _person(rng)
    return street


def _cell(street: Street, r: int, c: int) -> Cell:
    return street.cells[r * N_COLS + c]


def _octagon(q: np.ndarray) -> np.ndarray:
    uvs = (
        (0.15, 1),
        (0.85, 1),
        (1, 0.85),
        (1, 0.15),
        (0.85, 0),
        (0.15, 0),
        (0, 0.15),
        (0, 0.85),
        (0.15, 1),
    )
    return np.array([_bilerp(q, u, v) for u, v in uvs])


def _add_dedicated(street: Street, rng: np.random.Generator) -> None:
    """School, hospital, park, government compound, big enterprise; some straddle boundaries."""
    b = _bilerp
    c00, c01, c10, c11 = (_cell(street, r, c).quad for r, c in ((0, 0), (0, 1), (1, 0), (1, 1)))
    park = _octagon(
        np.array([b(c00, 0.58, 0.6), b(c01, 0.42, 0.6), b(c11, 0.42, 0.4), b(c10, 0.58, 0.4)])
    )
    sa, sb = _cell(street, 3, 4).quad, _cell(street, 3, 5).quad
    school = _quad_ring(
        np.array([b(sa, 0.6, 0.2), b(sb, 0.4, 0.2), b(sb, 0.4, 0.75), b(sa, 0.6, 0.75)])
    )
    et, eb = _cell(street, 0, 4).quad, _cell(street, 1, 4).quad
    enterprise = _quad_ring(
        np.array([b(et, 0.3, 0.65), b(et, 0.7, 0.65), b(eb, 0.7, 0.35), b(eb, 0.3, 0.35)])
    )
    hospital = _quad_ring(_subquad(_cell(street, 4, 4).quad, 0.15, 0.45, 0.18, 0.46))
    government = _quad_ring(_subquad(_cell(street, 2, 1).quad, 0.56, 0.86, 0.55, 0.80))
    for n, (ring, (name, unit, unit_type)) in enumerate(
        zip((park, school, enterprise, hospital, government), DEDICATED, strict=True), start=1
    ):
        props = {
            "code": f"{COUNTY_CODE}{STREET_NO}ZS{n:03d}",
            "name": name,
            "level": "dedicated",
            "unit_name": unit,
            "unit_type": unit_type,
            "households": 0,
            "leader": _person(rng),
            "parent_code": STREET_CODE,
        }
        street.dedicated.append((ring, props))


def _assign_parcels(street: Street, rng: np.random.Generator) -> None:
    """Cut each cell into 2 x 2 parcels and give every cell at least one residential parcel."""
    reserved = [Polygon(ring).buffer(3.0) for ring, _ in street.dedicated]
    by_cell: dict[int, list[Parcel]] = {}
    for idx, cell in enumerate(street.cells):
        for v0, v1 in PARCEL_SPANS:
            for u0, u1 in PARCEL_SPANS:
                parcel = Parcel(cell, (u0, u1, v0, v1), _subquad(cell.quad, u0, u1, v0, v1))
                poly = Polygon(_quad_ring(parcel.quad))
                if any(poly.intersects(res) for res in reserved):
                    parcel.use = "reserved"  # belongs to a dedicated grid's unit
                street.parcels.append(parcel)
                by_cell.setdefault(idx, []).append(parcel)
    for k, idx in enumerate(rng.permutation(len(street.cells))):
        free = [p for p in by_cell[int(idx)] if p.use == "free"]
        free[int(rng.integers(len(free)))].use = "courtyard" if k < COURTYARD_COUNT else "loose"
    remaining = [p for p in street.parcels if p.use == "free"]
    uses = (
        ["site"] * 4
        + ["market"] * 2
        + ["unit"] * UNIT_COMPOUNDS
        + ["tower"] * 7
        + ["office"] * 5
        + ["loose"] * 7
    )
    for use, pos in zip(uses, rng.permutation(len(remaining)), strict=False):
        remaining[int(pos)].use = use


def _slots(
    rng: np.random.Generator, rows: int, cols: int, keep: int, su: float, sv: float
) -> list[tuple[float, float, float, float]]:
    """Choose ``keep`` of rows x cols building slots, each a (u0, u1, v0, v1) box with margins."""
    out = []
    for pos in sorted(rng.choice(rows * cols, size=keep, replace=False).tolist()):
        ri, ci = divmod(int(pos), cols)
        out.append(((ci + su) / cols, (ci + 1 - su) / cols, (ri + sv) / rows, (ri + 1 - sv) / rows))
    return out


def _add_places_in_parcels(street: Street, rng: np.random.Generator, year: int) -> None:
    """Courtyards, towers, offices, unit compounds, sites and loose buildings, with micro grids."""
    courtyard_names = [COURTYARD_NAMES[int(i)] for i in rng.permutation(len(COURTYARD_NAMES))]
    stems = [TOWER_STEMS[int(i)] for i in rng.permutation(len(TOWER_STEMS))]
    statuses = ["property_managed"] * 12 + ["red_property"] * 8 + ["unmanaged"] * 5
    statuses = [statuses[int(i)] for i in rng.permutation(len(statuses))]
    n_courtyard = n_tower = n_unit = n_site = n_market = 0
    for parcel in street.parcels:
        cell = parcel.cell
        centre = _centroid(parcel.quad)
        u0, u1, v0, v1 = parcel.uv
        road, address = _address(street.lattice, cell, centre, ((u0 + u1) / 2, (v0 + v1) / 2))
        parcel.address = address
        slots: list[tuple[float, float, float, float]] = []
        kind = "slab"
        micro_type: str | None = None
        micro_name = ""
        if parcel.use == "courtyard":
            parcel.name = courtyard_names[n_courtyard]
            status = statuses[n_courtyard]
            managers = {
                "red_property": RED_PROPERTY_COMPANIES,
                "property_managed": PROPERTY_COMPANIES,
            }
            company = (
                managers[status][int(rng.integers(len(managers[status])))]
                if status in managers
                else None
            )
            n_courtyard += 1
            parcel.ref = len(street.courtyards)
            street.courtyards.append(
                (
                    parcel,
                    {
                        "code": f"C{n_courtyard:03d}",
                        "name": parcel.name,
                        "address": address,
                        "management_status": status,
                        "property_company": company[1] if company else None,
                        "property_company_code": company[0] if company else None,
                        "built_year": int(rng.integers(1982, 2012)),
                    },
                )
            )
            rows, cols = int(rng.integers(3, 5)), int(rng.integers(2, 4))
            slots = _slots(
                rng, rows, cols, max(4, rows * cols - int(rng.integers(0, 3))), 0.12, 0.3
            )
            micro_type, micro_name = "楼宇", f"{parcel.name}微网格"
        elif parcel.use in ("tower", "office"):
            stem = stems[n_tower]
            n_tower += 1
            parcel.name = f"{stem}{'公寓' if parcel.use == 'tower' else '大厦'}"
            kind = parcel.use
            keep = int(rng.integers(2, 5)) if kind == "tower" else int(rng.integers(2, 4))
            slots = _slots(rng, 2, 2, keep, 0.22, 0.22)
            micro_type, micro_name = "楼宇", f"{parcel.name}楼宇微网格"
        elif parcel.use == "loose":
            parcel.name = f"{address}院"
            slots = _slots(rng, 2, 3, int(rng.integers(3, 6)), 0.12, 0.3)
        elif parcel.use == "unit":
            name, unit_type = RESIDENT_UNITS[n_unit]
            n_unit += 1
            parcel.name = name
            kind = "office"
            slots = _slots(rng, 1, 2, int(rng.integers(1, 3)), 0.2, 0.3)
            street.units.append(
                PlacePoint(
                    centre,
                    {
                        "code": f"R{n_unit:03d}",
                        "name": name,
                        "unit_type": unit_type,
                        "address": address,
                        "staff": int(rng.integers(12, 120)),
                    },
                )
            )
            micro_type, micro_name = "驻街单位", f"{name}微网格"
        elif parcel.use == "site":
            n_site += 1
            start = date(year - 1, 3, 1) + timedelta(days=int(rng.integers(0, 460)))
            end = start + timedelta(days=int(rng.integers(240, 900)))
            project_type, label = (
                ("老旧小区改造", f"{road}片区老旧小区改造工程"),
                ("轨道交通", f"地铁12号线{road}站施工项目"),
                ("市政管网", f"{road}雨污分流改造工程"),
                ("房屋建筑", f"{road}综合体新建项目"),
            )[(n_site - 1) % 4]
            parcel.name = label
            street.sites.append(
                (
                    parcel,
                    {
                        "code": f"S{n_site:03d}",
                        "name": label,
                        "project_type": project_type,
                        "contractor": CONTRACTORS[(n_site - 1) % len(CONTRACTORS)],
                        "start_date": start.isoformat(),
                        "end_date": end.isoformat(),
                        "address": address,
                    },
                )
            )
            micro_type, micro_name = "项目工地", f"{label}微网格"
        elif parcel.use == "market":
            parcel.name = MARKET_NAMES[n_market]
            n_market += 1
        micro_index: int | None = None
        if micro_type is not None:
            micro_index = len(street.micros)
            street.micros.append(Micro(cell, _quad_ring(parcel.quad), micro_type, micro_name))
        for k, (u0, u1, v0, v1) in enumerate(slots, start=1):
            quad = _subquad(parcel.quad, u0, u1, v0, v1)
            in_courtyard = parcel.use == "courtyard"
            street.buildings.append(
                Building(
                    code=f"B{len(street.buildings) + 1:04d}",
                    name=f"{k}号楼",
                    address=f"{address}{'' if parcel.use == 'loose' else parcel.name}{k}号楼",
                    quad=quad,
                    cell=cell,
                    kind=kind,
                    courtyard=street.courtyards[parcel.ref][1]["code"] if in_courtyard else None,
                    weight={"slab": 1.0, "tower": 3.5, "office": 0.0}[kind]
                    * (0.8 if parcel.use == "loose" else 1.0)
                    * float(rng.uniform(0.8, 1.2)),
                    micro=micro_index,
                )
            )


def _fill_households(street: Street, rng: np.random.Generator) -> None:
    """Spread each third grid's 300-500 households over its residential buildings."""
    for cell in street.cells:
        members = [b for b in street.buildings if b.cell is cell and b.weight > 0]
        target = int(rng.integers(320, 481))
        weights = np.array([b.weight for b in members])
        raw = target * weights / weights.sum()
        counts = np.floor(raw).astype(int)
        # Largest remainders get the leftover households so the sum is exactly the target.
        for pos in np.argsort(-(raw - counts), kind="stable")[: target - int(counts.sum())]:
            counts[pos] += 1
        for b, h in zip(members, counts.tolist(), strict=True):
            per_floor = int(rng.integers(2, 4)) * 2 if b.kind == "slab" else int(rng.integers(4, 9))
            b.households = int(h)
            b.floors = min(34, max(2, math.ceil(h / per_floor)))
            b.residents = round(h * float(rng.uniform(2.3, 2.9)))
        cell.households = target
        cell.residents = sum(b.residents for b in members)
    for b in street.buildings:
        if b.weight == 0:
            b.floors = int(rng.integers(4, 29))
    for micro_index, micro in enumerate(street.micros):
        micro.households = sum(b.households for b in street.buildings if b.micro == micro_index)


def _add_strips_and_merchants(street: Street, rng: np.random.Generator, total: int = 250) -> None:
    """Street-front micro grids along commercial roads, and the merchants inside and near them."""
    reserved = [Polygon(ring) for ring, _ in street.dedicated]
    for cell in street.cells:
        r, c = cell.row, cell.col
        sides = (
            (("H", r, c), (0.10, 0.90, 0.025, 0.075), True, H_ROADS[r], "南"),
            (("H", r + 1, c), (0.10, 0.90, 0.925, 0.975), True, H_ROADS[r + 1], "北"),
            (("V", r, c), (0.025, 0.075, 0.10, 0.90), False, V_ROADS[c], "东"),
            (("V", r, c + 1), (0.925, 0.975, 0.10, 0.90), False, V_ROADS[c + 1], "西"),
        )
        for key, span, along_u, road, side in sides:
            if key not in COMMERCIAL:
                continue
            quad = _subquad(cell.quad, *span)
            ring = _quad_ring(quad)
            if any(Polygon(ring).intersects(res) for res in reserved):
                continue
            micro = Micro(cell, ring, "沿街商户", f"{road}{side}侧沿街商户微网格（{cell.name}）")
            street.micros.append(micro)
            street.strips.append(Strip(micro, quad, along_u, key))
    trades = [t for t, _, _ in MERCHANT_TRADES]
    trade_p = [w for _, w, _ in MERCHANT_TRADES]
    names_seen: set[str] = set()

    def merchant(xy: np.ndarray, key: EdgeKey) -> None:
        t = _choice(rng, trade_p)
        trade, suffixes = trades[t], MERCHANT_TRADES[t][2]
        base = (
            MERCHANT_PREFIXES[int(rng.integers(len(MERCHANT_PREFIXES)))]
            + suffixes[int(rng.integers(len(suffixes)))]
        )
        name, branch = base, 1
        while name in names_seen:  # a second shop of the same name is a numbered branch
            branch += 1
            name = f"{base}（{branch}店）"
        names_seen.add(name)
        _, address = _road_address(street.lattice, key, xy)
        street.merchants.append(
            PlacePoint(
                xy,
                {
                    "code": f"M{len(street.merchants) + 1:04d}",
                    "name": name,
                    "trade": trade,
                    "licence_no": _unified_code("92" + COUNTY_CODE, rng),
                    "address": address,
                },
            )
        )

    n_exact, n_near = 3, 14
    n_strip = total - n_exact - n_near
    per_strip = 4 + rng.multinomial(
        n_strip - 4 * len(street.strips), np.full(len(street.strips), 1 / len(street.strips))
    )
    for strip, n in zip(street.strips, per_strip.tolist(), strict=True):
        for k in range(n):
            s = (k + 0.5 + float(rng.uniform(-0.3, 0.3))) / n
            t = float(rng.uniform(0.2, 0.8))
            merchant(_bilerp(strip.quad, *((s, t) if strip.along_u else (t, s))), strip.key)
    # A few stalls right at the road centre line, as GPS and hand-drawn data really place them.
    commercial = sorted(COMMERCIAL)
    lat = street.lattice
    for _ in range(n_near):
        key = commercial[int(rng.integers(len(commercial)))]
        mid, normal = _on_edge(lat, key, float(rng.uniform(0.1, 0.9)))
        sign = 1.0 if rng.random() < 0.5 else -1.0
        xy = mid + sign * float(rng.uniform(0.3, 4.0)) * normal
        merchant(xy, key)
    outer_ids = set(street.street_ring)
    inner = sorted(
        {v: key for key in commercial for v in lat.edges[key] if v not in outer_ids}.items()
    )
    for pos in rng.choice(len(inner), size=n_exact, replace=False).tolist():
        vid, key = inner[int(pos)]
        merchant(np.array(lat.xy[vid]), key)  # exactly a shared lattice vertex


def _cell_at(street: Street, xy: np.ndarray) -> Cell:
    """The cell nearest to a point (a point on a boundary gets the first of its cells)."""
    dists = [
        Polygon([street.lattice.xy[v] for v in cell.ring]).distance(shapely.Point(xy))
        for cell in street.cells
    ]
    return street.cells[int(np.argmin(dists))]


def _add_enterprises_and_street_units(
    street: Street, rng: np.random.Generator, total: int = 40
) -> None:
    """Enterprises in office towers and street-front shops; the last resident units in shops."""
    offices = [
        b
        for b in street.buildings
        if b.kind == "office"
        and b.courtyard is None
        and b.micro is not None
        and street.micros[b.micro].micro_type == "楼宇"
    ]
    pairs = [(b, ind) for b in ENTERPRISE_BRANDS for ind in range(len(ENTERPRISE_INDUSTRIES))]
    chosen = [pairs[int(i)] for i in rng.choice(len(pairs), size=total, replace=False)]
    in_offices = round(total * 0.65)
    for n, (brand, ind) in enumerate(chosen):
        word, industry = ENTERPRISE_INDUSTRIES[ind]
        if n < in_offices:
            building = offices[n % len(offices)]
            xy = _bilerp(
                building.quad, float(rng.uniform(0.25, 0.75)), float(rng.uniform(0.25, 0.75))
            )
            address = f"{building.address}{int(rng.integers(2, building.floors + 1))}层"
            key_tax, above = rng.random() < 0.45, rng.random() < 0.35
            employees = int(rng.lognormal(4.2, 0.8))
        else:
            strip = street.strips[int(rng.integers(len(street.strips)))]
            xy = _bilerp(strip.quad, float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8)))
            address = _road_address(street.lattice, strip.key, xy)[1]
            key_tax, above = rng.random() < 0.1, rng.random() < 0.05
            employees = int(rng.lognormal(2.6, 0.6))
        street.enterprises.append(
            PlacePoint(
                xy,
                {
                    "code": f"E{n + 1:03d}",
                    "name": f"郑州{brand}{word}有限公司",
                    "industry": industry,
                    "key_tax_source": bool(key_tax),
                    "above_scale": bool(above),
                    "credit_code": _unified_code("91" + COUNTY_CODE, rng),
                    "employees": max(employees, 3),
                    "address": address,
                },
            )
        )
    for name, unit_type in RESIDENT_UNITS[UNIT_COMPOUNDS:]:
        strip = street.strips[int(rng.integers(len(street.strips)))]
        xy = _bilerp(strip.quad, float(rng.uniform(0.2, 0.8)), 0.5)
        street.units.append(
            PlacePoint(
                xy,
                {
                    "code": f"R{len(street.units) + 1:03d}",
                    "name": name,
                    "unit_type": unit_type,
                    "address": _road_address(street.lattice, strip.key, xy)[1],
                    "staff": int(rng.integers(6, 30)),
                },
            )
        )


def _number_micros(street: Street, rng: np.random.Generator) -> None:
    """Micro codes: the third grid's code plus -Mnn, numbered north to south, west to east."""
    for cell in street.cells:
        members = [m for m in street.micros if m.cell is cell]
        members.sort(
            key=lambda m: (
                -round(float(m.ring[:-1, 1].mean())),
                round(float(m.ring[:-1, 0].mean())),
            )
        )
        for n, micro in enumerate(members, start=1):
            micro.code = f"{cell.code}-M{n:02d}"
            micro.leader = _person(rng)


# --------------------------------------------------------------------------- cases


@dataclass
class AnchorPool:
    """Hot-spot anchors of one kind: where cases of matching categories concentrate."""

    xy: np.ndarray
    weight: np.ndarray
    labels: list[str]
    sigma: float


def _road_label(key: EdgeKey, xy: np.ndarray) -> str:
    kind, i, j = key
    road = H_ROADS[i] if kind == "H" else V_ROADS[j]
    along = xy[0] if kind == "H" else N_ROWS * CELL_M - xy[1]
    return f"{road}{2 * int(max(along, 0.0) // 30) + 1}号附近"


def _anchor_pools(street: Street, rng: np.random.Generator) -> dict[str, AnchorPool]:
    """Hot-spot pools by kind: courtyards, shop fronts, markets, school gate, roads..."""
    lat = street.lattice

    def pool(
        points: list[np.ndarray], weights: list[float], labels: list[str], sigma: float
    ) -> AnchorPool:
        # Lognormal "hotness" makes a few anchors chronic hot spots, as in real case maps.
        hot = rng.lognormal(0.0, 0.8, size=len(points))
        return AnchorPool(np.array(points), np.array(weights) * hot, labels, sigma)

    status_weight = {"unmanaged": 3.0, "red_property": 1.5, "property_managed": 1.0}
    pools = {
        "courtyard": pool(
            [_centroid(p.quad) for p, _ in street.courtyards],
            [status_weight[c["management_status"]] for _, c in street.courtyards],
            [c["name"] for _, c in street.courtyards],
            30.0,
        ),
        "strip": pool(
            [m.xy for m in street.merchants],
            [1.0] * len(street.merchants),
            [f"{m.props['name']}门前" for m in street.merchants],
            6.0,
        ),
    }
    food = [m for m in street.merchants if m.props["trade"] == "餐饮"]
    pools["restaurant"] = pool(
        [m.xy for m in food], [1.0] * len(food), [f"{m.props['name']}" for m in food], 4.0
    )
    markets = [p for p in street.parcels if p.use == "market"]
    pools["market"] = pool(
        [_bilerp(p.quad, u, v) for p in markets for u, v in ((0.5, 0.5), (0.5, 0.95), (0.05, 0.5))],
        [1.0] * 3 * len(markets),
        [f"{p.name}{s}" for p in markets for s in ("内", "南门", "西门")],
        25.0,
    )
    ded = {props["unit_type"]: (ring, props) for ring, props in street.dedicated}
    for kind, label, sigma in (
        ("school", "门口", 20.0),
        ("hospital", "门口", 30.0),
        ("park", "内", 60.0),
    ):
        ring, props = ded[kind]
        gate = ring[0] + (ring[1] - ring[0]) * 0.5  # middle of the southern side
        centre = ring[:-1].mean(axis=0)
        pools[kind] = AnchorPool(
            np.array([gate, centre]),
            np.array([2.0, 1.0]),
            [f"{props['unit_name']}{label}", props["unit_name"]],
            sigma,
        )
    pools["site"] = pool(
        [_centroid(p.quad) for p, _ in street.sites],
        [1.0] * len(street.sites),
        [s["name"] for _, s in street.sites],
        35.0,
    )
    keys = sorted(lat.edges)
    road_xy: list[np.ndarray] = []
    road_labels: list[str] = []
    for _ in range(500):
        key = keys[int(rng.integers(len(keys)))]
        mid, normal = _on_edge(lat, key, float(rng.uniform(0.05, 0.95)))
        # Manholes, lamps and potholes sit in lanes and on sidewalks, off the centre line that
        # the grid boundary follows; on a boundary road keep them on the street's side.
        offset = (1.0 if rng.random() < 0.5 else -1.0) * float(rng.uniform(3.0, 14.0)) * normal
        if _is_outer(key) and not street.street_poly.contains(shapely.Point(mid + offset)):
            offset = -offset
        xy = mid + offset
        road_xy.append(xy)
        road_labels.append(_road_label(key, xy))
    pools["road"] = AnchorPool(np.array(road_xy), rng.lognormal(0.0, 0.5, 500), road_labels, 3.0)
    low = [int(i) for i in rng.choice(500, size=5, replace=False)]
    pools["lowpoint"] = AnchorPool(
        np.array([road_xy[i] for i in low]),
        np.ones(5),
        [road_labels[i].replace("附近", "低洼路段") for i in low],
        8.0,
    )
    junctions = [(i, j) for i in range(1, N_ROWS) for j in range(1, N_COLS)]
    pools["junction"] = AnchorPool(
        np.array([lat.xy[lat.corner[k]] for k in junctions]),
        np.array([5.0 if k in METRO_JUNCTIONS else 1.0 for k in junctions]),
        [f"{H_ROADS[i]}与{V_ROADS[j]}交叉口" for i, j in junctions],
        20.0,
    )
    return pools


def reference_now(year: int) -> datetime:
    """The demo's "now": the first instant after its year of cases, in Beijing time.

    The workflow of every case is simulated up to this moment (lifecycle.py): the cases of the
    last days of the year are still open then, some yellow or red; older ones have run their
    course.
    """
    return datetime(year + 1, 1, 1, tzinfo=BEIJING)


def _day_weights(year: int) -> tuple[list[date], np.ndarray]:
    days = [
        date(year, 1, 1) + timedelta(days=k)
        for k in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)
    ]
    w = np.array([WEEKDAY_FACTOR[d.weekday()] for d in days])
    for k, d in enumerate(days):
        for start, end, factor in HOLIDAYS:
            if start <= (d.month, d.day) <= end:
                w[k] *= factor
    return days, w


def _case_locations(
    street: Street, rng: np.random.Generator, cats: np.ndarray, pools: dict[str, AnchorPool]
) -> tuple[np.ndarray, list[str]]:
    """Inside-street locations around the category's hot spots, redrawn if they leave it."""
    n = len(cats)
    anchors = np.zeros((n, 2))
    sigmas = np.zeros(n)
    labels: list[str] = []
    for k, ci in enumerate(cats.tolist()):
        cat = CATEGORIES[ci]
        names = sorted(cat.pools)
        p = pools[names[_choice(rng, [cat.pools[name] for name in names])]]
        a = _choice(rng, p.weight.tolist())
        anchors[k], sigmas[k] = p.xy[a], p.sigma
        labels.append(p.labels[a])
    xy = anchors + rng.normal(size=(n, 2)) * sigmas[:, None]
    for _ in range(10):
        outside = ~shapely.contains_xy(street.street_poly, xy[:, 0], xy[:, 1])
        if not outside.any():
            break
        m = int(outside.sum())
        xy[outside] = anchors[outside] + rng.normal(size=(m, 2)) * sigmas[outside, None] * 0.5
    outside = ~shapely.contains_xy(street.street_poly, xy[:, 0], xy[:, 1])
    xy[outside] = anchors[outside]
    return xy, labels


def _outside_location(street: Street, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """A point a few metres to ~120 m beyond the street's outer boundary."""
    lat = street.lattice
    outer = sorted(k for k in lat.edges if _is_outer(k))
    key = outer[int(rng.integers(len(outer)))]
    mid, normal = _on_edge(lat, key, float(rng.uniform(0.05, 0.95)))
    if street.street_poly.contains(shapely.Point(mid + normal)):
        normal = -normal
    dist = float(rng.uniform(5, 120))
    xy = mid + dist * normal
    while street.street_poly.covers(shapely.Point(xy)):
        dist *= 2
        xy = mid + dist * normal
    return xy, _road_label(key, mid).replace("附近", "（辖区外）附近")


def _generate_cases(
    street: Street, rng: np.random.Generator, case_count: int, year: int
) -> list[dict[str, str]]:
    """A year of cases: clustered inside the street, ~1 % beyond it, a few on shared edges."""
    pools = _anchor_pools(street, rng)
    n_out = round(case_count * 0.01)
    n_edge = min(6, case_count - n_out)
    n_main = case_count - n_out - n_edge
    cats = rng.choice(
        len(CATEGORIES),
        size=n_main,
        p=np.array([c.weight for c in CATEGORIES]) / sum(c.weight for c in CATEGORIES),
    )
    xy, labels = _case_locations(street, rng, cats, pools)
    cat_list = cats.tolist()
    # Cases exactly on a shared edge: a lattice vertex used by two or more third grids.
    lat = street.lattice
    shared = sorted(
        {v for k, path in lat.edges.items() if not _is_outer(k) for v in path}
        - set(street.street_ring)
    )
    by_name = {c.name: i for i, c in enumerate(CATEGORIES)}
    edge_xy = [
        np.array(lat.xy[shared[int(i)]])
        for i in rng.choice(len(shared), size=n_edge, replace=False)
    ]
    for k in range(n_edge):
        cat_list.append(by_name[ON_EDGE_CATEGORIES[k % len(ON_EDGE_CATEGORIES)]])
        labels.append(f"{_cell_at(street, edge_xy[k]).name}边界处")
    all_xy = [*xy, *edge_xy]
    for _ in range(n_out):
        cat_list.append(_choice(rng, [c.weight for c in CATEGORIES]))
        out_xy, label = _outside_location(street, rng)
        all_xy.append(out_xy)
        labels.append(label)
    days, base = _day_weights(year)
    months = np.array([d.month - 1 for d in days])
    rows: list[tuple[datetime, int, dict[str, str]]] = []
    for k, ci in enumerate(cat_list):
        cat = CATEGORIES[ci]
        mix = SOURCE_MIXES[cat.sources]
        sources = list(mix)
        source = sources[_choice(rng, [mix[s] for s in sources])]
        day = days[_choice(rng, (base * np.array(cat.season)[months]).tolist())]
        hour = _choice(rng, HOURS_BY_GROUP[HOUR_GROUP_OF_SOURCE[source]])
        at = datetime(
            day.year,
            day.month,
            day.day,
            hour,
            int(rng.integers(60)),
            int(rng.integers(60)),
            tzinfo=BEIJING,
        )
        lon, latitude = _ll(float(all_xy[k][0]), float(all_xy[k][1]))
        template = cat.templates[int(rng.integers(len(cat.templates)))]
        rows.append(
            (
                at,
                k,
                {
                    "lon": f"{lon:.7f}",
                    "lat": f"{latitude:.7f}",
                    "category": cat.name,
                    "category_code": cat.code,
                    "description": template.format(place=labels[k]),
                    "source": source,
                    "reported_at": at.isoformat(),
                    "letter": cat.letter,
                },
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    out: list[dict[str, str]] = []
    seq_by_day: dict[date, int] = {}
    for at, _, row in rows:
        seq = seq_by_day[at.date()] = seq_by_day.get(at.date(), 0) + 1
        letter = row.pop("letter")
        code = row["category_code"] or UNCLASSIFIED_CODE
        row["external_id"] = f"{letter}{code}{at:%Y%m%d}{seq:04d}"
        out.append({col: row[col] for col in CASE_COLUMNS})
    return out


# --------------------------------------------------------------------------- writing


def _write_geojson(path: Path, name: str, features: list[dict[str, Any]]) -> None:
    """One feature per line: readable diffs, and byte-identical output for the same input."""
    lines = [
        json.dumps(
            {"type": "Feature", "properties": props, "geometry": geom},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for props, geom in ((f["properties"], f["geometry"]) for f in features)
    ]
    head = f'{{"type":"FeatureCollection","name":{json.dumps(name)},"features":[\n'
    path.write_text(head + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def _feature(props: dict[str, Any], geometry: dict[str, Any]) -> dict[str, Any]:
    return {"properties": props, "geometry": geometry}


def _lattice_polygon(lat: Lattice, ring: list[int]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[lat.ll(v) for v in ring]]}


def _layers(street: Street) -> dict[str, list[dict[str, Any]]]:
    """GeoJSON features of every layer, in lon/lat, in a stable order."""
    lat = street.lattice
    layers: dict[str, list[dict[str, Any]]] = {}
    street_households = sum(cell.households for cell in street.cells)
    layers["street"] = [
        _feature(
            {
                "code": STREET_CODE,
                "name": STREET_NAME,
                "level": "street",
                "households": street_households,
                "residents": sum(cell.residents for cell in street.cells),
                "leader": street.street_leader,
                "parent_code": None,
            },
            _lattice_polygon(lat, street.street_ring),
        )
    ]
    layers["second"] = []
    for key, meta in street.community_meta.items():
        members = [cell for cell in street.cells if cell.community == key]
        layers["second"].append(
            _feature(
                {
                    "code": meta["code"],
                    "name": meta["name"],
                    "level": "second",
                    "local_code": f"SQ-{meta['index']}",
                    "households": sum(cell.households for cell in members),
                    "residents": sum(cell.residents for cell in members),
                    "leader": meta["leader"],
                    "parent_code": STREET_CODE,
                },
                _lattice_polygon(lat, street.community_rings[key]),
            )
        )
    layers["third"] = [
        _feature(
            {
                "code": cell.code,
                "name": cell.name,
                "level": "third",
                "local_code": cell.local_code,
                "households": cell.households,
                "residents": cell.residents,
                "leader": cell.leader,
                "parent_code": street.community_meta[cell.community]["code"],
            },
            _lattice_polygon(lat, cell.ring),
        )
        for cell in sorted(street.cells, key=lambda c: c.code)
    ]
    micros = sorted(street.micros, key=lambda m: m.code)
    layers["micro"] = [
        _feature(
            {
                "code": m.code,
                "name": m.name,
                "level": "micro",
                "micro_type": m.micro_type,
                "households": m.households,
                "leader": m.leader,
                "parent_code": m.cell.code,
            },
            _polygon_geojson(m.ring),
        )
        for m in micros
    ]
    layers["dedicated"] = [
        _feature(props, _polygon_geojson(ring)) for ring, props in street.dedicated
    ]
    layers["buildings"] = [
        _feature(
            {
                "code": b.code,
                "name": b.name,
                "address": b.address,
                "use": "office" if b.kind == "office" else "residential",
                "households": b.households,
                "residents": b.residents,
                "floors": b.floors,
                "courtyard_code": b.courtyard,
            },
            _polygon_geojson(_quad_ring(b.quad)),
        )
        for b in street.buildings
    ]
    layers["courtyards"] = []
    for parcel, props in street.courtyards:
        housed = [b for b in street.buildings if b.courtyard == props["code"]]
        layers["courtyards"].append(
            _feature(
                {
                    **props,
                    "buildings": len(housed),
                    "households": sum(b.households for b in housed),
                },
                _polygon_geojson(_quad_ring(parcel.quad)),
            )
        )
    layers["merchants"] = [_feature(m.props, _point_geojson(m.xy)) for m in street.merchants]
    layers["enterprises"] = [_feature(e.props, _point_geojson(e.xy)) for e in street.enterprises]
    layers["sites"] = [
        _feature(props, _polygon_geojson(_quad_ring(parcel.quad))) for parcel, props in street.sites
    ]
    layers["resident_units"] = [_feature(u.props, _point_geojson(u.xy)) for u in street.units]
    return layers


def build_street(seed: int = 20261203, year: int = 2025) -> Street:
    """Generate grids and places (no cases) in metric coordinates; deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    street = _build_grids(rng)
    _add_dedicated(street, rng)
    _assign_parcels(street, rng)
    _add_places_in_parcels(street, rng, year)
    _fill_households(street, rng)
    _add_strips_and_merchants(street, rng)
    _add_enterprises_and_street_units(street, rng)
    _number_micros(street, rng)
    return street


def generate_demo_street(
    out_dir: Path, *, seed: int = 20261203, case_count: int = 6000, year: int = 2025
) -> dict[str, Path]:
    """Write the demo street's GeoJSON layers, ``cases.csv`` and ``manifest.json``.

    Returns the written paths keyed by layer name (``street``, ``second``, ..., ``cases``,
    ``manifest``). The same arguments always produce byte-identical files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    street = build_street(seed, year)
    # Cases draw from their own stream so changing case_count leaves the places unchanged.
    cases = _generate_cases(street, np.random.default_rng([seed, year, 1]), case_count, year)
    paths: dict[str, Path] = {}
    counts: dict[str, int] = {}
    for name, features in _layers(street).items():
        paths[name] = out_dir / f"{name}.geojson"
        _write_geojson(paths[name], name, features)
        counts[name] = len(features)
    paths["cases"] = out_dir / "cases.csv"
    with paths["cases"].open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CASE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(cases)
    counts["cases"] = len(cases)
    paths["manifest"] = out_dir / "manifest.json"
    manifest = {
        "generator": "onegrid.demo.generate",
        "seed": seed,
        "year": year,
        "reference_now": reference_now(year).isoformat(),
        "crs": "EPSG:4326",
        "street_code": STREET_CODE,
        "street_name": STREET_NAME,
        "files": {k: p.name for k, p in paths.items() if k != "manifest"},
        "counts": counts,
    }
    paths["manifest"].write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: ``python -m onegrid.demo.generate OUT_DIR [--seed N] [--cases N] [--year N]``."""
    parser = argparse.ArgumentParser(description="Write the OneGrid demo street.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--cases", type=int, default=6000)
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args(argv)
    paths = generate_demo_street(
        args.out_dir, seed=args.seed, case_count=args.cases, year=args.year
    )
    manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    for name, count in manifest["counts"].items():
        print(f"{name:>15}: {count}")
    print(f"written to {args.out_dir}")


if __name__ == "__main__":
    main()
