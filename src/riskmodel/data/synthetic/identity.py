"""Fake Chinese identities, vectorised: names, phones, ID numbers, bank accounts, addresses.

Everything is drawn from a numpy ``Generator`` so that a seed fixes it.  Name
lists come from Faker's zh_CN providers; the ID number carries a valid
GB 11643 check digit and bank accounts a valid Luhn digit, so validators that
check them accept the fakes.  None of these belong to a real person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from faker.providers.company.zh_CN import Provider as _Company
from faker.providers.person.zh_CN import Provider as _Person

_SURNAMES = np.array(list(_Person.last_names))
_SURNAME_P = np.array(list(_Person.last_names.values()), dtype=float)
_SURNAME_P /= _SURNAME_P.sum()
_MALE = np.array(sorted(set(_Person.first_names_male)))
_FEMALE = np.array(sorted(set(_Person.first_names_female)))
_COMPANY_WORDS = np.array(sorted(set(_Company.company_prefixes)))

#: Harbin's districts and counties, with the region code used in ID numbers
COUNTIES = {
    "道里区": "230102", "南岗区": "230103", "道外区": "230104", "香坊区": "230110", "呼兰区": "230111",
    "阿城区": "230112", "双城区": "230113", "五常市": "230184", "尚志市": "230183", "宾县": "230125",
    "巴彦县": "230126", "木兰县": "230127", "通河县": "230128", "延寿县": "230129", "依兰县": "230123",
    "方正县": "230124",
}
URBAN = ["道里区", "南岗区", "道外区", "香坊区"]
RURAL = [c for c in COUNTIES if c not in URBAN]
_TOWN_STEMS = np.array(list("山河岭泉屯沟营岗甸堡口湾台林川"))
_TOWN_HEADS = np.array(list("兴安东西南北新永长太平福康宝富民和庆同胜光红青常德"))
_STREETS = np.array(["中山路", "红旗大街", "长江路", "黄河路", "学府路", "文昌街", "中央大街", "经纬街",
                     "和兴路", "哈平路", "先锋路", "友谊路", "建设街", "新阳路", "安静街", "公司街"])
_PHONE_PREFIX = np.array(["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                          "152", "155", "157", "158", "159", "166", "176", "177", "180", "186", "187", "189"])
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))


def names(rng: np.random.Generator, n: int, gender: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(names, genders)``; given names have one or two characters."""
    if gender is None:
        gender = np.where(rng.random(n) < 0.5, "男", "女")
    surname = rng.choice(_SURNAMES, n, p=_SURNAME_P)
    male = gender == "男"
    first = np.where(male, rng.choice(_MALE, n), rng.choice(_FEMALE, n))
    second = np.where(male, rng.choice(_MALE, n), rng.choice(_FEMALE, n))
    # faker's lists hold one- and two-character given names; keep full names at two or three characters
    two = (rng.random(n) < 0.6) & (np.char.str_len(first.astype(str)) == 1) & (np.char.str_len(second.astype(str)) == 1)
    given = np.where(two, np.char.add(first.astype(str), second.astype(str)), first)
    return np.char.add(surname.astype(str), given.astype(str)).astype(object), gender


