"""The conditional (matched case-control) logistic likelihood, its gradient and Hessian.

A stratum ``s`` of ``n`` rows with linear scores ``eta_j = x_j^T beta``, of
which ``m`` are cases (the set ``D``), contributes the log-likelihood::

    exact:    l_s = sum_{j in D} eta_j - log B(m, n),
              B(m, n) = sum_{|S| = m} exp(sum_{j in S} eta_j)            (all m-subsets S)
    breslow:  l_s = sum_{j in D} eta_j - m log A,            A = sum_j exp(eta_j)
    efron:    l_s = sum_{j in D} eta_j - sum_{r=0}^{m-1} log(A - (r/m) sum_{j in D} exp(eta_j))

(Breslow and Efron are the Cox partial likelihoods with the m cases tied at
one event time and the controls still at risk; with one case all three are
the same). No intercept: it cancels. The objective solvers see is the mean::

    J(beta) = -(1/W) sum_s w_s l_s + (alpha/2) ||beta||^2,   W = sum_s w_s

with stratum weights ``w_s``.

Exact likelihood (Gail, Lubin & Rubinstein 1981): ``B(k, j) = B(k, j-1) +
exp(eta_j) B(k-1, j-1)`` over rows ``j`` and case counts ``k <= m``, O(n m) per
stratum. The gradient of ``log B`` is the mean ``mu`` of ``x_S = sum_{j in S}
x_j`` under ``P(S) ~ exp(eta_S)`` and the Hessian its covariance ``C``. The
distribution at ``(k, j)`` is the mixture, with weights ``q = B(k, j-1)/B(k, j)``
and ``r = 1 - q``, of the one at ``(k, j-1)`` and the one at ``(k-1, j-1)``
shifted by ``x_j``; so (all in log space, no overflow for any finite score)::

    log B(k, j) = logaddexp(log B(k, j-1), eta_j + log B(k-1, j-1))
    mu(k, j)    = q mu(k, j-1) + r (mu(k-1, j-1) + x_j)
    C(k, j)     = q C(k, j-1) + r C(k-1, j-1) + q r d d^T,   d = mu(k, j-1) - mu(k-1, j-1) - x_j

(O(n m p^2) per stratum). A long stratum runs this over runs of a few rows
at once and then merges the runs (two disjoint sets of rows combine by a
convolution over how many cases each holds, :func:`_merge`): the same
arithmetic in far fewer numpy calls. A stratum with more cases than controls is computed
through its controls: ``B_m(eta) = exp(sum_j eta_j) B_{n-m}(-eta)``. With one
case (or one control) the distribution is a softmax over the stratum, done in
closed form for all such strata at once.

Every evaluation is a map over blocks of whole strata (:class:`StrataBlock`)
and a sum, so the same kernel runs in memory, streamed and on Dask. Rows are
centred within their stratum when a block is built: ``l_s`` is unchanged by a
shift of every score of a stratum, and centring keeps ``C`` free of cancellation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from logitfit.blocks.protocol import sum_tuples

__all__ = [
    "METHODS",
    "ConditionalObjective",
    "InMemoryStrata",
    "StrataBlock",
    "StrataInfo",
    "group_strata",
    "strata_from_rows",
    "make_strata_block",
    "strata_kernel",
]

METHODS = ("exact", "efron", "breslow")

# Strata batched through the exact recursion together: at most this many floats in C.
_BATCH_FLOATS = 1 << 22
# Strata longer than this run the recursion over runs of _RUN_ROWS rows, then merge the runs.
_SHORT_STRATUM = 64
_RUN_ROWS = 16


class StrataBlock(NamedTuple):
    """Whole strata of rows: the unit of the map (in memory, one file chunk, one Dask partition).

    Attributes
    ----------
    index : int, the block's position in the pass.
    X : ndarray (n_rows, p), rows centred within their stratum, strata contiguous.
    case : ndarray of bool (n_rows,), True for a case.
    starts : ndarray of int (G + 1,), row offsets: stratum g is rows ``starts[g]:starts[g+1]``.
    weight : ndarray (G,), the stratum weights.
    """

    index: int
    X: np.ndarray
    case: np.ndarray
    starts: np.ndarray
    weight: np.ndarray


def _segment_sum(weights: np.ndarray | None, A: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``sum_{i in s} weights_i A_i`` for each stratum ``s`` (rows ``starts[s]:starts[s+1]``).

    One sparse (strata x rows) product: for a tall ``A`` several times faster
    than ``np.add.reduceat`` along axis 0, and with no (rows x p) temporary.
    """
    import scipy.sparse as sp  # on use: only a conditional fit gets here

    n = A.shape[0]
    data = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    S = sp.csr_matrix((data, np.arange(n), np.asarray(starts)), shape=(starts.size - 1, n))
    return np.asarray(S @ A)


