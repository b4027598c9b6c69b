#!/usr/bin/env python3
"""gen_jinhua.py - writes configs/jinhua.yaml, a city-size linkage directory
modelled on Jinhua (Zhejiang): the nine county-level areas with simple
boundaries, 75 member departments in three tiers, about 990 teams and
vehicles with home stations inside their department's county, and a
dispatch rule for every incident category the system knows.

Deterministic: no clock, no system random source, no dict-order surprises.
The same script writes the same bytes on every machine and every Python 3
(tests/e2e/test_jinhua_directory.sh checks that the checked-in output is
byte-identical to a fresh run).

Boundaries are the Voronoi cells of one "site" per county (a point placed
so that the cell is shaped roughly like the real area), clipped to a
convex outline of the prefecture: no two counties overlap, together they
cover the prefecture, and each real county seat lies in its own cell (the
script asserts it). They are plausible, not surveyed.

usage: gen_jinhua.py [-o FILE]   (default: jinhua.yaml beside this script;
                                  "-" writes to stdout)
"""

import math
import os
import sys

# ---- the counties -------------------------------------------------------
# name, short name (used in unit names), English alias, county seat
# (lat, lon), Voronoi site (lat, lon), weight (how many teams, by
# population and area)
COUNTIES = [
    ("婺城区", "婺城", "Wucheng", (29.08, 119.65), (29.00, 119.52), 1.3),
    ("金东区", "金东", "Jindong", (29.10, 119.69), (29.16, 119.80), 0.8),
    ("兰溪市", "兰溪", "Lanxi", (29.21, 119.46), (29.27, 119.42), 0.9),
    ("东阳市", "东阳", "Dongyang", (29.29, 120.24), (29.22, 120.33), 1.0),
    ("义乌市", "义乌", "Yiwu", (29.31, 120.07), (29.33, 120.08), 1.4),
    ("永康市", "永康", "Yongkang", (28.89, 120.05), (28.88, 120.08), 0.9),
    ("浦江县", "浦江", "Pujiang", (29.45, 119.89), (29.52, 119.86), 0.7),
    ("武义县", "武义", "Wuyi", (28.89, 119.82), (28.72, 119.74), 0.7),
    ("磐安县", "磐安", "Pan'an", (29.05, 120.45), (29.00, 120.55), 0.5),
]

# A convex outline of the prefecture (lat, lon), counter-clockwise, within
# 28.5-29.7 N, 119.2-120.8 E.
OUTLINE = [
    (28.52, 119.45), (28.52, 120.10), (28.70, 120.72), (29.05, 120.78),
    (29.45, 120.55), (29.68, 120.05), (29.68, 119.70), (29.45, 119.22),
    (28.95, 119.22),
]

KM_PER_DEG = 111.2
# cos(29.1 deg), one scale for the whole prefecture; written out, like
# every step below, with only + - * / and sqrt (correctly rounded in IEEE
# 754), so no libm difference between machines can move a digit
COS_LAT = 0.873784


# ---- a deterministic generator (splitmix64) ------------------------------
class Rng:
    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFFFFFFFFFF

    def u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def unit(self):
        """A float in [0, 1) from 53 bits."""
        return (self.u64() >> 11) / float(1 << 53)


# ---- geometry --------------------------------------------------------------
def to_xy(p):
    """(lat, lon) to a local plane in km, so bisectors are true ones."""
    return (p[1] * COS_LAT * KM_PER_DEG, p[0] * KM_PER_DEG)


def to_latlon(q):
    return (q[1] / KM_PER_DEG, q[0] / (COS_LAT * KM_PER_DEG))


