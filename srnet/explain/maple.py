"""MAPLE: local linear models weighted by a supporting forest.

Written from the description in Plumb, Molitor and Talwalkar, "Model Agnostic
Supervised Local Explanations", NeurIPS 2018:

1. a *supporting forest* is fitted to the network's outputs on the training
   points;
2. around a query point ``x`` each training point ``x_i`` gets the weight
   ``w_i = 1/T sum_t 1[leaf_t(x_i) = leaf_t(x)] / |leaf_t(x)|``, with the leaf
   size counted over the training points: the forest decides which training
   points behave like ``x``;
3. the local model is a weighted ridge regression, with intercept, on the
   features ranked best by DStump (each tree's root split credits its feature
   with its impurity decrease), keeping the top ``k`` for the ``k`` with the
   lowest error of MAPLE's own predictions on validation points.

All query points are handled at once: their leaves come from ``forest.apply``,
their weights from one sparse product, and the ridge fits from the weighted
moments of the training data, solved as a batch.  For classification one
forest is fitted to the vector of class probabilities (random forests are
multi-output) and each class gets its own local model on the shared weights.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

from srnet.data import check_budget
from srnet.explain.base import LocalLinearExplainer

SUPPORTING_FORESTS = ("random_forest", "gradient_boosting")

_CHUNK_VALUES = 2**24  # values of the (chunk, k, k) moment arrays of a batch of query points (128 MiB)


def _chunk(n_features: int) -> int:
    """Query points per batch: at most 1024, fewer as the moment arrays grow with the features' square (1024
    points of 1000 features were 8 GB a copy)."""
    return max(1, min(1024, _CHUNK_VALUES // max(1, n_features) ** 2))


class MapleExplainer(LocalLinearExplainer):
    """MAPLE local explanations of a network (Plumb et al., NeurIPS 2018).

    Parameters
    ----------
    forest : {"random_forest", "gradient_boosting"}, default "random_forest"
        The supporting ensemble.  Gradient boosting is single-output, so for
        classification one is fitted per class and the weights pool all trees.
    n_estimators : int, default 200
        Trees in the supporting ensemble.
    min_samples_leaf : int, default 10
        Smallest leaf; larger leaves give smoother, wider neighbourhoods.
    max_features : float, default 0.5
        Fraction of the features each split considers.
    alpha : float, default 1e-8
        Ridge penalty on the local slopes, in units of features scaled to unit
        variance over X_train and weights summing to one.  It only keeps the
        local fits well posed (a feature constant over a neighbourhood gets
        slope 0); larger values bias the slopes towards 0.
    valid_fraction : float, default 0.2
        Share of X_train held out for feature selection when fit gets no X_valid.
    n_jobs : int or None, default None
        Parallel jobs of the random forest.

    Attributes
    ----------
    supporting_forests_ : list of fitted scikit-learn ensembles
        One random forest, or one gradient boosting model per output.
    X_train_ : ndarray of shape (n_train, n_features)
        The points the forest and the local models learned from (X_train less
        the held-out validation points); :meth:`explain`'s weights follow them.
    feature_ranking_ : ndarray of shape (n_features,)
        Feature indices, most important first (DStump, ties broken by the
        forest's impurity importances).
    selected_features_ : ndarray of shape (n_selected,)
        The leading ``n_selected`` entries of ``feature_ranking_``.
    validation_mse_ : ndarray of shape (n_features,)
        MSE on the validation points of MAPLE with the top 1, 2, ... features.
    size_ : int
        ``(n_selected + 1) * n_outputs_``: the nonzero local coefficients.
    """

    name = "maple"

    def __init__(self, *, forest: str = "random_forest", n_estimators: int = 200, min_samples_leaf: int = 10,
                 max_features: float = 0.5, alpha: float = 1e-8, valid_fraction: float = 0.2,
                 n_jobs: int | None = None):
        self.forest = forest
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.alpha = alpha
        self.valid_fraction = valid_fraction
        self.n_jobs = n_jobs

    def explain(self, x) -> dict:
        """MAPLE's explanation of the network around one point.

        Parameters
        ----------
        x : array-like of shape (n_features,)

        Returns
        -------
        dict
            ``weights``: ndarray (n_train,), the local training distribution
            over ``X_train_`` (sums to 1).  ``coefs``: intercept first, then one
            coefficient per original feature (0 for unselected ones), shape
            (n_features + 1,) or (n_classes, n_features + 1), so that
            ``coefs @ [1, *x]`` is the prediction.  ``prediction``: float or
            ndarray (n_classes,).
        """
        X = self._check_query(np.reshape(x, (1, -1)))
        intercepts, coefs = self._local_models(X)
        coefs = np.concatenate([intercepts[..., None], coefs], axis=-1)[0]
        prediction = coefs[:, 0] + coefs[:, 1:] @ X[0]
        if self.task_ == "regression":
            coefs, prediction = coefs[0], float(prediction[0])
        return {"weights": self._local_weights(X).toarray()[0], "coefs": coefs, "prediction": prediction}

    def _fit(self, predict, X_train, Y_train, X_valid, Y_valid, rng):
        if self.forest not in SUPPORTING_FORESTS:
            raise ValueError(f"unknown forest {self.forest!r}; expected one of {SUPPORTING_FORESTS}")
        check_budget("alpha", self.alpha, positive=False)  # NaN trained, then predicted NaN everywhere
        check_budget("valid_fraction", self.valid_fraction)  # "0.2" or None: a TypeError at the comparison
        if not 0 < self.valid_fraction < 1:
            raise ValueError(f"valid_fraction must be in (0, 1); got {self.valid_fraction}")
        if X_valid is None:
            X_train, Y_train, X_valid, Y_valid = self._hold_out(X_train, Y_train, rng)
        self.supporting_forests_ = self._fit_forests(X_train, Y_train, int(rng.integers(2**31 - 1)))
        trees = [tree for forest in self.supporting_forests_ for tree in np.ravel(forest.estimators_)]
        node_counts = np.array([tree.tree_.node_count for tree in trees])
        self._leaf_offsets = np.cumsum(node_counts) - node_counts
        self._train_leaf_shares = _leaf_shares(self._leaves(X_train), node_counts.sum())
        self.X_train_ = X_train
        self._Y_train = Y_train
        self._mean = X_train.mean(axis=0)
        variances = X_train.var(axis=0)
        self._penalty = self.alpha * np.where(variances > 0, variances, 1.0)
        root_split = _root_split_importances(trees, X_train.shape[1])
        impurity = np.mean([forest.feature_importances_ for forest in self.supporting_forests_], axis=0)
        self.feature_ranking_ = np.lexsort((-impurity, -root_split))  # by root_split, ties by impurity
        self.validation_mse_ = self._validation_mse(X_valid, Y_valid)
        self.selected_features_ = self.feature_ranking_[:int(np.argmin(self.validation_mse_)) + 1]
        self.size_ = (len(self.selected_features_) + 1) * self.n_outputs_

    def _hold_out(self, X, Y, rng):
        """Split X_train into training and validation points."""
        n_valid = max(1, round(self.valid_fraction * len(X)))
        if n_valid >= len(X):
            raise ValueError(f"MAPLE holds out valid_fraction={self.valid_fraction} of X_train for feature "
                             f"selection: {n_valid} of its {len(X)} rows, leaving none to learn from (lower "
                             f"valid_fraction, pass more rows, or pass X_valid)")
        order = rng.permutation(len(X))
        train, valid = order[n_valid:], order[:n_valid]
        return X[train], Y[train], X[valid], Y[valid]

    def _fit_forests(self, X, Y, seed):
        if self.forest == "random_forest":
            forest = RandomForestRegressor(n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
                                           max_features=self.max_features, n_jobs=self.n_jobs, random_state=seed)
            return [forest.fit(X, Y if Y.shape[1] > 1 else Y[:, 0])]
        # fully grown, as MAPLE's reference code grows them (scikit-learn's max_depth=3: 8 leaves a tree, each
        # point's neighbourhood half the training set)
        return [GradientBoostingRegressor(n_estimators=self.n_estimators, min_samples_leaf=self.min_samples_leaf,
                                          max_features=self.max_features, max_depth=None,
                                          random_state=seed).fit(X, y)
                for y in Y.T]

    def _leaves(self, X) -> np.ndarray:
        """(n, n_trees) leaf of each point in each tree, numbered across all trees."""
        # gradient boosting numbers its leaves in floats
        leaves = np.hstack([forest.apply(X).reshape(len(X), -1) for forest in self.supporting_forests_])
        return leaves.astype(np.intp) + self._leaf_offsets

    def _local_weights(self, X) -> sparse.csr_matrix:
        """(n, n_train) local training distribution around each point of X; rows sum to 1."""
        leaves = self._leaves(X)
        n, n_trees = leaves.shape
        membership = sparse.csr_matrix((np.full(leaves.size, 1.0 / n_trees), leaves.ravel(),
                                        np.arange(0, leaves.size + 1, n_trees)),
                                       shape=(n, self._train_leaf_shares.shape[0]))
        return (membership @ self._train_leaf_shares).tocsr()

    def _local_moments(self, X, features):
        """Moments of the local training distribution around each point of X.

        With ``z`` the training points' ``features`` centred on their mean over
        ``X_train_`` (centring keeps the covariances free of cancellation),
        returns the weighted means of ``z`` (n, k) and of the outputs
        (n, n_outputs), and the weighted covariances z-z (n, k, k) and
        z-outputs (n, k, n_outputs).  The ridge slopes solve
        ``(cov_zz + penalty) slopes = cov_zy``, and the local model at ``x``
        is ``mean_y + slopes . (z(x) - mean_z)``.
        """
        W = self._local_weights(X)
        Z = (self.X_train_ - self._mean)[:, features]
        Y = self._Y_train
        mean_z, mean_y = W @ Z, W @ Y
        cov_zz = np.empty((len(X), len(features), len(features)))
        cov_zy = np.empty((len(X), len(features), Y.shape[1]))
        for i in range(len(X)):  # point by point over its neighbours, dense products: the sparse product per
            # feature ran at a twelfth of the speed (40 of 45 s of 2000 predictions at 300 features)
            rows = slice(W.indptr[i], W.indptr[i + 1])
            near, weights = W.indices[rows], W.data[rows]
            local = Z[near]  # (a copy: gathered once)
            weighted = local.T * weights
            cov_zz[i] = weighted @ local
            cov_zy[i] = weighted @ Y[near]
        cov_zz -= mean_z[:, :, None] * mean_z[:, None, :]
        cov_zy -= mean_z[:, :, None] * mean_y[:, None, :]
        return mean_z, mean_y, cov_zz, cov_zy

    def _validation_mse(self, X_valid, Y_valid) -> np.ndarray:
        """MSE of MAPLE's predictions on validation points with the top k features, k = 1 .. n_features."""
        ranking = self.feature_ranking_
        penalty = self._penalty[ranking]
        squared_errors = np.zeros(len(ranking))
        chunk = _chunk(len(ranking))
        for start in range(0, len(X_valid), chunk):
            X, Y = X_valid[start:start + chunk], Y_valid[start:start + chunk]
            mean_z, mean_y, cov_zz, cov_zy = self._local_moments(X, ranking)
            offsets = (X - self._mean)[:, ranking] - mean_z
            predictions = mean_y[:, None, :] + _nested_ridge_terms(cov_zz + np.diag(penalty), cov_zy, offsets)
            squared_errors += np.sum((predictions - Y[:, None, :]) ** 2, axis=(0, 2))
        return squared_errors / Y_valid.size

    def _local_models(self, X):
        features = self.selected_features_
        intercepts = np.empty((len(X), self.n_outputs_))
        coefs = np.zeros((len(X), self.n_outputs_, X.shape[1]))
        chunk = _chunk(len(features))
        for start in range(0, len(X), chunk):
            rows = slice(start, start + chunk)
            mean_z, mean_y, cov_zz, cov_zy = self._local_moments(X[rows], features)
            slopes = _solve(cov_zz + np.diag(self._penalty[features]), cov_zy)
            intercepts[rows] = mean_y - np.einsum("nk,nko->no", mean_z + self._mean[features], slopes)
            coefs[rows, :, features] = slopes.transpose(0, 2, 1)
        return intercepts, coefs


def _nested_ridge_terms(A, B, offsets):
    """``offsets[:, :k] . solve(A[:, :k, :k], B[:, :k])`` for every k = 1 .. d at once, shape (n, d, n_outputs).

    With ``A = L L^T`` (Cholesky), the leading k x k block of ``A`` is ``L_k L_k^T`` and the leading k entries of
    ``L^{-1} v`` are ``L_k^{-1} v_k``; so ``o_k . A_k^{-1} b_k = (L^{-1} o)_k . (L^{-1} b)_k``, a prefix sum: one
    factorisation per point for all k (O(d^3)) where a solve per k cost O(d^4); the feature selection of a table
    of 100 inputs took 25 times as long.  A system Cholesky cannot factor (alpha=0 with a constant or collinear
    feature) is solved k by k as :func:`_solve` solves it."""
    try:
        factor = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        d = A.shape[-1]
        return np.stack([np.einsum("nk,nko->no", offsets[:, :k], _solve(A[:, :k, :k], B[:, :k]))
                         for k in range(1, d + 1)], axis=1)
    # (solve with the triangular factor; numpy has no batched triangular solve, and a general one is O(d^3) too)
    whitened_b = np.linalg.solve(factor, B)
    whitened_o = np.linalg.solve(factor, offsets[..., None])
    return np.cumsum(whitened_o * whitened_b, axis=1)


def _solve(A, B):
    """Batched ``A x = B``; where a system is singular (alpha=0 with a constant
    or collinear feature), the least-squares solution of least norm instead."""
    try:
        return np.linalg.solve(A, B)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(A) @ B


def _root_split_importances(trees, n_features: int) -> np.ndarray:
    """DStump importances: each tree's root split credits its feature with its impurity decrease."""
    importances = np.zeros(n_features)
    for tree in trees:
        t = tree.tree_
        left, right = t.children_left[0], t.children_right[0]
        if left < 0:  # a single-leaf tree splits nothing
            continue
        weight, impurity = t.weighted_n_node_samples, t.impurity
        importances[t.feature[0]] += (weight[0] * impurity[0] - weight[left] * impurity[left]
                                      - weight[right] * impurity[right])
    return importances


def _leaf_shares(leaves: np.ndarray, n_nodes: int) -> sparse.csr_matrix:
    """(n_nodes, n_train) matrix: 1/|leaf| where a training point lies in a leaf, 0 elsewhere.

    ``leaves`` (n_train, n_trees) holds each training point's leaf, numbered
    across all trees; a leaf's size is its number of training points.
    """
    n_train, n_trees = leaves.shape
    leaves = leaves.ravel()
    sizes = np.bincount(leaves, minlength=n_nodes)
    return sparse.csr_matrix((1.0 / sizes[leaves], (leaves, np.repeat(np.arange(n_train), n_trees))),
                             shape=(n_nodes, n_train))