def make_strata_block(X: Any, case: Any, starts: Any, weight: Any = None, index: int = 0) -> StrataBlock:
    """A :class:`StrataBlock` of contiguous strata; rows are centred within each stratum.

    Strata with no case or no control are kept (they contribute 0); callers
    drop and count them first. ``weight`` defaults to one per stratum.
    """
    X = np.asarray(X, dtype=np.float64)
    starts = np.asarray(starts, dtype=np.intp)
    G = starts.size - 1
    sizes = np.diff(starts)
    if G > 0 and X.shape[0]:
        means = _segment_sum(None, X, starts) / sizes[:, None]
        X = X - np.repeat(means, sizes, axis=0)
    else:
        X = X.copy()
    w = np.ones(G) if weight is None else np.asarray(weight, dtype=np.float64)
    return StrataBlock(index, np.ascontiguousarray(X), np.asarray(case, dtype=bool), starts, w)


class StrataInfo(NamedTuple):
    """Counts of a set of rows grouped into strata (what a fit reports and the blocks' sums need)."""

    n_rows: int  # rows of informative strata
    n_strata: int  # strata with at least one case and one control
    n_dropped: int  # strata without a case or without a control
    weight_sum: float  # sum of the informative strata's weights


def group_strata(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(order, starts, first)``: a stable row order that makes each stratum contiguous, the
    strata's row offsets in that order, and the position of each stratum's first row."""
    labels = np.asarray(labels)
    _, first, codes = np.unique(labels, return_index=True, return_inverse=True)
    # strata in order of first appearance, rows in their original order within a stratum
    rank = np.empty(first.size, dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    order = np.argsort(rank[codes.ravel()], kind="stable")
    counts = np.bincount(rank[codes.ravel()], minlength=first.size)
    return order, np.concatenate([[0], np.cumsum(counts)]), np.sort(first)


def strata_from_rows(X: Any, case: Any, labels: Any, weight: Any = None, *,
                     index: int = 0, grouped: bool = False) -> tuple[StrataBlock, StrataInfo]:
    """Group rows by stratum label into one :class:`StrataBlock`, dropping strata without a case
    or without a control; return the block and its :class:`StrataInfo`.

    ``weight`` gives one weight per row, which must be constant within each
    stratum (it weights the stratum's log-likelihood). ``grouped=True`` takes
    the rows as already contiguous by stratum (runs of equal labels).
    """
    X = np.asarray(X, dtype=np.float64)
    case = np.asarray(case, dtype=bool)
    labels = np.asarray(labels)
    if grouped:
        cut = np.flatnonzero(labels[1:] != labels[:-1]) + 1
        order, starts = np.arange(labels.size), np.concatenate([[0], cut, [labels.size]])
    else:
        order, starts, _ = group_strata(labels)
    if not np.array_equal(order, np.arange(order.size)):  # copy only rows that must move
        X, case = X[order], case[order]
    sizes = np.diff(starts)
    m = np.add.reduceat(case.astype(np.intp), starts[:-1]) if sizes.size else sizes
    if weight is None:
        w = np.ones(sizes.size)
    else:
        rw = np.asarray(weight, dtype=np.float64)[order]
        w = rw[starts[:-1]] if sizes.size else np.zeros(0)
        varies = np.flatnonzero(np.maximum.reduceat(rw, starts[:-1]) != np.minimum.reduceat(rw, starts[:-1])) \
            if sizes.size else np.zeros(0, dtype=np.intp)
        if varies.size:
            raise ValueError(f"sample weights must be constant within a stratum; stratum "
                             f"{labels[order][starts[varies[0]]]!r} has several (a weight applies to "
                             "the stratum's conditional likelihood as a whole)")
    keep = (m > 0) & (m < sizes) & (w > 0)
    dropped = int(np.count_nonzero((m == 0) | (m == sizes)))
    kept = sizes[keep]
    if not keep.all():
        rows = np.repeat(keep, sizes)
        X, case = X[rows], case[rows]
    block = make_strata_block(X, case, np.concatenate([[0], np.cumsum(kept)]), w[keep], index)
    return block, StrataInfo(int(kept.sum()), int(keep.sum()), dropped, float(w[keep].sum()))


def strata_kernel(block: StrataBlock, beta: np.ndarray, method: str = "exact", order: int = 2) -> tuple:
    """Weighted sums over the block's strata: ``(sum w_s l_s, sum w_s u_s, sum w_s C_s[, sum w_s^2 u_s u_s^T])``.

    ``u_s = d l_s / d beta`` is the stratum's score and ``C_s = -d^2 l_s / d beta^2``
    its information (positive semi-definite). ``order`` 0 returns the
    log-likelihood only, 1 adds the score, 2 the information, 3 also the outer
    products of the stratum scores (the meat of the cluster-robust covariance).
    """
    X, case, starts, w = block.X, block.case, block.starts, block.weight
    p = X.shape[1]
    parts: list[tuple] = []
    if starts.size >= 2:
        eta = X @ beta
        sizes = np.diff(starts)
        m = np.add.reduceat(case.astype(np.intp), starts[:-1])
        if method == "exact":
            flip = 2 * m > sizes
            mm = np.where(flip, sizes - m, m)
            one = mm == 1
            if one.any():
                parts.append(_softmax_strata(X, eta, case, starts, w, one, flip, order))
            for k in np.unique(mm[mm > 1]):
                for n in np.unique(sizes[mm == k]):
                    for f in (False, True):
                        sel = np.flatnonzero((mm == k) & (sizes == n) & (flip == f))
                        if sel.size:
                            parts.append(_exact_strata(X, eta, case, starts, w, sel, int(n), int(k), f, order))
        elif method in ("efron", "breslow"):
            parts.append(_tied_strata(X, eta, case, starts, w, m, method == "efron", order))
        else:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    ll = float(sum(part[0] for part in parts))
    if order == 0:
        return (ll,)
    U = np.vstack([part[1] for part in parts]) if parts else np.zeros((0, p))
    out: tuple = (ll, U.sum(axis=0))
    if order >= 2:
        out += (sum((part[2] for part in parts), np.zeros((p, p))),)
    if order >= 3:
        out += (U.T @ U,)
    return out


def _softmax_strata(X, eta, case, starts, w, sel, flip, order):
    """Strata with one distinguished row (the case, or the control where flipped): a softmax."""
    sizes = np.diff(starts)
    if sel.all():  # the usual 1:M matched data: no copy of the rows
        Xs, es, mark, ns, s_starts = X, eta, case, sizes, starts[:-1]
        sign = np.where(np.repeat(flip, sizes), -1.0, 1.0) if flip.any() else None
    else:
        rows = np.flatnonzero(np.repeat(sel, sizes))
        ns = sizes[sel]
        s_starts = np.concatenate([[0], np.cumsum(ns)])[:-1]
        Xs, es, mark = X[rows], eta[rows], case[rows]
        sign = np.where(np.repeat(flip, sizes), -1.0, 1.0)[rows] if flip[sel].any() else None
    if sign is not None:  # a flipped stratum's distinguished row is its control, with scores -eta
        es = sign * es
        mark = mark != (sign < 0)
    ws = w[sel]
    top = np.maximum.reduceat(es, s_starts)
    e = np.exp(es - np.repeat(top, ns))
    tot = np.add.reduceat(e, s_starts)
    hit = np.flatnonzero(mark)  # one per stratum, in stratum order
    ll = float(ws @ (es[hit] - top - np.log(tot)))
    p = Xs.shape[1]
    if order == 0:
        return ll, None, None
    prob = e / np.repeat(tot, ns)
    mu = _segment_sum(prob, Xs, np.append(s_starts, Xs.shape[0]))
    sw = ws if sign is None else ws * sign[s_starts]
    U = sw[:, None] * (Xs[hit] - mu)
    H = np.zeros((p, p))
    if order >= 2:
        rw = prob * np.repeat(ws, ns)
        H = (Xs * rw[:, None]).T @ Xs - (mu * ws[:, None]).T @ mu
    return ll, U, H


def _exact_strata(X, eta, case, starts, w, sel, n, m, flip, order):
    """Strata ``sel``, each of ``n`` rows and ``m`` distinguished rows, through the recursion."""
    p = X.shape[1]
    ll, Us, H = 0.0, [], np.zeros((p, p))
    width = (m + 1) * (p * p if order >= 2 else p + 1)
    if n > _SHORT_STRATUM:  # a merge holds (m + 1) x (_RUN_ROWS + 1) states
        width *= min(_RUN_ROWS, m) + 1
    per = max(1, _BATCH_FLOATS // width)
    sign = -1.0 if flip else 1.0
    for lo in range(0, sel.size, per):
        part = sel[lo:lo + per]
        idx = starts[part][:, None] + np.arange(n)[None, :]
        Xg, E = X[idx], sign * eta[idx]
        D = case[idx] != flip
        logB, mu, C = _recursion(E, Xg, m, order)
        ws = w[part]
        ll += float(ws @ (np.where(D, E, 0.0).sum(axis=1) - logB))
        if order >= 1:
            xd = np.where(D[:, :, None], Xg, 0.0).sum(axis=1)
            Us.append(sign * ws[:, None] * (xd - mu))
        if order >= 2:
            H += np.tensordot(ws, C, axes=1)
    return ll, (np.vstack(Us) if Us else None), H


def _recursion(E: np.ndarray, Xg: np.ndarray, m: int, order: int) -> tuple:
    """``log B(m, n)``, ``mu(m, n)`` and ``C(m, n)`` for G strata at once (see the module docstring).

    E : (G, n) scores; Xg : (G, n, p) rows. Returns arrays of shape (G,), (G, p), (G, p, p).
    ``C`` is kept packed (its upper triangle, p (p + 1) / 2 entries). A long
    stratum is cut into runs of ``_RUN_ROWS`` rows: the recursion runs over all
    runs at once, then the runs are merged one after another (:func:`_merge`),
    so n sequential steps become about n / _RUN_ROWS (same arithmetic, far
    fewer numpy calls).
    """
    G, n, p = Xg.shape
    iu, ju = np.triu_indices(p)
    if n <= _SHORT_STRATUM:
        b, mu, C = _sequential(E, Xg, m, order, iu, ju)
    else:
        L = _RUN_ROWS
        nb = n // L
        runs = _sequential(E[:, :nb * L].reshape(G * nb, L), Xg[:, :nb * L].reshape(G * nb, L, p),
                           min(L, m), order, iu, ju)
        runs = tuple(None if a is None else a.reshape(G, nb, *a.shape[1:]) for a in runs)
        b, mu, C = (None if a is None else a[:, 0] for a in runs)
        for i in range(1, nb):
            b, mu, C = _merge((b, mu, C), tuple(None if a is None else a[:, i] for a in runs), m, iu, ju)
        if nb * L < n:
            rest = _sequential(E[:, nb * L:], Xg[:, nb * L:], min(n - nb * L, m), order, iu, ju)
            b, mu, C = _merge((b, mu, C), rest, m, iu, ju)
    if C is None:
        return b[:, m], None if mu is None else mu[:, m], None
    full = np.zeros((G, p, p))
    full[:, iu, ju] = C[:, m]
    full[:, ju, iu] = C[:, m]
    return b[:, m], mu[:, m], full


def _sequential(E: np.ndarray, Xg: np.ndarray, m: int, order: int, iu: np.ndarray, ju: np.ndarray) -> tuple:
    """The recursion row by row: ``log B(k, n)``, ``mu(k, n)`` and packed ``C(k, n)`` for every k <= m."""
    G, n, p = Xg.shape
    b = np.full((G, m + 1), -np.inf)
    b[:, 0] = 0.0
    mu = np.zeros((G, m + 1, p)) if order >= 1 else None
    C = np.zeros((G, m + 1, iu.size)) if order >= 2 else None
    with np.errstate(invalid="ignore", over="ignore"):
        for j in range(n):
            hi = min(j + 1, m)
            ba, bb = b[:, 1:hi + 1], b[:, :hi] + E[:, j, None]
            bn = np.logaddexp(ba, bb)
            q, r = np.exp(ba - bn)[..., None], np.exp(bb - bn)[..., None]
            if order >= 1:
                mua, mub = mu[:, 1:hi + 1], mu[:, :hi] + Xg[:, j, None, :]
                if order >= 2:
                    d = mua - mub
                    new = r * C[:, :hi]  # read before the in-place update below overwrites it
                    Ca = C[:, 1:hi + 1]
                    Ca *= q
                    Ca += new
                    dd = d[..., iu] * d[..., ju]
                    dd *= q * r
                    Ca += dd
                new = r * mub
                mua *= q
                mua += new
            b[:, 1:hi + 1] = bn
    return b, mu, C


def _merge(left: tuple, right: tuple, m: int, iu: np.ndarray, ju: np.ndarray) -> tuple:
    """The states (log B, mu, packed C for every k) of two disjoint sets of rows, merged, k <= m.

    A k-subset of the union is a (k-a)-subset of the left set and an a-subset
    of the right one, so ``B(k) = sum_a B_l(k-a) B_r(a)`` and the covariate sum
    is the mixture over ``a``, with weights ``pi_a ~ B_l(k-a) B_r(a)``, of
    independent sums: ``mu = sum_a pi_a mu_a`` with ``mu_a = mu_l(k-a) + mu_r(a)``,
    ``C = sum_a pi_a (C_l(k-a) + C_r(a) + (mu_a - mu)(mu_a - mu)^T)``; all convex
    combinations, computed in log space as the row-by-row recursion is.
    """
    bl, mul, Cl = left
    br, mur, Cr = right
    k = np.arange(m + 1)[:, None] - np.arange(br.shape[1])[None, :]  # k - a
    valid = (k >= 0) & (k < bl.shape[1])
    kc = np.where(valid, k, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        lw = np.where(valid, bl[:, kc] + br[:, None, :], -np.inf)  # (G, m + 1, a)
        top = lw.max(axis=2)
        top = np.where(np.isfinite(top), top, 0.0)
        wts = np.exp(lw - top[..., None])
        tot = wts.sum(axis=2)
        b = np.log(tot) + top  # -inf where k exceeds the rows of both sets
        pi = np.divide(wts, tot[..., None], out=np.zeros_like(wts), where=tot[..., None] > 0)[:, :, None, :]
    if mul is None:
        return b, None, None
    comp = mul[:, kc] + mur[:, None, :, :]  # (G, m + 1, a, p)
    mu = (pi @ comp)[:, :, 0]
    if Cl is None:
        return b, mu, None
    dlt = comp - mu[:, :, None, :]
    inner = Cl[:, kc]  # a gathered copy: safe to add to in place
    inner += dlt[..., iu] * dlt[..., ju]
    return b, mu, (pi @ inner)[:, :, 0] + pi[:, :, 0, :] @ Cr  # sum_a pi_a C_r(a) needs no gather


def _tied_strata(X, eta, case, starts, w, m, efron, order):
    """Breslow or Efron over every stratum at once (sums per stratum)."""
    p = X.shape[1]
    sizes = np.diff(starts)
    s0 = starts[:-1]
    top = np.maximum.reduceat(eta, s0)
    e = np.exp(eta - np.repeat(top, sizes))
    A = np.add.reduceat(e, s0)
    ed = np.where(case, e, 0.0)
    Dw = np.add.reduceat(ed, s0)
    sum_d = np.add.reduceat(np.where(case, eta, 0.0), s0)
    # the r-th term of each stratum: one entry per case (stratum of case, r = 0..m-1)
    strat = np.repeat(np.arange(sizes.size), m)
    r = np.arange(strat.size) - np.repeat(np.cumsum(m) - m, m)
    frac = r / m[strat] if efron else np.zeros(strat.size)
    den = A[strat] - frac * Dw[strat]
    ll_s = sum_d - m * top - np.bincount(strat, np.log(den), minlength=sizes.size)
    ll = float(w @ ll_s)
    if order == 0:
        return ll, None, None
    A1, D1 = _segment_sum(e, X, starts), _segment_sum(ed, X, starts)
    xd = _segment_sum(case.astype(np.float64), X, starts)
    num = A1[strat] - frac[:, None] * D1[strat]
    mean = num / den[:, None]
    wr = w[strat]
    U = w[:, None] * xd
    np.subtract.at(U, strat, wr[:, None] * mean)  # a stratum's terms r = 0..m-1
    H = np.zeros((p, p))
    if order >= 2:
        c_all = np.bincount(strat, wr / den, minlength=sizes.size)
        c_case = np.bincount(strat, wr * frac / den, minlength=sizes.size)
        rw = e * np.repeat(c_all, sizes) - ed * np.repeat(c_case, sizes)
        H = (X * rw[:, None]).T @ X - (mean * wr[:, None]).T @ mean
    return ll, U, H


class InMemoryStrata:
    """Strata held in this process as a list of :class:`StrataBlock` (a thread-free map).

    Parameters
    ----------
    blocks : sequence of StrataBlock
    """

    def __init__(self, blocks: Sequence[StrataBlock]) -> None:
        self.blocks = list(blocks)
        self.n_features = self.blocks[0].X.shape[1] if self.blocks else 0

    def map_reduce(self, kernel: Callable[..., tuple], *args: Any) -> tuple:
        """``sum_b kernel(block_b, *args)`` in block order."""
        return sum_tuples([kernel(b, *args) for b in self.blocks])


class ConditionalObjective:
    """``J(beta) = -(1/W) sum_s w_s l_s + (alpha/2) ||beta||^2`` over a source of strata blocks.

    Implements :class:`logitfit.model.objective.Objective`: value, grad,
    value_and_grad, value_grad_hess, hessp and hess, each one pass (a
    ``map_reduce`` of :func:`strata_kernel`) over the strata.

    Parameters
    ----------
    source : object with ``map_reduce(kernel, *args) -> tuple`` over StrataBlocks
        :class:`InMemoryStrata`, a streamed source or Dask blocks.
    n_features : int
    weight_sum : float, ``W`` (the number of informative strata with unit weights).
    method : {"exact", "efron", "breslow"}
    alpha : float, L2 strength.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.model.conditional import ConditionalObjective, InMemoryStrata, make_strata_block
    >>> X = np.array([[1.0], [0.0], [2.0], [0.5]])
    >>> block = make_strata_block(X, [1, 0, 1, 0], starts=[0, 2, 4])
    >>> objective = ConditionalObjective(InMemoryStrata([block]), 1, weight_sum=2.0)
    >>> round(objective.value(np.zeros(1)), 6)   # log 2 per 1:1 pair at beta = 0
    0.693147
    >>> objective.grad(np.zeros(1))
    array([-0.625])
    """

    multinomial = False

    def __init__(self, source: Any, n_features: int, *, weight_sum: float, method: str = "exact",
                 alpha: float = 0.0) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if not weight_sum > 0:
            raise ValueError("no stratum has both a case and a control: nothing to fit")
        self.source = source
        self.n_features = self.n_params = int(n_features)
        self.weight_sum = float(weight_sum)
        self.method = method
        self.alpha = float(alpha)
        self.l2 = np.full(self.n_params, self.alpha)
        self._cache: dict[bytes, tuple] = {}

    def loglik(self, beta: np.ndarray, order: int = 0) -> tuple:
        """Raw sums of :func:`strata_kernel` at ``beta`` (no scaling, no penalty), ``order`` 0 to 3.

        A Hessian pass also keeps the score outer products (order 3: they cost
        nothing next to it) and is remembered for the last few ``beta``, so the
        inference after a fit (at the estimate and at 0) takes no further pass.
        """
        beta = np.asarray(beta, dtype=np.float64)
        key = beta.tobytes()
        if key in self._cache:
            return self._cache[key][: order + 1 if order < 3 else 4]
        out = self.source.map_reduce(strata_kernel, beta, self.method, 3 if order >= 2 else order)
        if order >= 2:
            if len(self._cache) >= 4:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = out
        return out[: order + 1]

    def _scaled(self, x: np.ndarray, order: int) -> tuple:
        out = self.loglik(x, order)
        W = self.weight_sum
        f = -float(out[0]) / W + 0.5 * self.alpha * float(x @ x)
        if order == 0:
            return (f,)
        g = -np.asarray(out[1]) / W + self.alpha * x
        if order == 1:
            return f, g
        H = np.asarray(out[2]) / W
        H = 0.5 * (H + H.T)
        H[np.diag_indices_from(H)] += self.alpha
        return f, g, H

    def value(self, x: np.ndarray) -> float:
        return self._scaled(x, 0)[0]

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        return self._scaled(x, 1)

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self._scaled(x, 1)[1]

    def value_grad_hess(self, x: np.ndarray, *, subsample: bool = False) -> tuple[float, np.ndarray, np.ndarray]:
        """Value, gradient and exact Hessian in one pass (``subsample`` is ignored: always exact)."""
        del subsample
        return self._scaled(x, 2)

    def hess(self, x: np.ndarray) -> np.ndarray:
        return self._scaled(x, 2)[2]

    def hessp(self, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """``v -> H(x) v`` from the Hessian formed once (p is small next to the rows)."""
        H = self.hess(x)
        return lambda v: H @ v

    def null_space(self) -> None:
        return None