def clip(poly, a, b):
    """Sutherland-Hodgman: the part of poly nearer to site a than to b."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    nx, ny = b[0] - a[0], b[1] - a[1]

    def side(p):
        return (p[0] - mx) * nx + (p[1] - my) * ny  # <= 0: a's side

    out = []
    for i, cur in enumerate(poly):
        prev = poly[i - 1]
        sc, sp = side(cur), side(prev)
        if sc <= 0:
            if sp > 0:
                t = sp / (sp - sc)
                out.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
            out.append(cur)
        elif sp <= 0:
            t = sp / (sp - sc)
            out.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
    return out


def inside(poly, p):
    """Even-odd ray casting, as fm_directory_county_at does it."""
    y, x = p
    hit = False
    for i, (ay, ax) in enumerate(poly):
        by, bx = poly[i - 1]
        if (ay > y) != (by > y) and x < (bx - ax) * (y - ay) / (by - ay) + ax:
            hit = not hit
    return hit


def cells():
    """Each county's boundary ring, in lat/lon, rounded as written."""
    sites = [to_xy(c[4]) for c in COUNTIES]
    rings = []
    for i, s in enumerate(sites):
        poly = [to_xy(p) for p in OUTLINE]
        for j, t in enumerate(sites):
            if i != j:
                poly = clip(poly, s, t)
        ring = [tuple(round(v, 4) for v in to_latlon(q)) for q in poly]
        dedup = []
        for p in ring:
            if not dedup or p != dedup[-1]:
                dedup.append(p)
        if len(dedup) > 1 and dedup[0] == dedup[-1]:
            dedup.pop()
        rings.append(dedup)
    for c, ring in zip(COUNTIES, rings):
        assert len(ring) >= 3, c[0]
        assert inside(ring, c[3]), "the seat of %s is outside its cell" % c[0]
    return rings


def home(rng, ring, centre, radius_km, margin_km=0.8):
    """A station position inside ring, within radius_km of centre, at least
    margin_km (roughly) from the edge so that rounding keeps it inside."""
    cx, cy = to_xy(centre)
    for _ in range(10000):
        dx, dy = (2 * rng.unit() - 1) * radius_km, (2 * rng.unit() - 1) * radius_km
        if dx * dx + dy * dy > radius_km * radius_km:
            continue  # uniform in the disc: rejection from its square
        p = to_latlon((cx + dx, cy + dy))
        p = (round(p[0], 4), round(p[1], 4))
        d = margin_km / KM_PER_DEG
        probes = [p, (p[0] + d, p[1]), (p[0] - d, p[1]), (p[0], p[1] + d), (p[0], p[1] - d)]
        if all(inside(ring, q) for q in probes):
            return p
    raise AssertionError("no home found near %r" % (centre,))


# ---- the member departments -------------------------------------------------
# A team spec: (label in the unit name, unit kind, capabilities, count per
# unit of county weight (float) or a fixed count (int)).
POLICE = [("巡逻车", "patrol", ["patrol", "cordon"], 28.0),
          ("治安巡逻队", "patrol_team", ["patrol", "crowd_control"], 4.0),
          ("处突车", "riot", ["cordon", "crowd_control"], 2.0)]
FIRE = [("消防水罐车", "engine", ["fire", "rescue", "water_supply"], 6.0),
        ("消防泡沫车", "foam", ["fire", "foam"], 2.0),
        ("抢险救援车", "rescue", ["extrication", "rescue"], 2.0),
        ("登高平台车", "ladder", ["aerial_ladder", "fire", "rescue"], 1),
        ("水域救援车", "boat", ["rescue", "water_rescue"], 1)]
TRAFFIC = [("交警铁骑", "motorcycle", ["traffic_control"], 7.0),
           ("事故勘查车", "survey", ["accident_survey", "traffic_control"], 2.0),
           ("清障车", "tow", ["tow"], 1)]
MEDICAL = [("救护车", "ambulance", ["ambulance", "trauma"], 10.0),
           ("负压救护车", "ambulance", ["ambulance", "infectious"], 1)]

