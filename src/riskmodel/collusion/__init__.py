"""Bid-rigging detection validated on real, labelled tenders (issue #8).

Rooms
-----
:mod:`~riskmodel.collusion.bids`
    the bid-level shape (one row per bid, tender-level label): reading CSV
    files, checking them, mapping riskmodel's ``tenders``/``bids`` tables to it.
:mod:`~riskmodel.collusion.model`
    the tender table (screens of :mod:`riskmodel.indicators.screens` plus the
    tender size), our :class:`ScreenClassifier` and the random-forest reference.
:mod:`~riskmodel.collusion.evaluate`
    per-dataset stratified cross-validation of both, with the small tenders
    counted and reported.
:mod:`~riskmodel.collusion.report`
    tables and figures for the validation report notebook.
:mod:`~riskmodel.collusion.cli`
    ``riskmodel collusion evaluate BIDS.csv …``.
"""

from riskmodel.collusion.bids import BID_COLUMNS, BidsFileError, from_tables, load_bids, read_bids, validate_bids
from riskmodel.collusion.evaluate import (CollusionEvaluationError, DatasetEvaluation, Evaluation, default_models,
                                          evaluate, evaluate_dataset)
from riskmodel.collusion.model import (DEFAULT_FEATURES, SIZE_FEATURE, ScreenClassifier, reference_classifier,
                                       tender_table)

__all__ = [
    "BID_COLUMNS", "BidsFileError", "CollusionEvaluationError", "DEFAULT_FEATURES", "DatasetEvaluation", "Evaluation",
    "SIZE_FEATURE", "ScreenClassifier", "default_models", "evaluate", "evaluate_dataset", "from_tables", "load_bids",
    "read_bids", "reference_classifier", "tender_table", "validate_bids",
]
