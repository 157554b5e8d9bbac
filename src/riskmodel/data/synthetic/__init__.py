"""The synthetic company: a realistic tobacco leaf company with planted schemes and benign look-alikes.

``generate_company`` writes one Parquet file per contract table and the ground
truth under ``truth/`` (read only by evaluation code).
"""

from riskmodel.data.synthetic.base import PRESETS, Preset
from riskmodel.data.synthetic.company import generate_company
from riskmodel.data.synthetic.schemes import SCHEME_TYPES

__all__ = ["PRESETS", "Preset", "SCHEME_TYPES", "generate_company"]
