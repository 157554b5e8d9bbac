"""Normalisation: the same phone, address, account or ID written differently meets; different ones do not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data.synthetic import identity as idn
from riskmodel.graph.normalize import is_mobile, normalize_account, normalize_address, normalize_phone


@pytest.mark.parametrize("written", ["13812345678", "+86 13812345678", "+8613812345678", "0086-138-1234-5678",
                                     "138-1234-5678", "138 1234 5678", "１３８１２３４５６７８", "(138)1234-5678", " 138.1234.5678 "])
def test_mobile_spellings_meet(written):
    assert normalize_phone(pd.Series([written]))[0] == "13812345678"


@pytest.mark.parametrize("written", ["0451-85001234", "0451 8500 1234", "(0451)85001234", "+86 451 8500 1234",
                                     "0451-85001234转801", "０４５１－８５００１２３４"])
def test_landline_spellings_meet(written):
    assert normalize_phone(pd.Series([written]))[0] == "045185001234"


def test_mobile_and_landline_are_told_apart():
    keys = normalize_phone(pd.Series(["138-1234-5678", "0451-85001234"]))
    assert is_mobile(keys).tolist() == [True, False]


def test_too_short_or_empty_is_not_a_key():
    keys = normalize_phone(pd.Series(["110", "", None, "x"]))
    assert keys.isna().all()
    assert normalize_address(pd.Series(["南岗区", None])).isna().all()
    assert normalize_account(pd.Series(["1234", None])).isna().all()


def test_generator_variants_are_undone_without_knowing_them():
    rng = np.random.default_rng(3)
    phones = idn.mobile_phones(rng, 20)
    for p in phones:
        spelled = pd.Series([p] + [idn.phone_variant(p, k) for k in range(4)])
        assert normalize_phone(spelled).nunique() == 1, spelled.tolist()
    county = np.array(["五常市", "宾县", "呼兰区"] * 3)
    addresses = np.concatenate([idn.urban_addresses(rng, 9), idn.rural_addresses(rng, county, idn.towns(rng, 9))])
    for a in addresses:
        spelled = pd.Series([a] + [idn.address_variant(a, k) for k in range(4)])
        assert normalize_address(spelled).nunique() == 1, spelled.tolist()


def test_address_prefixes_dropped_but_the_place_kept():
    s = pd.Series(["黑龙江省哈尔滨市南岗区学府路1号2单元301室", "哈尔滨市南岗区学府路1号2单元301室", "南岗区 学府路1号 2单元301室",
                   "哈尔滨 南岗区学府路1号2单元301室", "黑龙江哈尔滨市南岗区学府路1号2单元301室",
                   "南岗区学府路1号2单元302室", "道里区学府路1号2单元301室", "黑龙江省哈尔滨市五常市兴山镇红光村3组17号",
                   "五常市兴山镇红光村3组17号"])
    k = normalize_address(s)
    assert k[:5].nunique() == 1 and k[0] == "南岗区学府路1号2单元301室"
    assert k[5] != k[0] and k[6] != k[0], "another room or another district is another address"
    assert k[7] == k[8] == "五常市兴山镇红光村3组17号", "a county-level city is kept, its prefecture dropped"


def test_residential_compound_named_xiaoqu_is_not_mistaken_for_a_district():
    k = normalize_address(pd.Series(["哈尔滨市香坊区幸福小区3栋2单元", "香坊区幸福小区3栋2单元"]))
    assert k[0] == k[1] == "香坊区幸福小区3栋2单元"


def test_accounts_and_ids():
    k = normalize_account(pd.Series(["6222 0212 3456 7890 123", "6222-0212-3456-7890-123", "２３０１０２１９８８０１０１１２３x",
                                     "230102198801011234"]))
    assert k[0] == k[1] == "6222021234567890123"
    assert k[2] == "23010219880101123X" and k[3] != k[2]