# (name, short prefix of its units, kind, tier, county index, teams)
DEPTS = [
    ("金华市公安局110指挥中心", "110", "command", 1, 0,
     [("移动指挥车", "command", ["mobile_command", "satellite_link"], 2),
      ("卫星通信车", "command", ["satellite_link"], 1)]),
    ("金华市公安局特警支队", "特警", "police", 1, 0,
     [("特警处突车", "swat", ["cordon", "crowd_control", "swat"], 8),
      ("谈判组", "negotiator", ["negotiation"], 2)]),
    ("金华市消防救援支队特勤大队", "特勤", "fire", 1, 0,
     [("化学救援车", "hazmat", ["decontamination", "fire", "hazmat"], 3),
      ("防化洗消车", "hazmat", ["decontamination", "hazmat"], 2),
      ("登高平台车", "ladder", ["aerial_ladder", "fire", "rescue"], 2),
      ("排烟车", "smoke", ["smoke_extraction"], 1)]),
]
POLICE_NAMES = ["金华市公安局婺城分局", "金华市公安局金东分局", "兰溪市公安局", "东阳市公安局",
                "义乌市公安局", "永康市公安局", "浦江县公安局", "武义县公安局", "磐安县公安局"]
MEDICAL_NAMES = ["金华市急救中心", "金东区急救站", "兰溪市急救站", "东阳市急救站", "义乌市急救中心",
                 "永康市急救站", "浦江县急救站", "武义县急救站", "磐安县急救站"]
for i, c in enumerate(COUNTIES):
    DEPTS.append((POLICE_NAMES[i], c[1], "police", 1, i, POLICE))
    hz = [("化学救援车", "hazmat", ["decontamination", "fire", "hazmat"], 1)] if c[5] >= 0.9 else []
    DEPTS.append((c[0] + "消防救援大队", c[1], "fire", 1, i, FIRE + hz))
    DEPTS.append(("金华市公安局交通警察支队" + c[1] + "大队", c[1], "traffic", 1, i, TRAFFIC))
    DEPTS.append((MEDICAL_NAMES[i], c[1], "medical", 1, i, MEDICAL))

WATER = [("供水抢修车", "repair", ["pipe_repair", "valve_shutoff"], 10),
         ("水质检测车", "lab", ["water_quality"], 2)]
POWER = [("电力抢修车", "repair", ["power_isolation", "power_repair"], 10),
         ("应急发电车", "generator", ["generator", "power_isolation"], 1)]
GAS = [("燃气抢险车", "repair", ["gas_isolation", "leak_detection"], 7),
       ("燃气检漏车", "survey", ["leak_detection"], 2)]
URBAN = [("城管执法车", "inspection", ["negotiation", "site_inspection"], 12),
         ("排水抢险车", "drainage", ["drainage"], 2)]
ELEVATOR = [("电梯救援队", "rescue", ["elevator_rescue"], 12)]
TELECOM = [("通信抢修车", "repair", ["comms_restore"], 6),
           ("应急通信车", "comms", ["comms_restore", "satellite_link"], 1)]
