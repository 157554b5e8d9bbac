"""riskmodel: integrity-risk analytics for a company's supervision office.

Rooms (see README): ``data`` (contracts, synthetic company), ``indicators``,
``graph``, ``scoring``, ``linkage``, ``reports``, ``ledger``, ``cli``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("riskmodel")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"
