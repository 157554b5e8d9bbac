"""Errors raised by riskmodel.

Every error derives from :class:`RiskModelError`, so a caller (the CLI, a
scheduled papermill run) can catch one class and print the message without a
traceback.  A message names what is wrong (file, table, column, rows, rule)
and says what to do about it.
"""

from __future__ import annotations


class RiskModelError(Exception):
    """Root of every error riskmodel raises on purpose."""


class SettingsError(RiskModelError):
    """The settings file is malformed or names an unknown key."""


class DataContractError(RiskModelError):
    """A dataset breaks its data contract.

    Parameters
    ----------
    message : str
        Summary line.
    problems : list of Problem, default=()
        Every problem found (see :mod:`riskmodel.data.contracts`).
    """

    def __init__(self, message: str, problems=()):
        self.problems = list(problems)
        super().__init__(message)


class InputFileError(RiskModelError):
    """A source file cannot be read (missing, empty, wrong encoding, wrong format)."""


class OutputError(RiskModelError):
    """An output could not be written; earlier results are left as they were."""
