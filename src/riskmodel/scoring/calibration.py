"""Probability calibration: a scorer's margin turned into a probability, fitted out of time.

A boosted model's margin ranks well but its sigmoid need not be a probability: trees overfit, and
positive–unlabelled weighting shifts the scale.  :class:`ScoreCalibrator` maps the margin to a probability with
Platt scaling (``sigmoid``: a logistic regression on the margin, Platt 1999) or isotonic regression
(``isotonic``: Zadrozny & Elkan 2002).  The pipeline (:func:`riskmodel.scoring.pipeline.calibrate`) fits it on
the last training quarters, scored by a scorer fitted on the quarters before them — never on the test quarters.

Labels there are positive–unlabelled too: what can be fitted is the probability that a row is a *known* positive,
``P(s=1|x)``.  Under Elkan & Noto's assumption (labelled positives are a random share ``c`` of all positives),
``P(y=1|x) = P(s=1|x) / c``; ``label_frequency='estimate'`` estimates ``c`` on the calibration rows as the mean
calibrated ``P(s=1|x)`` of their known positives (their estimator e1) and divides by it.

Both maps are monotone in the margin — Platt strictly, isotonic non-decreasing — so the order of rows, and the
review queue, is the margin's order, and the reason codes (exact SHAP contributions, which add up to the margin)
explain the calibrated probability's order too; they do not add up to the probability.

The default (``scoring.calibration: none``) is *not* to recalibrate: on the development companies the PU-weighted
XGBoost's own probabilities (the sigmoid of its margin, with Elkan & Noto's weights already in the fit) had a lower
Brier score on the test quarters than out-of-time isotonic recalibration; the calibration quarters hold few known
positives (labels arrive late), so both the isotonic steps and the label frequency ``c`` estimated there are noisy.
``riskmodel evaluate`` prints both Brier scores when a run is calibrated; set ``scoring.calibration`` to
``isotonic`` or ``sigmoid`` to recalibrate.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from riskmodel.errors import RiskModelError

METHODS = ("sigmoid", "isotonic")
#: what the model card says when calibration is switched off (the default), and why
NO_CALIBRATION_NOTE = ("calibration switched off (scoring.calibration: none, the default): the probability is the "
                       "PU-weighted scorer's own sigmoid of the margin, which scored a lower Brier score on the test "
                       "quarters than out-of-time isotonic recalibration on the development companies (few known "
                       "positives in the calibration quarters make the isotonic map and the label frequency c noisy); "
                       "set scoring.calibration to isotonic or sigmoid to recalibrate")
#: the same in the Chinese report
NO_CALIBRATION_NOTE_ZH = ("已关闭概率校准（scoring.calibration: none，默认）：概率为正例—未标注加权模型自身边际分的 sigmoid；"
                          "在开发用公司上，它在测试期的 Brier 分数低于时间外等渗回归校准（校准期已知正例少，等渗映射和标注比例 c 不稳定）；"
                          "如需重新校准，请将 scoring.calibration 设为 isotonic 或 sigmoid")


class ScoreCalibrator(BaseEstimator):
    """Map a margin (log-odds-like score) to a calibrated probability.

    Parameters
    ----------
    method : {'sigmoid', 'isotonic'}, default='sigmoid'
        Platt scaling (strictly increasing: keeps the margin's order) or isotonic regression.
    label_frequency : {'estimate'} or float or None, default='estimate'
        Positive–unlabelled correction: divide ``P(s=1|x)`` by the share ``c`` of positives that are labelled
        (``'estimate'``: Elkan & Noto's e1 on the calibration rows; a float: that ``c``; None: no correction).

    Attributes
    ----------
    slope_, intercept_ : float
        Platt parameters (``sigmoid`` only; NaN for ``isotonic``).
    label_frequency_ : float
        The ``c`` used (1.0 without correction).
    n_calibration_, n_positive_ : int
        Rows and known positives the calibrator was fitted on.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> margin = rng.normal(0, 2, 5000)
    >>> y = (rng.random(5000) < 1 / (1 + np.exp(-(0.5 * margin - 1)))).astype(int)   # the margin is overconfident
    >>> cal = ScoreCalibrator(label_frequency=None).fit(margin, y)
    >>> round(cal.slope_, 1), round(cal.intercept_, 1)
    (0.5, -1.0)
    >>> bool(np.all(np.diff(cal.predict(np.sort(margin))) > 0))   # strictly increasing: the order is the margin's
    True
    """

    def __init__(self, method: str = "sigmoid", label_frequency: str | float | None = "estimate"):
        self.method = method
        self.label_frequency = label_frequency

    def fit(self, margin, labels, sample_weight=None):
        """Fit on margins of rows the scorer never saw and their labels (1 known positive, 0 otherwise)."""
        if self.method not in METHODS:
            raise RiskModelError(f"calibration method must be one of {', '.join(METHODS)}, not {self.method!r}")
        m = np.asarray(margin, dtype=float).ravel()
        y = np.asarray(labels).ravel()
        if len(m) != len(y):
            raise RiskModelError(f"calibration needs one label per margin: {len(m)} margins, {len(y)} labels")
        if not np.isfinite(m).all():
            raise RiskModelError("calibration margins contain NaN or infinite values: score the rows with a fitted model first")
        y = (y == 1).astype(int)
        if y.sum() == 0 or y.sum() == len(y):
            raise RiskModelError(f"the calibration quarters have {int(y.sum())} known positives among {len(y)} rows: "
                                 "calibration needs both; use more calibration quarters or a later as-of date")
        self.n_calibration_, self.n_positive_ = int(len(y)), int(y.sum())
        if self.method == "sigmoid":
            lr = LogisticRegression(C=1e6, max_iter=1000).fit(m.reshape(-1, 1), y, sample_weight=sample_weight)
            self.slope_, self.intercept_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])
            if self.slope_ <= 0:
                raise RiskModelError(f"the margin does not rise with the labels on the calibration quarters (Platt slope "
                                     f"{self.slope_:.3g}): the model does not rank there; check the labels before using it")
            self.isotonic_ = None
        else:
            self.isotonic_ = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(
                m, y, sample_weight=sample_weight)
            self.slope_ = self.intercept_ = float("nan")
        if self.label_frequency == "estimate":
            c = float(self._labelled(m[y == 1]).mean())
        elif self.label_frequency is None:
            c = 1.0
        else:
            c = float(self.label_frequency)
            if not 0 < c <= 1:
                raise RiskModelError(f"label_frequency must be in (0, 1], not {c}")
        self.label_frequency_ = float(np.clip(c, 1e-3, 1.0))
        return self

    def _labelled(self, m: np.ndarray) -> np.ndarray:
        if self.method == "sigmoid":
            return 1 / (1 + np.exp(-np.clip(self.slope_ * m + self.intercept_, -30, 30)))
        return self.isotonic_.predict(m)

    def predict(self, margin) -> np.ndarray:
        """Calibrated probability of each margin."""
        check_is_fitted(self, "label_frequency_")
        m = np.asarray(margin, dtype=float).ravel()
        return np.clip(self._labelled(m) / self.label_frequency_, 0.0, 1.0)

    def to_dict(self) -> dict:
        """What the model card records."""
        check_is_fitted(self, "label_frequency_")
        return {"method": self.method, "slope": self.slope_, "intercept": self.intercept_,
                "label_frequency": self.label_frequency_, "label_frequency_source": str(self.label_frequency),
                "rows": self.n_calibration_, "known_positives": self.n_positive_}


def brier(prob, y) -> float:
    """Mean squared difference between probabilities and outcomes (lower is better).

    Examples
    --------
    >>> brier([0.0, 1.0, 0.5], [0, 1, 1])
    0.08333333333333333
    """
    p, t = np.asarray(prob, float), np.asarray(y, float)
    return float(np.mean((p - t) ** 2)) if len(p) else float("nan")