# tier 2: utilities and specialist services
for name, prefix, county, teams, kind in [
        ("金华市水务集团", "金华水务", 0, WATER, "water"),
        ("兰溪市自来水有限公司", "兰溪水务", 2, WATER, "water"),
        ("东阳市水务集团", "东阳水务", 3, WATER, "water"),
        ("义乌市供排水集团", "义乌水务", 4, WATER, "water"),
        ("永康市自来水有限公司", "永康水务", 5, WATER, "water"),
        ("国网金华供电公司", "金华供电", 0, POWER, "power"),
        ("国网兰溪市供电公司", "兰溪供电", 2, POWER, "power"),
        ("国网东阳市供电公司", "东阳供电", 3, POWER, "power"),
        ("国网义乌市供电公司", "义乌供电", 4, POWER, "power"),
        ("国网永康市供电公司", "永康供电", 5, POWER, "power"),
        ("国网浦江县供电公司", "浦江供电", 6, POWER, "power"),
        ("国网武义县供电公司", "武义供电", 7, POWER, "power"),
        ("国网磐安县供电公司", "磐安供电", 8, POWER, "power"),
        ("金华市燃气有限公司", "金华燃气", 0, GAS, "gas"),
        ("义乌市天然气有限公司", "义乌燃气", 4, GAS, "gas"),
        ("金华市综合行政执法局", "金华城管", 0, URBAN, "urban_management"),
        ("金东区综合行政执法局", "金东城管", 1, URBAN, "urban_management"),
        ("义乌市综合行政执法局", "义乌城管", 4, URBAN, "urban_management"),
        ("东阳市综合行政执法局", "东阳城管", 3, URBAN, "urban_management"),
        ("金华市96333电梯应急处置中心", "金华电梯", 0, ELEVATOR, "elevator_rescue"),
        ("义乌市电梯应急救援中心", "义乌电梯", 4, ELEVATOR, "elevator_rescue"),
        ("中国电信金华分公司", "电信", 0, TELECOM, "telecom"),
        ("中国移动金华分公司", "移动", 1, TELECOM, "telecom"),
        ("金华市中级人民法院执行局", "法院执行", 0,
         [("执行车", "enforcement", ["enforcement"], 5)], "court_enforcement"),
]:
    DEPTS.append((name, prefix, kind, 2, county, teams))

FOREST = [("森林消防专业队", "forest_team", ["firebreak", "forest_fire"], 10),
          ("森林防火巡查车", "patrol", ["forest_fire", "forest_patrol"], 3)]
# tier 3: city bureaus, brought in last
for name, prefix, kind, county, teams in [
        ("金华市生态环境局", "环境", "environment", 0,
         [("环境监测车", "monitoring", ["air_quality", "hazmat_detect", "water_quality"], 8),
          ("环境应急队", "field_team", ["hazmat_detect", "sampling"], 4)]),
        ("金华市疾病预防控制中心", "疾控", "epidemic_control", 0,
         [("流调队", "field_team", ["epidemic_survey", "sampling"], 8),
          ("消杀队", "field_team", ["disinfection"], 6),
          ("检测车", "lab", ["sampling"], 2)]),
        ("金华市卫生健康委员会", "卫健", "health", 0,
         [("卫生监督车", "inspection", ["health_inspection"], 5),
          ("医疗救治专家组", "field_team", ["medical_coordination"], 3)]),
        ("金华市应急管理局", "应急", "emergency_management", 0,
         [("矿山救援队", "rescue", ["mine_rescue", "rescue"], 5),
          ("危化专家组", "field_team", ["hazmat_expert"], 2),
          ("应急指挥车", "command", ["coordination", "mobile_command"], 2),
          ("救灾物资车", "truck", ["relief_supplies"], 3)]),
        ("金华市自然资源和规划局", "自然资源", "natural_resources", 0,
         [("地质灾害调查组", "field_team", ["geohazard_survey"], 8)]),
        ("金华市林业局", "金华林业", "forestry", 0, FOREST),
        ("武义县林业局", "武义林业", "forestry", 7, FOREST),
        ("磐安县林业局", "磐安林业", "forestry", 8, FOREST),
        ("金华市水利局", "水利", "water_conservancy", 0,
         [("防汛抢险队", "rescue", ["flood_control"], 12),
          ("排涝泵车", "pump", ["drainage", "flood_control"], 8)]),
        ("金华市市场监督管理局", "市场监管", "market_regulation", 0,
         [("食品安全执法车", "inspection", ["food_safety"], 8),
          ("特种设备检验车", "inspection", ["special_equipment"], 4)]),
        ("金华市交通运输局", "交通运输", "transport", 1,
         [("应急运输车", "bus", ["evacuation_transport"], 10)]),
        ("金华市住房和城乡建设局", "住建", "housing", 0,
         [("房屋安全鉴定组", "field_team", ["structure_survey"], 8)]),
]:
    DEPTS.append((name, prefix, kind, 3, county, teams))

