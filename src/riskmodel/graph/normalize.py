"""Normalising identifying attributes so that the same phone, address, account or ID written differently still meets.

Source systems write the same thing many ways: ``+86 138 1234 5678``, ``138-1234-5678``, full-width digits typed
with a Chinese input method, an address with or without its province and city (``黑龙江省哈尔滨市南岗区…`` and
``南岗区…``, or ``哈尔滨 南岗区…``), stray spaces.  Each function here takes a pandas Series and returns the
canonical key (``<NA>`` where nothing linkable is left), vectorised over the column.  The rules are general
(Unicode NFKC, digits only for numbers, administrative prefixes above the county level dropped), not a reversal
of particular formats.
"""

from __future__ import annotations

import re

import pandas as pd

#: China's provincial-level divisions (short names); the suffix (省, 市, 自治区, 特别行政区…) is optional
PROVINCES = ("北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
             "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古",
             "广西壮族", "广西", "西藏", "宁夏回族", "宁夏", "新疆维吾尔", "新疆", "香港", "澳门")
_PROVINCE = re.compile(r"^(?:" + "|".join(PROVINCES) + r")(?:省|市|自治区|特别行政区)?")
# a county-level unit right at the start: 1–4 characters then 区/县/旗/市 (the 市 of a county-level city)
_COUNTY_AHEAD = r"(?=[^\d省市区县旗]{1,4}(?:区|县|旗|市))"
# a prefecture-level city written out with 市 and followed by a county-level unit: learn its name
_CITY_WITH_SHI = re.compile(r"^([^\d省市区县旗]{2,4})市" + _COUNTY_AHEAD)
_PUNCT = re.compile(r"[\s,，。.、;；:：'\"“”‘’()（）\[\]【】<>《》·•_\-—–/\\|]+")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x)\s*\d{1,6}\s*$", re.IGNORECASE)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")

MIN_ADDRESS_CHARS = 6
MIN_ACCOUNT_CHARS = 8
MIN_PHONE_DIGITS = 7


def _text(s: pd.Series) -> pd.Series:
    return pd.Series(s, copy=False).astype("string").str.normalize("NFKC").str.strip()


def normalize_phone(s: pd.Series) -> pd.Series:
    """Canonical phone numbers: digits only, country code dropped, landlines with their trunk ``0``.

    Parameters
    ----------
    s : Series of str

    Returns
    -------
    Series of string
        ``13812345678`` for a mobile, ``045185001234`` for a landline; ``<NA>`` for fewer than
        :data:`MIN_PHONE_DIGITS` digits.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_phone(pd.Series(["+86 138 1234 5678", "138-1234-5678", "１３８１２３４５６７８", "0451-85001234",
    ...                            "+86 451 8500 1234", "(0451) 8500-1234 转 801", "12"])).tolist()
    ['13812345678', '13812345678', '13812345678', '045185001234', '045185001234', '045185001234', <NA>]
    """
    t = _text(s).str.replace(_EXTENSION, "", regex=True)
    d = t.str.replace(r"\D", "", regex=True)
    d = d.str.replace(r"^(?:00)?86(?=1[3-9]\d{9}$)", "", regex=True)       # +86 mobile
    d = d.str.replace(r"^(?:00)?86(?=[1-9]\d{8,10}$)", "0", regex=True)   # +86 landline: area code loses its trunk 0
    return d.where(d.str.len() >= MIN_PHONE_DIGITS)


def is_mobile(key: pd.Series) -> pd.Series:
    """Whether a normalised phone key is a personal mobile number (a landline is often a shared switchboard)."""
    return pd.Series(key, copy=False).astype("string").str.fullmatch(_MOBILE.pattern).fillna(False).astype(bool)


def normalize_account(s: pd.Series) -> pd.Series:
    """Bank accounts and ID numbers: NFKC, letters and digits only, upper case (the ID check letter ``x`` → ``X``).

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_account(pd.Series(["6222 0212 3456 7890 123", "23010219880101123x", "-"])).tolist()
    ['6222021234567890123', '23010219880101123X', <NA>]
    """
    t = _text(s).str.replace(r"[^0-9A-Za-z]", "", regex=True).str.upper()
    return t.where(t.str.len() >= MIN_ACCOUNT_CHARS)


normalize_id = normalize_account


def normalize_address(s: pd.Series, cities: set[str] | None = None) -> pd.Series:
    """Canonical addresses: NFKC, no spaces or punctuation, nothing above the county level.

    The province is dropped by name (:data:`PROVINCES`).  A prefecture-level city is dropped where a county-level
    unit follows it; its name is learnt from the addresses that write it out with 市 (``哈尔滨市南岗区…``), so
    that ``哈尔滨 南岗区…`` and ``南岗区…`` meet it too.  ``cities`` adds names to the learnt ones.

    Returns
    -------
    Series of string
        ``<NA>`` where fewer than :data:`MIN_ADDRESS_CHARS` characters are left.

    Examples
    --------
    >>> import pandas as pd
    >>> normalize_address(pd.Series(["黑龙江省哈尔滨市南岗区学府路128号3单元502室", "哈尔滨市南岗区学府路１２８号3单元502室",
    ...                              "哈尔滨 南岗区学府路128号 3单元502室", "南岗区学府路128号3单元502室",
    ...                              "黑龙江省哈尔滨市五常市兴山镇红光村3组17号", "哈尔滨 五常市兴山镇红光村3组17号"])).tolist()
    ['南岗区学府路128号3单元502室', '南岗区学府路128号3单元502室', '南岗区学府路128号3单元502室', '南岗区学府路128号3单元502室', '五常市兴山镇红光村3组17号', '五常市兴山镇红光村3组17号']
    """
    t = _text(s).str.replace(_PUNCT, "", regex=True).str.replace(_PROVINCE, "", regex=True)
    learnt = set(t.str.extract(_CITY_WITH_SHI, expand=False).dropna().unique()) | set(cities or ())
    if learnt:
        names = "|".join(sorted(map(re.escape, learnt), key=len, reverse=True))
        t = t.str.replace(re.compile(rf"^(?:{names})市?" + _COUNTY_AHEAD), "", regex=True)
    return t.where(t.str.len() >= MIN_ADDRESS_CHARS)
