"""LIME (Ribeiro et al., KDD 2016) through the ``lime`` package, read as local linear models.

LIME explains one point at a time: it samples its own neighbourhood, weights
the samples by a kernel on their distance to the point, and fits a weighted
ridge regression to the network's outputs.  With ``discretize_continuous=False``
it works in standardised features ``(x - mean) / scale`` (its ``scaler``), so
its coefficients are mapped back to raw features here::

    coef_raw_j = coef_j / scale_j
    intercept_raw = intercept - sum_j coef_j * mean_j / scale_j

A quirk of ``lime`` read around here: in regression mode an explanation's
``local_exp[0]`` holds the *negated* coefficients and ``local_exp[1]`` the
fitted ones.  Note also that by default LIME samples around the training mean,
not around the point: far outside the training data every sample gets a tiny
kernel weight, the ridge penalty wins and the local model flattens towards a
constant (``sample_around_instance=True`` avoids it).
"""

from __future__ import annotations

import functools
import sys

import numpy as np
from lime.lime_tabular import LimeTabularExplainer
from sklearn.linear_model import Ridge
from tqdm.auto import tqdm

from srnet.data import check_budget
from srnet.explain.base import LocalLinearExplainer, network_outputs

_PROGRESS_MIN_POINTS = 50  # below this many points a progress bar is noise


class LimeExplainer(LocalLinearExplainer):
    """LIME local explanations of a network, one ``lime`` explanation per point.

    Every point is explained with a fresh random state seeded from fit's
    ``random_state``, so a point's local model does not depend on which other
    points are explained with it, and ``predict(X)[i]`` is ``local_model(X[i])``
    evaluated at ``X[i]``.

    Parameters
    ----------
    num_samples : int, default 5000
        Neighbourhood samples per explained point (LIME's ``num_samples``).
    kernel_width : float or None, default None
        Width of LIME's exponential kernel in standardised units; None is
        LIME's ``0.75 * sqrt(n_features)``.
    alpha : float, default 1.0
        Ridge penalty of the local fit, LIME's own default.  It shrinks the
        coefficients slightly (relative to the kernel weights' total); use a
        tiny value to read a linear network's exact coefficients.
    sample_around_instance : bool, default False
        Sample around the explained point instead of around the training mean
        (LIME's default is the training mean).
    progress : bool or None, default None
        Show a tqdm bar while explaining points; None shows it for more than
        50 points when stderr is a terminal.

    Attributes
    ----------
    X_train_ : ndarray of shape (n_train, n_features)
        The data LIME takes its feature means and scales from.
    size_ : int
        ``(n_features + 1) * n_outputs_``: LIME keeps every feature.
    """

    name = "lime"

    def __init__(self, *, num_samples: int = 5000, kernel_width: float | None = None, alpha: float = 1.0,
                 sample_around_instance: bool = False, progress: bool | None = None):
        self.num_samples = num_samples
        self.kernel_width = kernel_width
        self.alpha = alpha
        self.sample_around_instance = sample_around_instance
        self.progress = progress

    def lime_explanation(self, x):
        """``lime``'s own Explanation of the network around one point ``x`` (n_features,).

        Its coefficients live in LIME's standardised feature space; use it for
        LIME's plots and lists, and :meth:`local_model` for raw units.
        """
        return self._explain_row(self._check_query(np.reshape(x, (1, -1)))[0])

    def _fit(self, predict, X_train, Y_train, X_valid, Y_valid, rng):
        check_budget("num_samples", self.num_samples, integer=True, minimum=2)
        check_budget("kernel_width", self.kernel_width, allow_none=True)  # 0 weighted every sample NaN
        if self.kernel_width is not None and not 1e-150 <= self.kernel_width <= 1e150:  # LIME's kernel divides by
            # its square: 0 for 1e-200 (NaN weights), an OverflowError beyond 1.3e154
            raise ValueError(f"kernel_width must be between 1e-150 and 1e150 (LIME's kernel divides by its square); "
                             f"got {self.kernel_width!r}")
        check_budget("alpha", self.alpha, positive=False)
        self.X_train_ = X_train
        self._network = functools.partial(network_outputs, predict, task=self.task_, n_outputs=self.n_outputs_)
        self._seed = int(rng.integers(2**31 - 1))
        self.size_ = (X_train.shape[1] + 1) * self.n_outputs_

    def _lime(self) -> LimeTabularExplainer:
        """A LIME explainer with a fresh random state; cheap (it only scales X_train_)."""
        # With num_features = n_features, LIME's "auto" feature selection keeps
        # every feature too, but only after O(d^2) extra ridge fits (forward
        # selection) or one more fit; "none" skips them.
        return LimeTabularExplainer(self.X_train_, mode=self.task_, discretize_continuous=False,
                                    feature_selection="none", kernel_width=self.kernel_width,
                                    sample_around_instance=self.sample_around_instance, random_state=self._seed)

    def _explain_row(self, x: np.ndarray):
        return self._lime().explain_instance(x, self._network, labels=range(self.n_outputs_), num_features=len(x),
                                              num_samples=self.num_samples,
                                              model_regressor=Ridge(alpha=self.alpha))

    def _local_models(self, X):
        show = self.progress
        if show is None:
            show = len(X) > _PROGRESS_MIN_POINTS and sys.stderr.isatty()
        scaler = self._lime().scaler
        # in regression, lime stores the fitted coefficients under label 1 and negates label 0
        labels = [1] if self.task_ == "regression" else range(self.n_outputs_)
        intercepts = np.empty((len(X), self.n_outputs_))
        coefs = np.empty((len(X), self.n_outputs_, X.shape[1]))
        for i, x in enumerate(tqdm(X, desc="LIME", unit="point", disable=not show)):
            explanation = self._explain_row(x)
            for output, label in enumerate(labels):
                scaled = np.zeros(X.shape[1])
                features, values = zip(*explanation.local_exp[label])
                scaled[list(features)] = values
                coefs[i, output] = scaled / scaler.scale_
                intercepts[i, output] = (explanation.intercept[label]
                                         - np.sum(scaled * scaler.mean_ / scaler.scale_))
        return intercepts, coefs
