# SYNTHETIC: every value this module writes is invented; it describes no real person or trial.
"""A seeded synthetic raw trial of any size, shaped exactly like ``fixtures/umsc/raw/``.

Same forms, columns and CRF vocabularies as the bundled 17-subject export, so the bundled spec
(``mappings/umsc``) maps it unchanged. Generation is vectorised numpy over subject x visit
(x test) grids; the same subject count and seed give the same bytes. ``dense_labs`` draws the
full panel plus an extended chemistry/immunology panel at every attended visit (about 500 LAB
rows per subject, ~1,000,000 at 2,000 subjects) for scale runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.atomic import write_text
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.outdir import OutputFolder, check_target, write_own_manifest

YES, NO = "是", "否"
#: Raw visit names in schedule order (mappings/umsc/study.yaml `visits`).
VISITS = (
    "筛选期",
    "第1次输注",
    "第2次输注",
    "第3次输注",
    "第4次输注",
    "治疗后15天",
    "治疗后30天",
    "治疗后45天",
    "治疗后2个月",
    "治疗后3个月",
    "治疗后6个月",
)
FOLLOW_UP_DAYS = np.array([15, 30, 45, 60, 90, 180])
N_VISITS = len(VISITS)
#: Slots of safety labs and of immunology labs in the standard schedule.
SAFETY_SLOTS = np.isin(np.arange(N_VISITS), [0, 1, 2, 3, 4, 5, 6, 9, 10])
IMMUNO_SLOTS = np.isin(np.arange(N_VISITS), [1, 6, 9, 10])
#: Dose groups: stage, group number, dose (10^6 cells/kg) in tenths, interval days, infusions.
GROUPS = (
    ("1", "", 15, 14, 4),
    ("2", "1", 15, 15, 4),
    ("2", "2", 20, 15, 4),
    ("2", "3", 25, 30, 2),
    ("2", "4", 30, 30, 2),
)
#: PASI regions (CRF names) and weights in tenths (Feldman & Krueger 2005).
REGIONS = ("头颈部", "上肢", "躯干", "下肢")
REGION_W = np.array([1, 2, 3, 4])
MONTHS = np.array(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
)
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])  # GB 11643
ID_CHECK = np.array(list("10X98765432"))
SURNAMES = np.array(list("王李张刘陈杨黄赵周吴徐孙胡朱高林何郭罗谭彭曾邓唐"))
GIVEN = {
    "M": np.array(list("伟强军勇杰涛明超刚辉鹏斌宇浩俊峰建国志文")),
    "F": np.array(list("芳娟敏静丽艳娜霞婷秀兰玲慧红燕琴雪梅颖")),
}
NATIONS = (
    ("汉族", 0.91, ("430102", "430104", "430105", "430111", "430121", "430181")),
    ("土家族", 0.04, ("430802", "433127")),
    ("苗族", 0.03, ("433101",)),
    ("回族", 0.02, ("430103",)),
)
PHONE_PREFIXES = np.array(
    ["130", "133", "135", "138", "139", "150", "152", "158", "177", "180", "186", "189", "199"]
)

# Laboratory tests: code, CRF category, CRF name, unit as printed, decimals, (low, high) for
# males, (low, high) for females, kind ("safety", "immuno", "extended"), trend in responders.
LabTest = tuple[str, str, str, str, int, tuple[str, str], tuple[str, str], str, float]
HEM, CHEM, IMM = "血常规", "血生化", "免疫学"
LAB_TESTS: tuple[LabTest, ...] = (
    ("WBC", HEM, "白细胞计数", "10^9/L", 2, ("3.5", "9.5"), ("3.5", "9.5"), "safety", 0),
    ("NEUT", HEM, "中性粒细胞计数", "10^9/L", 2, ("1.8", "6.3"), ("1.8", "6.3"), "safety", 0),
    ("LYM", HEM, "淋巴细胞计数", "10^9/L", 2, ("1.1", "3.2"), ("1.1", "3.2"), "safety", 0),
    ("HGB", HEM, "血红蛋白", "g/L", 0, ("130", "175"), ("115", "150"), "safety", 0),
    ("PLT", HEM, "血小板计数", "10^9/L", 0, ("125", "350"), ("125", "350"), "safety", 0),
    ("ALT", CHEM, "丙氨酸氨基转移酶", "U/L", 0, ("9", "50"), ("7", "40"), "safety", 0),
    ("AST", CHEM, "天门冬氨酸氨基转移酶", "U/L", 0, ("15", "40"), ("13", "35"), "safety", 0),
    ("TBIL", CHEM, "总胆红素", "μmol/L", 1, ("3.4", "20.5"), ("3.4", "20.5"), "safety", 0),
    ("CREA", CHEM, "肌酐", "μmol/L", 0, ("57", "97"), ("41", "73"), "safety", 0),
    ("UREA", CHEM, "尿素", "mmol/L", 2, ("2.9", "8.2"), ("2.9", "8.2"), "safety", 0),
    ("GLU", CHEM, "葡萄糖", "mmol/L", 2, ("3.9", "6.1"), ("3.9", "6.1"), "safety", 0),
    ("IL17", IMM, "白介素17", "pg/mL", 1, ("0", "20.6"), ("0", "20.6"), "immuno", -0.45),
    ("TREG", IMM, "调节性T细胞", "%", 2, ("4.0", "10.0"), ("4.0", "10.0"), "immuno", 0.5),
    ("TH17", IMM, "辅助性T细胞17", "%", 2, ("0.5", "2.5"), ("0.5", "2.5"), "immuno", -0.4),
    ("CD4N", IMM, "CD4幼稚T细胞", "%", 1, ("20.0", "55.0"), ("20.0", "55.0"), "immuno", -0.15),
    ("CD4M", IMM, "CD4记忆T细胞", "%", 1, ("40.0", "75.0"), ("40.0", "75.0"), "immuno", 0.1),
)
# Extended panel (dense schedule only). The local code is the CDISC LBTESTCD itself, which the
# spec's lbtestcd / lbtest recodes accept as codelist values (C65047 / C67154 synonyms).
_EXT = (
    ("SODIUM", CHEM, "钠", "mmol/L", 1, "137", "147"),
    ("URATE", CHEM, "尿酸", "μmol/L", 0, "208", "428"),
    ("AMYLASE", CHEM, "淀粉酶", "U/L", 0, "35", "135"),
    ("AMMONIA", CHEM, "血氨", "μmol/L", 0, "9", "33"),
    ("IRON", CHEM, "血清铁", "μmol/L", 1, "10.6", "36.7"),
    ("ZINC", CHEM, "锌", "μmol/L", 1, "11.6", "23.0"),
    ("COPPER", CHEM, "铜", "μmol/L", 1, "11.0", "24.4"),
    ("FERRITIN", CHEM, "铁蛋白", "ug/L", 1, "30", "400"),
    ("HBA1C", CHEM, "糖化血红蛋白", "%", 1, "4.0", "6.0"),
    ("INSULIN", CHEM, "胰岛素", "mU/L", 1, "2.6", "24.9"),
    ("CORTISOL", CHEM, "皮质醇", "nmol/L", 0, "133", "537"),
    ("TROPONIN", CHEM, "肌钙蛋白", "ng/L", 1, "0", "14"),
    ("RENIN", CHEM, "肾素", "ng/L", 1, "4", "24"),
    ("LEPTIN", CHEM, "瘦素", "ug/L", 1, "2", "10"),
    ("GASTRIN", CHEM, "胃泌素", "ng/L", 0, "13", "115"),
    ("GLUCAGON", CHEM, "胰高血糖素", "ng/L", 0, "50", "150"),
    ("HEPCIDIN", CHEM, "铁调素", "ug/L", 1, "4", "40"),
    ("TRYPTASE", CHEM, "类胰蛋白酶", "ug/L", 1, "1", "11.4"),
    ("ALDOLASE", CHEM, "醛缩酶", "U/L", 1, "1", "7.5"),
    ("PYRUVATE", CHEM, "丙酮酸", "μmol/L", 0, "30", "80"),
    ("PO2", CHEM, "氧分压", "mmHg", 0, "80", "100"),
    ("TRYPSIN", CHEM, "胰蛋白酶", "ug/L", 1, "10", "57"),
    ("GHRELIN", CHEM, "胃饥饿素", "ng/L", 0, "500", "1500"),
    ("DOPAMINE", CHEM, "多巴胺", "pmol/L", 0, "0", "196"),
    ("CA125AG", CHEM, "糖类抗原125", "U/mL", 1, "0", "35"),
    ("RESISTIN", IMM, "抵抗素", "ug/L", 1, "4", "12"),
    ("SAA1", IMM, "血清淀粉样蛋白A", "mg/L", 1, "0", "10"),
    ("CH50", IMM, "总补体活性", "U/mL", 0, "23", "46"),
    ("LYSOZYME", IMM, "溶菌酶", "mg/L", 1, "5", "15"),
    ("CCL20", IMM, "趋化因子CCL20", "ng/L", 1, "5", "60"),
    ("TNFR1B", IMM, "肿瘤坏死因子受体1B", "ug/L", 2, "0.8", "3.2"),
    ("KLOTHO", CHEM, "Klotho蛋白", "ng/L", 0, "400", "1200"),
    ("CXCR3", IMM, "CXCR3阳性T细胞", "%", 1, "10.0", "40.0"),
)
LAB_TESTS_DENSE: tuple[LabTest, ...] = LAB_TESTS + tuple(
    (c, cat, nm, u, d, (lo, hi), (lo, hi), "extended", 0.0) for c, cat, nm, u, d, lo, hi in _EXT
)

#: AE verbatims as investigators write them (all in mappings/umsc/coding/ae_dictionary.csv
#: after trimming and upper-casing), with relative frequencies.
AE_TERMS = (
    ("Fever", 6),
    ("FEVER", 2),
    ("Fever after infusion", 3),
    ("low grade fever", 3),
    ("fatigue", 4),
    ("fatigue ", 1),
    ("Headache", 4),
    ("mild headache", 2),
    ("URTI", 3),
    ("upper respiratory tract infection", 2),
    ("Pruritus worsened", 3),
    ("pruritus worsened", 1),
    ("Dizziness", 2),
    ("Diarrhoea", 2),
    ("ALT elevated", 1),
)
AE_SEV = (("轻度", 0.75), ("中度", 0.22), ("重度", 0.03))
AE_REL = (
    ("肯定有关", 0.1),
    ("很可能有关", 0.2),
    ("可能有关", 0.3),
    ("可能无关", 0.25),
    ("肯定无关", 0.15),
)
NOT_DONE_REASON = "标本溶血"

COLUMNS = {
    "DM": [
        "SITEID",
        "SUBJID",
        "PATNAME",
        "IDNO",
        "TELNO",
        "BRTHDAT",
        "SEX",
        "NATION",
        "HEIGHT",
        "WEIGHT",
        "DMDAT",
    ],
    "ENROL": ["SUBJID", "ICDAT", "SCRDAT", "ELIGYN", "ENRLDAT"],
    "DOSEGRP": ["SUBJID", "STAGE", "GRPNO", "DOSELVL", "ASSGNDAT"],
    "INFUSION": [
        "SUBJID",
        "INFNO",
        "INFDAT",
        "INFSTTIM",
        "INFENTIM",
        "WEIGHT",
        "DOSE",
        "TOTCELL",
        "LOTNO",
        "INFYN",
    ],
    "VISIT": ["SUBJID", "VISIT", "VISDAT"],
    "AE": [
        "SUBJID",
        "AESPID",
        "AETERM",
        "AESTDAT",
        "AEENDAT",
        "AEONGO",
        "AESEV",
        "AESER",
        "AESDTH",
        "AESHOSP",
        "AESLIFE",
        "AESDISAB",
        "AESCONG",
        "AESMIE",
        "AEREL",
        "AEACN",
        "AEOUT",
    ],
    "LAB": [
        "SUBJID",
        "VISIT",
        "LBDAT",
        "LBCAT",
        "LBCODE",
        "LBNAME",
        "LBRES",
        "LBUNIT",
        "LBLOW",
        "LBHIGH",
        "LBNDRSN",
    ],
    "PASI": ["SUBJID", "VISIT", "PASIDAT", "REGION", "ERYTH", "INDUR", "DESQ", "AREA"],
    "PGA": ["SUBJID", "VISIT", "PGADAT", "PGA"],
    "EOS": ["SUBJID", "COMPLYN", "EOSDAT", "DCREAS"],
}


# --------------------------------------------------------------------------------- helpers
def fixed(values: np.ndarray, decimals: int | np.ndarray) -> np.ndarray:
    """Non-negative numbers printed with fixed decimals, rounded half-up (as a lab printer)."""
    values = np.asarray(values, dtype="float64")
    dec = np.broadcast_to(np.asarray(decimals), values.shape)
    out = np.empty(values.shape, dtype=object)
    for d in np.unique(dec):  # loop over the few decimal counts, not over values
        sel = dec == d
        scaled = np.floor(values[sel] * 10.0**d + 0.5 + 1e-9).astype(np.int64)
        whole = (scaled // 10**d).astype(str)
        if d:
            frac = np.char.zfill((scaled % 10**d).astype(str), int(d))
            whole = np.char.add(np.char.add(whole, "."), frac)
        out[sel] = whole
    return out


def iso(days: np.ndarray) -> np.ndarray:
    """YYYY-MM-DD of datetime64[D] values."""
    return np.datetime_as_string(np.asarray(days, dtype="datetime64[D]"), unit="D")


def edc(days: np.ndarray, unknown_day: np.ndarray, unknown_month: np.ndarray) -> np.ndarray:
    """DD/MON/YYYY with the EDC's unknown markers (UK day, UNK month)."""
    days = np.asarray(days, dtype="datetime64[D]")
    month = days.astype("datetime64[M]")
    year = (month.astype("datetime64[Y]").astype(np.int64) + 1970).astype(str)
    dd = np.char.zfill(((days - month).astype(np.int64) + 1).astype(str), 2)
    mon = MONTHS[month.astype(np.int64) % 12]
    dd = np.where(unknown_day | unknown_month, "UK", dd)
    mon = np.where(unknown_month, "UNK", mon)
    return np.char.add(np.char.add(np.char.add(np.char.add(dd, "/"), mon), "/"), year)