# ---- the rules ----------------------------------------------------------------
# (category, Chinese name, English name, priority, escalate_priority,
#  escalate_after_s, target_s, needs [(tier, kind, capability, units)])
RULES = [
    ("building_fire", "建筑火灾", "building fire", 1, 1, 90, 480,
     [(1, "fire", "fire", 3), (1, "fire", "aerial_ladder", 1), (1, "medical", "ambulance", 2),
      (1, "police", "cordon", 1), (1, "traffic", "traffic_control", 1),
      (2, "power", "power_isolation", 1), (2, "gas", "gas_isolation", 1),
      (2, "water", "valve_shutoff", 1), (3, "environment", "air_quality", 1),
      (3, "housing", "structure_survey", 1)]),
    ("vehicle_fire", "车辆火灾", "vehicle fire", 2, 0, 120, 600,
     [(1, "fire", "fire", 1), (1, "traffic", "traffic_control", 1),
      (2, "medical", "ambulance", 1), (2, "traffic", "tow", 1)]),
    ("wildfire", "森林火灾", "forest fire", 1, 1, 300, 1800,
     [(1, "forestry", "forest_fire", 2), (1, "fire", "water_supply", 2),
      (1, "police", "patrol", 1), (2, "emergency_management", "coordination", 1),
      (2, "medical", "ambulance", 1), (3, "forestry", "forest_fire", 2)]),
    ("traffic_accident", "交通事故", "traffic accident", 2, 0, 180, 600,
     [(1, "traffic", "accident_survey", 1), (1, "traffic", "traffic_control", 1),
      (1, "medical", "ambulance", 1), (2, "fire", "extrication", 1), (2, "traffic", "tow", 1)]),
    ("medical", "医疗急救", "medical emergency", 2, 0, 120, 720,
     [(1, "medical", "ambulance", 1), (2, "police", "patrol", 1)]),
    ("chemical_leak", "危化品泄漏", "chemical leak", 1, 1, 120, 900,
     [(1, "fire", "hazmat", 2), (1, "environment", "hazmat_detect", 1),
      (1, "medical", "ambulance", 1), (1, "police", "cordon", 1),
      (2, "emergency_management", "hazmat_expert", 1), (2, "water", "water_quality", 1),
      (3, "environment", "air_quality", 1)]),
    ("hazmat", "危险化学品事故", "hazardous materials", 1, 1, 120, 900,
     [(1, "fire", "hazmat", 2), (1, "fire", "decontamination", 1),
      (1, "medical", "ambulance", 1), (1, "police", "cordon", 1),
      (2, "environment", "hazmat_detect", 1), (3, "emergency_management", "hazmat_expert", 1)]),
    ("gas_leak", "燃气泄漏", "gas leak", 1, 0, 120, 600,
     [(1, "gas", "gas_isolation", 1), (1, "fire", "fire", 1), (1, "police", "cordon", 1),
      (2, "power", "power_isolation", 1), (2, "gas", "leak_detection", 1)]),
    ("water_main_burst", "供水管爆裂", "water main burst", 3, 0, 600, 1800,
     [(1, "water", "valve_shutoff", 1), (1, "traffic", "traffic_control", 1),
      (2, "urban_management", "site_inspection", 1), (2, "water", "pipe_repair", 1)]),
    ("power_outage", "停电", "power outage", 3, 0, 900, 3600,
     [(1, "power", "power_repair", 1), (2, "power", "generator", 1),
      (2, "traffic", "traffic_control", 1)]),
    ("elevator_entrapment", "电梯困人", "elevator entrapment", 2, 0, 300, 1800,
     [(1, "elevator_rescue", "elevator_rescue", 1), (2, "fire", "rescue", 1),
      (3, "market_regulation", "special_equipment", 1)]),
    ("flood", "洪涝", "flooding", 2, 1, 300, 1800,
     [(1, "water_conservancy", "flood_control", 2), (1, "fire", "water_rescue", 1),
      (1, "police", "patrol", 1), (2, "urban_management", "drainage", 1),
      (2, "power", "power_isolation", 1), (3, "emergency_management", "relief_supplies", 1),
      (3, "transport", "evacuation_transport", 1)]),
    ("rescue", "抢险救援", "rescue", 1, 0, 180, 600,
     [(1, "fire", "rescue", 2), (1, "medical", "ambulance", 1), (2, "police", "cordon", 1)]),
    ("crime", "治安案件", "crime", 2, 0, 300, 600,
     [(1, "police", "patrol", 2), (2, "police", "swat", 1)]),
    ("public_order", "群体性事件", "public disturbance", 2, 1, 300, 1200,
     [(1, "police", "crowd_control", 2), (1, "police", "patrol", 1),
      (1, "police", "negotiation", 1), (2, "traffic", "traffic_control", 1),
      (2, "urban_management", "negotiation", 1), (3, "command", "mobile_command", 1)]),
    ("crowd_gathering", "人员聚集", "crowd gathering", 2, 0, 300, 1200,
     [(1, "police", "crowd_control", 1), (1, "police", "patrol", 1),
      (1, "urban_management", "negotiation", 1), (2, "traffic", "traffic_control", 1)]),
    ("epidemic_cluster", "聚集性疫情", "epidemic cluster", 2, 0, 1800, 7200,
     [(1, "epidemic_control", "epidemic_survey", 1), (1, "medical", "infectious", 1),
      (2, "epidemic_control", "disinfection", 1), (3, "health", "medical_coordination", 1)]),
    ("food_poisoning", "食物中毒", "food poisoning", 2, 0, 600, 1800,
     [(1, "medical", "ambulance", 2), (1, "market_regulation", "food_safety", 1),
      (2, "epidemic_control", "sampling", 1), (3, "health", "health_inspection", 1)]),
    ("geological_hazard", "地质灾害", "landslide", 1, 0, 300, 1800,
     [(1, "fire", "rescue", 2), (1, "natural_resources", "geohazard_survey", 1),
      (1, "medical", "ambulance", 1), (2, "police", "cordon", 1),
      (3, "emergency_management", "coordination", 1)]),
    ("mine_accident", "矿山事故", "mine accident", 1, 1, 180, 1800,
     [(1, "emergency_management", "mine_rescue", 2), (1, "medical", "ambulance", 2),
      (2, "fire", "rescue", 1), (2, "police", "cordon", 1)]),
    ("drowning", "溺水", "drowning", 1, 0, 120, 600,
     [(1, "fire", "water_rescue", 1), (1, "medical", "ambulance", 1),
      (2, "police", "patrol", 1)]),
    ("pollution", "环境污染", "pollution", 3, 0, 1800, 3600,
     [(1, "environment", "water_quality", 1), (2, "environment", "sampling", 1),
      (3, "water_conservancy", "flood_control", 1)]),
    ("telecom_outage", "通信中断", "telecom outage", 3, 0, 1800, 3600,
     [(1, "telecom", "comms_restore", 1), (2, "power", "power_repair", 1)]),
    ("court_enforcement", "法院执行协助", "court enforcement", 3, 0, 1800, 3600,
     [(1, "court_enforcement", "enforcement", 1), (1, "police", "patrol", 1)]),
    ("other", "其他", "other", 3, 0, 1800, 3600,
     [(1, "police", "patrol", 1)]),
]


