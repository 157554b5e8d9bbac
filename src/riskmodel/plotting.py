"""Chinese text in figures: find an installed CJK font and make matplotlib use it.

Looked up in this order: the file named by ``RISKMODEL_CJK_FONT``; Noto Sans/Serif CJK; Source Han;
WenQuanYi; SimHei / Microsoft YaHei / PingFang.  ``make setup`` installs fonts-noto-cjk where it can.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache

import matplotlib
from matplotlib import font_manager

PREFERRED = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "Noto Serif CJK JP", "Source Han Sans SC",
             "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC",
             "Noto Sans SC", "AR PL UMing CN")


class NoCJKFontWarning(UserWarning):
    """No font with Chinese glyphs is installed; Chinese would render as empty boxes."""


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """The family name of an installed CJK font, or None."""
    path = os.environ.get("RISKMODEL_CJK_FONT")
    if path and os.path.isfile(path):
        font_manager.fontManager.addfont(path)
        return font_manager.FontProperties(fname=path).get_name()
    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in PREFERRED:
        if fam in names:
            return fam
    # a font added after matplotlib built its cache: look on disk once
    for f in font_manager.findSystemFonts():
        if any(k in os.path.basename(f) for k in ("NotoSansCJK", "NotoSerifCJK", "SourceHan", "wqy", "simhei")):
            font_manager.fontManager.addfont(f)
            return font_manager.FontProperties(fname=f).get_name()
    return None


def use_cjk_font() -> str | None:
    """Put a CJK font first in matplotlib's sans-serif list; warn (once) if there is none.

    Returns the family used, or None.
    """
    fam = find_cjk_font()
    if fam is None:
        warnings.warn("no CJK font found: Chinese text will show as empty boxes. Install one (Debian/Ubuntu: "
                      "apt-get install fonts-noto-cjk) or set RISKMODEL_CJK_FONT=/path/to/font.otf", NoCJKFontWarning, stacklevel=2)
        return None
    matplotlib.rcParams["font.sans-serif"] = [fam, *[f for f in matplotlib.rcParams["font.sans-serif"] if f != fam]]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    return fam