def mobile_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct-looking 11-digit mobile numbers (duplicates possible but rare)."""
    rest = rng.integers(0, 10**8, n)
    return np.char.add(rng.choice(_PHONE_PREFIX, n), np.char.zfill(rest.astype(str), 8)).astype(object)


def landlines(rng: np.random.Generator, n: int) -> np.ndarray:
    """Harbin landlines, ``0451-8xxxxxxx``."""
    return np.char.add("0451-8", np.char.zfill(rng.integers(0, 10**7, n).astype(str), 7)).astype(object)


def id_numbers(rng: np.random.Generator, birth: pd.Series | np.ndarray, gender: np.ndarray,
               county: np.ndarray | None = None) -> np.ndarray:
    """18-character resident ID numbers with a valid check digit."""
    n = len(gender)
    codes = np.array(list(COUNTIES.values()))
    region = rng.choice(codes, n) if county is None else np.vectorize(COUNTIES.get)(county)
    birth = pd.to_datetime(pd.Series(birth)).dt.strftime("%Y%m%d").to_numpy().astype(str)
    seq = rng.integers(0, 50, n) * 2 + np.where(gender == "男", 1, 0)  # odd = male
    serial = np.char.add(np.char.zfill(rng.integers(0, 10, n).astype(str), 1), np.char.zfill(seq.astype(str), 2))
    body = np.char.add(np.char.add(region.astype(str), birth), serial)
    digits = np.array([list(s) for s in body], dtype=int).reshape(n, 17) if n else np.zeros((0, 17), int)
    check = _ID_CHECK[(digits * _ID_WEIGHTS).sum(axis=1) % 11] if n else np.array([], dtype=str)
    return np.char.add(body, check.astype(str)).astype(object)


def bank_accounts(rng: np.random.Generator, n: int) -> np.ndarray:
    """19-digit UnionPay-style card numbers with a valid Luhn digit."""
    bins = rng.choice(np.array(["622202", "621700", "622848", "621226", "622908"]), n)
    body = rng.integers(0, 10, (n, 12))
    digits = np.hstack([np.array([list(b) for b in bins], dtype=int).reshape(n, 6), body])
    # Luhn: double every second digit from the right of the 18-digit body (the check digit comes last)
    dbl = digits.copy()
    dbl[:, -1::-2] *= 2
    dbl[dbl > 9] -= 9
    check = (10 - dbl.sum(axis=1) % 10) % 10
    return np.array(["".join(map(str, row)) + str(c) for row, c in zip(digits, check)], dtype=object)


def towns(rng: np.random.Generator, n: int) -> np.ndarray:
    """Township names such as 兴山镇."""
    return np.char.add(np.char.add(rng.choice(_TOWN_HEADS, n), rng.choice(_TOWN_STEMS, n)), "镇").astype(object)


def rural_addresses(rng: np.random.Generator, county: np.ndarray, town: np.ndarray) -> np.ndarray:
    """``哈尔滨市五常市兴山镇红光村3组17号``."""
    n = len(county)
    village = np.char.add(np.char.add(rng.choice(_TOWN_HEADS, n), rng.choice(_TOWN_HEADS, n)), "村")
    tail = np.char.add(np.char.add(rng.integers(1, 12, n).astype(str), "组"), np.char.add(rng.integers(1, 80, n).astype(str), "号"))
    return np.char.add(np.char.add(np.char.add(np.char.add("黑龙江省哈尔滨市", county.astype(str)), town.astype(str)), village), tail).astype(object)


def urban_addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    """``黑龙江省哈尔滨市南岗区学府路128号3单元502室``."""
    district = rng.choice(np.array(URBAN), n)
    street = rng.choice(_STREETS, n)
    no = rng.integers(1, 400, n).astype(str)
    unit = np.char.add(np.char.add(rng.integers(1, 7, n).astype(str), "单元"), np.char.add(rng.integers(101, 1802, n).astype(str), "室"))
    return np.char.add(np.char.add(np.char.add(np.char.add("黑龙江省哈尔滨市", district), street), np.char.add(no, "号")), unit).astype(object)


def company_names(rng: np.random.Generator, n: int, trade: np.ndarray) -> np.ndarray:
    """``哈尔滨鑫博腾飞农资有限公司``: distinct by construction (a counter breaks ties)."""
    words = rng.choice(_COMPANY_WORDS, n).astype(str)
    out = np.char.add(np.char.add(np.char.add("哈尔滨", words), trade.astype(str)), "有限公司").astype(object)
    seen: dict[str, int] = {}
    for i, name in enumerate(out):  # a few thousand names at most
        k = seen.get(name, 0)
        seen[name] = k + 1
        if k:
            out[i] = name.replace("有限公司", f"{'一二三四五六七八九十'[k % 10]}分有限公司")
    return out


def credit_codes(rng: np.random.Generator, n: int, start: int = 0) -> np.ndarray:
    """18-character unified social credit codes (format only; unique by a counter from ``start``)."""
    alphabet = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
    body = rng.choice(alphabet, (n, 6))
    serial = np.char.zfill(np.arange(start, start + n).astype(str), 7)
    return np.array([f"9123{''.join(b)}{s}X" for b, s in zip(body, serial)], dtype=object)


# --- variants: the same attribute written differently (what normalisation must undo) ---
_FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def phone_variant(phone: str, k: int) -> str:
    """Write a phone number another way: spaces, dashes, +86, full-width digits."""
    digits = phone.replace("-", "")
    return [f"+86 {digits}", f"{digits[:3]}-{digits[3:7]}-{digits[7:]}", digits.translate(_FULLWIDTH),
            f"{digits[:3]} {digits[3:7]} {digits[7:]}"][k % 4]


def address_variant(address: str, k: int) -> str:
    """Write an address another way: drop the province, full-width digits, spaces."""
    return [address.replace("黑龙江省", ""), address.translate(_FULLWIDTH), address.replace("号", "号 ", 1),
            address.replace("黑龙江省哈尔滨市", "哈尔滨 ")][k % 4]