def team_count(spec, weight):
    n = spec[3]
    if isinstance(n, float):
        return max(1, int(math.floor(n * weight + 0.5)))
    return n


def build():
    rings = cells()
    rng = Rng(0x4A494E48554131)  # "JINHUA1"
    depts = []
    for name, prefix, kind, tier, ci, teams in DEPTS:
        c = COUNTIES[ci]
        units = []
        for spec in teams:
            label, ukind, caps, _ = spec
            radius = 18.0 if ukind in ("forest_team", "patrol") and "forest_fire" in caps else 9.0
            for k in range(team_count(spec, c[5])):
                h = home(rng, rings[ci], c[3], radius)
                units.append((prefix + label + "%d号" % (k + 1), ukind, sorted(caps), h))
        depts.append((name, kind, tier, c[0], units))
    return rings, depts


def check(depts):
    names = set()
    have = set()
    for name, kind, tier, county, units in depts:
        assert name not in names, name
        names.add(name)
        for u in units:
            assert u[0] not in names, u[0]
            names.add(u[0])
            assert len(u[0].encode()) <= 63, u[0]
            for cap in u[2]:
                have.add((kind, cap))
    cats = set()
    for r in RULES:
        assert r[0] not in cats, r[0]
        cats.add(r[0])
        for need in r[7]:
            assert (need[1], need[2]) in have, "%s needs %s/%s" % (r[0], need[1], need[2])