def hhmm(minutes: np.ndarray) -> np.ndarray:
    """HH:MM from minutes after midnight."""
    hh = np.char.zfill((minutes // 60).astype(str), 2)
    return np.char.add(np.char.add(hh, ":"), np.char.zfill((minutes % 60).astype(str), 2))


def cat(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise string concatenation."""
    out = np.asarray(parts[0]).astype(str)
    for p in parts[1:]:
        out = np.char.add(out, np.asarray(p).astype(str))
    return out


def _choice(rng: np.random.Generator, table: tuple, size: int) -> np.ndarray:
    """Indices into ``table`` of (value, weight) pairs, drawn by weight."""
    w = np.array([t[1] for t in table], dtype="float64")
    return rng.choice(len(table), size=size, p=w / w.sum())


# --------------------------------------------------------------------------------- design
@dataclass
class Design:
    """Per-subject design arrays (length N) and the subject x visit grid (N x 11)."""

    subjid: np.ndarray
    male: np.ndarray
    group: np.ndarray
    screen: np.ndarray
    first_inf: np.ndarray
    last_inf: np.ndarray
    given: np.ndarray  # infusions given
    planned: np.ndarray  # infusions planned
    withdrawn: np.ndarray
    responder: np.ndarray
    goal: np.ndarray  # best PASI improvement (fraction)
    vdate: np.ndarray  # N x 11 datetime64[D]
    attended: np.ndarray  # N x 11 bool

    @property
    def eos(self) -> np.ndarray:
        """Date of the last attended visit."""
        last = N_VISITS - 1 - np.argmax(self.attended[:, ::-1], axis=1)
        return self.vdate[np.arange(len(self.subjid)), last]


def design(n: int, rng: np.random.Generator) -> Design:
    """Subjects, dose groups, schedule, missed infusions, withdrawals and response."""
    width = max(3, len(str(n)))
    subjid = np.char.zfill((np.arange(n) + 1).astype(str), width)
    male = rng.random(n) < 0.5
    group = rng.integers(0, len(GROUPS), n)
    interval = np.array([g[3] for g in GROUPS])[group]
    planned = np.array([g[4] for g in GROUPS])[group]
    # 2 % of the 4-infusion subjects miss their last infusion (never the first).
    given = planned - ((rng.random(n) < 0.02) & (planned == 4))
    first = np.datetime64("2019-01-15") + rng.integers(0, 595, n).astype("timedelta64[D]")
    screen = first - rng.integers(3, 15, n).astype("timedelta64[D]")
    last = first + (interval * (given - 1)).astype("timedelta64[D]")
    withdrawn = rng.random(n) < 0.05
    responder = rng.random(n) < 0.47
    goal = np.where(responder, rng.uniform(0.42, 0.95, n), rng.uniform(0.05, 0.38, n))
    vdate = np.empty((n, N_VISITS), dtype="datetime64[D]")
    vdate[:, 0] = screen
    k = np.arange(4)
    vdate[:, 1:5] = first[:, None] + (interval[:, None] * k).astype("timedelta64[D]")
    jitter = rng.integers(-3, 4, (n, len(FOLLOW_UP_DAYS)))
    vdate[:, 5:] = last[:, None] + (FOLLOW_UP_DAYS + jitter).astype("timedelta64[D]")
    attended = np.ones((n, N_VISITS), dtype=bool)
    attended[:, 1:5] = k[None, :] < given[:, None]
    attended[:, 10] = ~withdrawn
    return Design(
        subjid,
        male,
        group,
        screen,
        first,
        last,
        given,
        planned,
        withdrawn,
        responder,
        goal,
        vdate,
        attended,
    )


# --------------------------------------------------------------------------------- forms
def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day (1-31) of datetime64[D] values."""
    month = days.astype("datetime64[M]")
    return (
        month.astype("datetime64[Y]").astype(np.int64) + 1970,
        month.astype(np.int64) % 12 + 1,
        (days - month).astype(np.int64) + 1,
    )


def _two(values: np.ndarray) -> np.ndarray:
    return np.char.zfill(np.asarray(values).astype(str), 2)


def subject_forms(
    d: Design, rng: np.random.Generator
) -> tuple[dict[str, pd.DataFrame], np.ndarray]:
    """DM, ENROL, DOSEGRP and EOS (one row per subject) and the screening weight x 10."""
    n = len(d.subjid)
    consent = d.screen - rng.integers(0, 4, n).astype("timedelta64[D]")
    gap = (d.first_inf - d.screen).astype(np.int64)
    enrol = d.screen + (1 + np.floor(rng.random(n) * (gap - 1))).astype(np.int64).astype(
        "timedelta64[D]"
    )
    age = rng.integers(22, 61, n)
    year = _ymd(consent)[0] - age
    birth = cat(year, "-", _two(rng.integers(1, 13, n)), "-", _two(rng.integers(1, 29, n)))
    nation_ix = _choice(rng, NATIONS, n)
    area = np.empty(n, dtype="U6")
    for i, (_, _, codes) in enumerate(NATIONS):  # loop over the four nations, not subjects
        sel = nation_ix == i
        area[sel] = np.array(codes)[rng.integers(0, len(codes), int(sel.sum()))]
    seq = rng.integers(0, 500, n) * 2 + d.male  # odd = male (GB 11643)
    body = cat(area, np.char.replace(birth, "-", ""), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17) - 48
    idno = cat(body, ID_CHECK[(digits.astype(np.int64) @ ID_WEIGHTS) % 11])
    given = [
        np.where(
            d.male,
            GIVEN["M"][rng.integers(0, len(GIVEN["M"]), n)],
            GIVEN["F"][rng.integers(0, len(GIVEN["F"]), n)],
        )
        for _ in range(2)
    ]
    name = cat(
        SURNAMES[rng.integers(0, len(SURNAMES), n)],
        given[0],
        np.where(rng.random(n) < 0.5, given[1], ""),
    )
    phone = cat(
        PHONE_PREFIXES[rng.integers(0, len(PHONE_PREFIXES), n)],
        np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8),
    )
    height = np.where(d.male, rng.integers(163, 181, n), rng.integers(150, 168, n))
    weight10 = np.floor(rng.uniform(20.5, 30.0, n) * (height / 100) ** 2 * 10 + 0.5)
    sites = max(1, min(20, -(-n // 100)))
    site = _two(rng.integers(1, sites + 1, n))
    reason = np.where(rng.random(n) < 0.7, "失访", "撤回知情同意")
    col = np.array
    forms = {
        "DM": {
            "SITEID": site,
            "SUBJID": d.subjid,
            "PATNAME": name,
            "IDNO": idno,
            "TELNO": phone,
            "BRTHDAT": birth,
            "SEX": np.where(d.male, "男", "女"),
            "NATION": col([x[0] for x in NATIONS])[nation_ix],
            "HEIGHT": height.astype(str),
            "WEIGHT": fixed(weight10 / 10, 1),
            "DMDAT": iso(d.screen),
        },
        "ENROL": {
            "SUBJID": d.subjid,
            "ICDAT": iso(consent),
            "SCRDAT": iso(d.screen),
            "ELIGYN": np.full(n, YES),
            "ENRLDAT": iso(enrol),
        },
        "DOSEGRP": {
            "SUBJID": d.subjid,
            "STAGE": col([g[0] for g in GROUPS])[d.group],
            "GRPNO": col([g[1] for g in GROUPS])[d.group],
            "DOSELVL": fixed(col([g[2] for g in GROUPS])[d.group] / 10, 1),
            "ASSGNDAT": iso(enrol),
        },
        "EOS": {
            "SUBJID": d.subjid,
            "COMPLYN": np.where(d.withdrawn, NO, YES),
            "EOSDAT": iso(d.eos),
            "DCREAS": np.where(d.withdrawn, reason, ""),
        },
    }
    return {k: pd.DataFrame(v) for k, v in forms.items()}, weight10


def infusion_form(d: Design, weight10: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """One row per planned infusion; TOTCELL = DOSE x WEIGHT rounded half-up to 0.1."""
    k = np.arange(4)
    planned = k[None, :] < d.planned[:, None]
    sub = np.repeat(np.arange(len(d.subjid)), d.planned)
    given = (k[None, :] < d.given[:, None])[planned]
    day = d.vdate[:, 1:5][planned]
    m = len(sub)
    start = 9 * 60 + 5 * rng.integers(0, 19, m)
    end = start + 5 * rng.integers(7, 15, m)
    w10 = np.floor(weight10[sub] + rng.normal(0, 6, m) + 0.5).astype(np.int64)
    dose10 = np.array([g[2] for g in GROUPS])[d.group][sub]
    tot10 = (dose10 * w10 + 5) // 10  # tenths x tenths -> tenths, half-up, exact in integers
    y, mo, dd = _ymd(day - rng.integers(2, 7, m).astype("timedelta64[D]"))
    lot = cat("UC", y, "-", _two(mo), _two(dd), "-", _two(rng.integers(1, 5, m)))

    def if_given(values: np.ndarray) -> np.ndarray:
        return np.where(given, values, "")

    return pd.DataFrame(
        {
            "SUBJID": d.subjid[sub],
            "INFNO": np.broadcast_to(k + 1, planned.shape)[planned].astype(str),
            "INFDAT": if_given(iso(day)),
            "INFSTTIM": if_given(hhmm(start)),
            "INFENTIM": if_given(hhmm(end)),
            "WEIGHT": if_given(fixed(w10 / 10, 1)),
            "DOSE": fixed(dose10 / 10, 1),
            "TOTCELL": if_given(fixed(tot10 / 10, 1)),
            "LOTNO": if_given(lot),
            "INFYN": np.where(given, YES, NO),
        }
    )


def _visit_rows(d: Design) -> tuple[np.ndarray, np.ndarray]:
    """Subject index and visit slot of every attended visit, in subject then schedule order."""
    sub, slot = np.nonzero(d.attended)
    return sub, slot


def visit_form(d: Design) -> pd.DataFrame:
    """One row per attended visit."""
    sub, slot = _visit_rows(d)
    return pd.DataFrame(
        {
            "SUBJID": d.subjid[sub],
            "VISIT": np.array(VISITS)[slot],
            "VISDAT": iso(d.vdate[sub, slot]),
        }
    )


def _pga(p10: np.ndarray) -> np.ndarray:
    """Static PGA consistent with PASI x 10: >=20 severe, >=10 moderate, >=3 mild, >0 almost."""
    return np.select([p10 >= 200, p10 >= 100, p10 >= 30, p10 > 0], [4, 3, 2, 1], 0)


def pasi_forms(d: Design, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PASI (4 regions per assessment) and PGA rows at every attended visit.

    Baseline sign sums 6-10 and areas 2-5 (head 1-3) give PASI > 10 and PGA >= 3 at baseline;
    later visits shrink both by the square root of the remaining severity.
    """
    n = len(d.subjid)
    s0 = rng.integers(6, 11, (n, 4))
    a0 = np.concatenate([rng.integers(1, 4, (n, 1)), rng.integers(2, 6, (n, 3))], axis=1)
    days = (d.vdate - d.first_inf[:, None]).astype(np.int64)
    curve = (1 - np.exp(-np.clip(days, 0, None) / 50)) / (1 - np.exp(-200 / 50))
    relapse = np.where(d.responder, 0.0, rng.uniform(0, 0.6, n))[:, None] * (days > 100)
    imp = d.goal[:, None] * curve * (1 - relapse) + rng.normal(0, 0.025, (n, N_VISITS))
    imp = np.clip(imp, 0, 0.97)
    imp[:, 0] = -rng.uniform(0, 0.08, n)  # screening: a little worse than baseline
    imp[:, 1] = 0.0  # baseline: the first infusion's pre-dose assessment
    root = np.sqrt(1 - imp)[:, :, None]
    s = np.clip(np.floor(s0[:, None, :] * root + 0.5), 0, 12).astype(np.int64)
    a = np.clip(np.floor(a0[:, None, :] * root + 0.5), 0, 6).astype(np.int64)
    a = np.where(s == 0, 0, np.maximum(a, 1))
    s = np.where(a == 0, 0, s)
    p10 = (s * a * REGION_W).sum(axis=2)
    rank = np.argsort(rng.random((n, 3)), axis=1)  # which signs take the remainder
    sub, slot = _visit_rows(d)
    ss = s[sub, slot].ravel()
    srank = np.repeat(rank[sub], 4, axis=0)
    signs = (ss // 3)[:, None] + (srank < (ss % 3)[:, None])
    rep = np.repeat(np.arange(len(sub)), 4)
    visit, date = np.array(VISITS)[slot], iso(d.vdate[sub, slot])
    pasi = pd.DataFrame(
        {
            "SUBJID": d.subjid[sub][rep],
            "VISIT": visit[rep],
            "PASIDAT": date[rep],
            "REGION": np.tile(np.array(REGIONS), len(sub)),
            "ERYTH": signs[:, 0].astype(str),
            "INDUR": signs[:, 1].astype(str),
            "DESQ": signs[:, 2].astype(str),
            "AREA": a[sub, slot].ravel().astype(str),
        }
    )
    pga = pd.DataFrame(
        {
            "SUBJID": d.subjid[sub],
            "VISIT": visit,
            "PGADAT": date,
            "PGA": _pga(p10[sub, slot]).astype(str),
        }
    )
    return pasi, pga


def lab_form(d: Design, rng: np.random.Generator, dense: bool) -> pd.DataFrame:
    """Lab results: safety panels at safety visits and immunology at baseline and follow-up,
    or (dense) the full and extended panels at every attended visit."""
    tests = LAB_TESTS_DENSE if dense else LAB_TESTS
    n, t = len(d.subjid), len(tests)
    lo_m = np.array([float(x[5][0]) for x in tests])
    hi_m = np.array([float(x[5][1]) for x in tests])
    lo_f = np.array([float(x[6][0]) for x in tests])
    hi_f = np.array([float(x[6][1]) for x in tests])
    lo = np.where(d.male[:, None], lo_m, lo_f)
    hi = np.where(d.male[:, None], hi_m, hi_f)
    span = hi - lo
    mean = lo + rng.uniform(0.25, 0.65, (n, t)) * span  # N x T
    days = (d.vdate - d.first_inf[:, None]).astype(np.int64)
    progress = np.clip(days / 180, 0, 1)[:, :, None]  # N x V x 1
    trend = np.array([x[8] for x in tests]) * np.where(d.responder, 1.0, 0.3)[:, None]
    value = (
        mean[:, None, :] * (1 + trend[:, None, :] * progress)
        + rng.normal(0, 0.08, (n, N_VISITS, t)) * span[:, None, :]
    )
    value = np.maximum(value, 0.05 * span[:, None, :])
    dec = np.array([x[4] for x in tests])
    code = [x[0] for x in tests]
    # The differential adds up to the total count: WBC = NEUT + LYM + other cells.
    rounded = np.floor(value * 100 + 0.5) / 100
    other = rng.uniform(0.4, 0.9, (n, N_VISITS))
    value[:, :, code.index("WBC")] = (
        rounded[:, :, code.index("NEUT")] + rounded[:, :, code.index("LYM")] + other
    )
    kind = np.array([x[7] for x in tests])
    if dense:
        wanted = np.broadcast_to(d.attended[:, :, None], value.shape)
    else:
        slots = np.where(kind == "immuno", IMMUNO_SLOTS[:, None], SAFETY_SLOTS[:, None])  # V x T
        wanted = d.attended[:, :, None] & slots[None, :, :]
    sub, slot, test = np.nonzero(wanted)
    m = len(sub)
    res = fixed(value[sub, slot, test], dec[test])
    not_done = rng.random(m) < 0.002
    res[not_done] = ""
    male = d.male[sub]
    low = np.where(
        male, np.array([x[5][0] for x in tests])[test], np.array([x[6][0] for x in tests])[test]
    )
    high = np.where(
        male, np.array([x[5][1] for x in tests])[test], np.array([x[6][1] for x in tests])[test]
    )
    return pd.DataFrame(
        {
            "SUBJID": d.subjid[sub],
            "VISIT": np.array(VISITS)[slot],
            "LBDAT": iso(d.vdate[sub, slot]),
            "LBCAT": np.array([x[1] for x in tests])[test],
            "LBCODE": np.array(code)[test],
            "LBNAME": np.array([x[2] for x in tests])[test],
            "LBRES": res,
            "LBUNIT": np.array([x[3] for x in tests])[test],
            "LBLOW": low,
            "LBHIGH": high,
            "LBNDRSN": np.where(not_done, NOT_DONE_REASON, ""),
        }
    )


def ae_form(d: Design, rng: np.random.Generator) -> pd.DataFrame:
    """Non-serious adverse events between the first infusion and the end of study; a few with
    partial dates and a few ongoing."""
    n = len(d.subjid)
    count = np.minimum(rng.poisson(0.9, n), 6)
    sub = np.repeat(np.arange(n), count)
    m = len(sub)
    first = np.r_[0, np.cumsum(count)[:-1]]
    spid = np.arange(m) - np.repeat(first, count) + 1
    gaps = rng.integers(1, 40, m)  # days between a subject's successive onsets
    csum = np.cumsum(gaps)
    offset = csum - np.repeat(np.r_[0, csum][first], count)
    eos = d.eos[sub]
    start = np.minimum(d.first_inf[sub] + (offset - 1).astype("timedelta64[D]"), eos)
    ongoing = rng.random(m) < 0.05
    end = np.minimum(start + rng.integers(0, 15, m).astype("timedelta64[D]"), eos)
    is_last = np.zeros(m, dtype=bool)
    is_last[(first + count - 1)[count > 0]] = True
    u = rng.random(m)
    st_day = is_last & (u < 0.03)
    st_month = is_last & (u < 0.006)
    en_day = is_last & ~ongoing & (rng.random(m) < 0.01)
    none = np.zeros(m, dtype=bool)
    terms = np.array([x[0] for x in AE_TERMS], dtype=object)[_choice(rng, AE_TERMS, m)]
    sev = np.array([x[0] for x in AE_SEV])[_choice(rng, AE_SEV, m)]
    rel = np.array([x[0] for x in AE_REL])[_choice(rng, AE_REL, m)]
    blank = np.full(m, "")
    return pd.DataFrame(
        {
            "SUBJID": d.subjid[sub],
            "AESPID": spid.astype(str),
            "AETERM": terms,
            "AESTDAT": edc(start, st_day, st_month),
            "AEENDAT": np.where(ongoing, "", edc(end, en_day, none)),
            "AEONGO": np.where(ongoing, YES, NO),
            "AESEV": sev,
            "AESER": np.full(m, NO),
            "AESDTH": blank,
            "AESHOSP": blank,
            "AESLIFE": blank,
            "AESDISAB": blank,
            "AESCONG": blank,
            "AESMIE": blank,
            "AEREL": rel,
            "AEACN": np.where(start <= d.last_inf[sub], "剂量不变", "不适用"),
            "AEOUT": np.where(ongoing, "未愈", "痊愈"),
        }
    )


# --------------------------------------------------------------------------------- trial
def build(subjects: int, seed: int, dense_labs: bool = False) -> dict[str, pd.DataFrame]:
    """Every raw form of a synthetic trial, keyed by form name (DM, ENROL, ... EOS)."""
    if subjects < 1:
        raise InputError(f"synth: --subjects must be at least 1 (got {subjects})")
    rng = np.random.default_rng(seed)
    d = design(subjects, rng)
    forms, weight10 = subject_forms(d, rng)
    forms["INFUSION"] = infusion_form(d, weight10, rng)
    forms["VISIT"] = visit_form(d)
    forms["PASI"], forms["PGA"] = pasi_forms(d, rng)
    forms["LAB"] = lab_form(d, rng, dense_labs)
    forms["AE"] = ae_form(d, rng)
    return {name: forms[name][cols] for name, cols in COLUMNS.items()}


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    """UTF-8 without BOM, comma-separated, minimal quoting, \\n line ends; atomic replace."""
    write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def write_trial(
    out: Path, subjects: int, seed: int, dense_labs: bool = False, force: bool = False
) -> dict[str, int]:
    """Write the synthetic trial's forms as ``out/<FORM>.csv``; return rows per form.

    ``out`` is an output folder (``core/outdir.py``): created, or replaced whole if it is a
    previous output of this tool; a folder of other files is refused unless ``force``.
    """
    output = OutputFolder(Path(out), force=force)
    check_target(output.target, output.inputs, force)
    forms = build(subjects, seed, dense_labs)
    with output as staging:
        for name, frame in forms.items():
            write_csv(staging / f"{name}.csv", frame)
        write_own_manifest(
            staging,
            {"command": "synth", "subjects": subjects, "seed": seed, "dense_labs": dense_labs},
        )
        output.commit()
    return {name: len(frame) for name, frame in forms.items()}
