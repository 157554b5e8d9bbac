"""Bid-rigging detection validated on real, labelled tenders (issue #8).

Rooms
-----
:mod:`~riskmodel.collusion.bids`
    the bid-level shape (one row per bid, tender-level label): reading CSV
    files, checking them, mapping riskmodel's ``tenders``/``bids`` tables to it.
:mod:`~riskmodel.collusion.screens`
    screens beyond the shared catalogue: average-bid auctions, robust shape,
    clusters of bids, rounding, the bids' quantile profile.
:mod:`~riskmodel.collusion.identity`
    identity screens where the bids name their bidders (and periods, markets):
    incumbency, the winner's market share, coordinated entry, co-bidding,
    rotation, a bid against the same firm's other bids.  From bids only, never
    the label, no firm constant, history from earlier periods only.
:mod:`~riskmodel.collusion.model`
    the tender table (screens of :mod:`riskmodel.indicators.screens` and of
    :mod:`~riskmodel.collusion.screens`, plus the tender size), our
    :class:`ScreenClassifier` (a fixed menu of models, one chosen by inner
    cross-validation) and the random-forest reference.
:mod:`~riskmodel.collusion.evaluate`
    per-dataset stratified cross-validation of both, with the small tenders
    counted and reported.
:mod:`~riskmodel.collusion.holdout`
    firm checks where the label is "an accused firm bid": leave each accused
    firm out of training and test on its tenders; a placebo cartel of
    activity-matched ordinary firms.
:mod:`~riskmodel.collusion.report`
    tables and figures for the validation report notebook.
:mod:`~riskmodel.collusion.cli`
    ``riskmodel collusion evaluate BIDS.csv …``.
"""

from riskmodel.collusion.bids import (BID_COLUMNS, IDENTITY_COLUMNS, BidsFileError, from_ohio_milk_bidders, from_tables,
                                     load_bids, read_bids, validate_bids)
from riskmodel.collusion.evaluate import (CollusionEvaluationError, DatasetEvaluation, Evaluation, default_models,
                                          evaluate, evaluate_dataset)
from riskmodel.collusion.holdout import (FirmCheck, HeldOutFirm, PlaceboCheck, firm_check, leave_one_firm_out,
                                         match_placebo_firms, placebo_check)
from riskmodel.collusion.model import (ALL_SCREENS, CANDIDATES, DEFAULT_FEATURES, SIZE_FEATURE, ScreenClassifier,
                                       reference_classifier, tender_table)
from riskmodel.collusion.identity import IDENTITY_SCREEN_NAMES, IDENTITY_SCREENS, compute_identity_screens
from riskmodel.collusion.screens import EXTRA_SCREENS, compute_extra_screens

__all__ = [
    "FirmCheck", "HeldOutFirm", "PlaceboCheck", "firm_check", "leave_one_firm_out", "match_placebo_firms",
    "placebo_check", "ALL_SCREENS", "BID_COLUMNS", "IDENTITY_COLUMNS", "IDENTITY_SCREENS", "IDENTITY_SCREEN_NAMES",
    "compute_identity_screens", "from_ohio_milk_bidders", "CANDIDATES", "EXTRA_SCREENS", "compute_extra_screens", "BidsFileError", "CollusionEvaluationError", "DEFAULT_FEATURES", "DatasetEvaluation", "Evaluation",
    "SIZE_FEATURE", "ScreenClassifier", "default_models", "evaluate", "evaluate_dataset", "from_tables", "load_bids",
    "read_bids", "reference_classifier", "tender_table", "validate_bids",
]