def q(s):
    return '"' + s + '"'


# Aliases beyond each rule's Chinese name: the short words a call-taker
# types for a category, and the Chinese words for capabilities and
# material kinds (docs/workflow.md section 1b).
EXTRA_ALIASES = [
    ("火灾", "building_fire"), ("车祸", "traffic_accident"), ("急救", "medical"),
    ("救护车", "ambulance"), ("消防车", "fire"), ("云梯车", "aerial_ladder"),
    ("沙袋", "sandbag"), ("水泵", "pump"), ("发电机", "generator"),
]


# Linkage plans (run cards) per alarm level, the same rule for every
# category: a second alarm doubles the first responders (tier 1), a third
# triples them and doubles the utilities (tier 2); the city bureaus (tier 3)
# stay as at level 1. Counts stop at 9, the directory's cap per need.
ALARM_FACTORS = {2: {1: 2, 2: 1, 3: 1}, 3: {1: 3, 2: 2, 3: 1}}


def level_needs(needs, level):
    f = ALARM_FACTORS[level]
    return [(tier, kind, cap, min(9, n * f[tier])) for tier, kind, cap, n in needs]


def render(rings, depts):
    nunits = sum(len(d[4]) for d in depts)
    out = []
    w = out.append
    w("# 金华市社会应急联动 - a city-size linkage directory modelled on Jinhua.")
    w("#")
    w("# GENERATED by configs/gen_jinhua.py: edit the script, not this file, and")
    w("# run `python3 configs/gen_jinhua.py` (tests/e2e/test_jinhua_directory.sh")
    w("# checks that the two agree). Format: docs/workflow.md section 1.")
    w("#")
    w("# %d counties with boundaries, %d member departments in three tiers,"
      % (len(COUNTIES), len(depts)))
    w("# %d teams and vehicles, %d rules, each with linkage plans for alarm"
      % (nunits, len(RULES)))
    w("# levels 2 and 3 (so a version-3 directory: publish needs --force until")
    w("# every node reads version 3).")
    w("# Positions and boundaries are plausible, not surveyed.")
    w("")
    w('name: "金华市社会应急联动名录"')
    w("")
    w("counties:")
    for c in COUNTIES:
        w("  - %s  # %s" % (q(c[0]), c[2]))
    w("")
    w("boundaries:")
    for c, ring in zip(COUNTIES, rings):
        flat = ", ".join("%.4f, %.4f" % p for p in ring)
        w("  %s:" % q(c[0]))
        w("    - [%s]" % flat)
    w("")
    w("departments:")
    tiers = {1: "tier 1: first responders (一级联动单位)",
             2: "tier 2: utilities and specialist services (二级联动单位)",
             3: "tier 3: city bureaus (三级联动单位)"}
    last = 0
    for di, (name, kind, tier, county, units) in enumerate(depts):
        if tier != last:
            w("  # ---- %s ----" % tiers[tier])
            last = tier
        w("  - name: %s" % q(name))
        w("    kind: %s" % kind)
        w("    tier: %d" % tier)
        w("    county: %s" % q(county))
        w("    units:")
        # a stable id per unit, like the fleet number painted on the truck:
        # department and unit by position, so renaming a unit here keeps its
        # id (docs/workflow.md section 1c)
        for ui, (uname, ukind, caps, h) in enumerate(units):
            w("      - {name: %s, id: JH-%02d-%03d, kind: %s, capabilities: [%s], "
              "home: [%.4f, %.4f]}"
              % (q(uname), di + 1, ui + 1, ukind, ", ".join(caps), h[0], h[1]))
    w("")
    w("rules:")
    for cat, zh, en, prio, esc_p, esc_s, target, needs in RULES:
        w("  - category: %s  # %s, %s" % (cat, zh, en))
        w("    priority: %d" % prio)
        if esc_p:
            w("    escalate_priority: %d" % esc_p)
        w("    escalate_after_s: %d" % esc_s)
        w("    target_s: %d" % target)
        w("    respond:")
        for tier, kind, cap, n in needs:
            w("      - {tier: %d, kind: %s, capability: %s, units: %d}" % (tier, kind, cap, n))
        w("    levels:  # linkage plans: the full set of needs at alarm levels 2 and 3")
        for level in sorted(ALARM_FACTORS):
            w("      - level: %d" % level)
            w("        respond:")
            for tier, kind, cap, n in level_needs(needs, level):
                w("          - {tier: %d, kind: %s, capability: %s, units: %d}"
                  % (tier, kind, cap, n))
    w("")
    w("aliases:  # what people type: --category 火灾 is building_fire")
    aliases = [(zh, cat) for cat, zh, *_ in RULES] + EXTRA_ALIASES
    names = [a for a, _ in aliases]
    assert len(set(names)) == len(names), "an alias twice"
    for name, word in aliases:
        w("  %s: %s" % (q(name), word))
    w("")
    w("materials:  # units of measure; depots that are not a unit (a unit's stock is at its home)")
    w("  units:")
    for kind, measure in MEASURES:
        w("    %s: %s" % (kind, q(measure)))
    w("  depots:")
    for name, lat, lon in DEPOTS:
        w("    - {name: %s, at: [%.4f, %.4f]}" % (q(name), lat, lon))
    return "\n".join(out) + "\n"


# Materials: how each kind is counted, and the city's and counties'
# stores of flood and emergency materials (plausible places, not surveyed).
MEASURES = [("sandbag", "袋"), ("pump", "台"), ("generator", "台"), ("foam", "L"),
            ("neutralizer", "kg"), ("diesel", "L"), ("tent", "顶"), ("life_jacket", "件")]
DEPOTS = [("金华市防汛抗旱物资仓库", 29.0921, 119.6312),
          ("金华市应急物资储备库", 29.1203, 119.6705),
          ("兰溪市防汛物资仓库", 29.2151, 119.4702),
          ("义乌市应急物资储备库", 29.3187, 120.0603),
          ("东阳市防汛物资仓库", 29.2788, 120.2404),
          ("永康市应急物资储备库", 28.8921, 120.0362)]


def main(argv):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jinhua.yaml")
    if len(argv) == 3 and argv[1] == "-o":
        path = argv[2]
    elif len(argv) != 1:
        sys.stderr.write("usage: gen_jinhua.py [-o FILE]\n")
        return 2
    rings, depts = build()
    check(depts)
    text = render(rings, depts).encode("utf-8")
    if path == "-":
        sys.stdout.buffer.write(text)
    else:
        with open(path, "wb") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
