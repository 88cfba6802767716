"""Goodness of fit of a binary model: Hosmer-Lemeshow, le Cessie-van Houwelingen, covariate patterns.

With fitted probabilities ``p_i``, labels ``y_i`` in {0, 1} and sample weights
``s_i`` (frequency weights here: a row of weight ``s`` counts as ``s``
identical rows, so integer weights give the test of the expanded data):

**Hosmer-Lemeshow** (Hosmer & Lemeshow 1980; "deciles of risk"). Rows are
sorted by ``p``; with ``W`` the total weight, cut point ``c_k`` (k = 1..g-1) is
the ``k/g`` quantile of ``p`` by the inverse of the weighted empirical CDF: the
smallest ``p`` at which the cumulative weight reaches ``k W / g``, averaged
with the next ``p`` when the cumulative weight equals ``k W / g`` exactly
(Stata's ``xtile``/``estat gof, group(g)``; R's quantile type 2). Group k holds
``c_{k-1} < p <= c_k``, so **tied probabilities always share a group**; equal
cut points merge groups, and the degrees of freedom are ``G - 2`` for the ``G``
non-empty groups formed (R's ``ResourceSelection::hoslem.test`` uses type-7
quantiles and keeps ``g - 2``)::

    HL = sum_k (O_k - E_k)^2 / E_k + (N_k - O_k - (N_k - E_k))^2 / (N_k - E_k),   ~ chi2(G - 2)
    O_k = sum_{i in k} s_i y_i,  E_k = sum_{i in k} s_i p_i,  N_k = sum_{i in k} s_i

**le Cessie-van Houwelingen-Copas-Hosmer** unweighted sum of squares (Hosmer,
Hosmer, le Cessie & Lemeshow 1997, Stat. Med. 16:965; R ``rms::residuals.lrm(type="gof")``)::

    S = sum s_i (y_i - p_i)^2,   E[S] = sum s_i p_i (1 - p_i)
    Var = RSS of the weighted least-squares regression of d_i = 1 - 2 p_i on x~_i with weights s_i p_i (1 - p_i)
        = sum w_i d_i^2 - c^T A^{-1} c,   c = X~^T diag(w) d,  A = X~^T diag(w) X~
    z = (S - E[S]) / sqrt(Var),   p = 2 Phi(-|z|)

**Covariate patterns** (grouped data: rows sharing ``x~`` and offset). With
``J`` patterns, ``m_j`` their weight, ``y_j`` the weight of their positive rows
and ``q`` parameters::

    Pearson  X2 = sum_j (y_j - m_j p_j)^2 / (m_j p_j (1 - p_j))                          ~ chi2(J - q)
    Deviance D  = 2 sum_j [y_j log(y_j / (m_j p_j)) + (m_j - y_j) log((m_j - y_j) / (m_j (1 - p_j)))]
                                                                                          ~ chi2(J - q)

(0 log 0 = 0). The chi-square reference needs many rows per pattern; a note
says so when the average pattern holds fewer than :data:`MIN_PATTERN_SIZE`.

All statistics are sums over rows except Hosmer-Lemeshow's quantiles, so
:class:`GofAccumulator` adds blocks of rows (in memory, streamed or Dask
partitions) and keeps ``p``, ``y`` and ``s`` of the rows (24 bytes a row) for the quantiles,
and the covariate patterns up to :data:`MAX_PATTERNS`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from logitfit._numerics import issparse, log_sigmoid, sigmoid
from logitfit.inference.distributions import chi2_sf, normal_two_sided_p

__all__ = ["GofAccumulator", "GofTest", "GoodnessOfFit", "MAX_PATTERNS", "MIN_PATTERN_SIZE",
           "covariate_pattern_tests", "hosmer_lemeshow", "le_cessie_van_houwelingen"]

#: Most covariate patterns tracked; beyond it the data are not grouped and the pattern tests are skipped.
MAX_PATTERNS = 100_000
#: Average weight per covariate pattern below which the pattern tests carry a warning note.
MIN_PATTERN_SIZE = 5.0


@dataclass(frozen=True)
class GofTest:
    """One test: its statistic, reference distribution (``df`` for chi2, None for a z test) and p-value.

    Examples
    --------
    >>> from logitfit.inference.goodness_of_fit import GofTest
    >>> GofTest("Hosmer-Lemeshow", 1.63, 3, 0.6524).reference
    'chi2(3)'
    """

    name: str
    statistic: float
    df: float | None
    p_value: float
    note: str = ""
    detail: dict = field(default_factory=dict)

    @property
    def reference(self) -> str:
        """``chi2(df)`` or ``N(0,1)`` (the z statistic of the sum-of-squares test)."""
        return "N(0,1)" if self.df is None else f"chi2({_num(self.df)})"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"


def hosmer_lemeshow(p: Any, y: Any, sample_weight: Any = None, groups: int = 10) -> GofTest:
    """Hosmer-Lemeshow test with ``groups`` quantile groups of ``p`` (module docstring rule).

    ``detail["table"]`` lists each group's ``lower``/``upper`` probability, ``weight``
    (rows), ``observed`` and ``expected`` positives.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.inference.goodness_of_fit import hosmer_lemeshow
    >>> p = np.linspace(0.05, 0.95, 40)
    >>> y = (np.arange(40) % 3 == 0).astype(float)
    >>> test = hosmer_lemeshow(p, y, groups=4)
    >>> test.df, [g["weight"] for g in test.detail["table"]]
    (2, [10.0, 10.0, 10.0, 10.0])
    """
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sw = np.ones_like(p) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if int(groups) != groups or groups < 3:
        raise ValueError(f"groups must be an integer of at least 3 (df = groups - 2), got {groups!r}")
    keep = sw > 0
    p, y, sw = p[keep], y[keep], sw[keep]
    if p.size == 0:
        raise ValueError("Hosmer-Lemeshow needs rows with positive weight")
    order = np.argsort(p, kind="stable")
    ps, ws = p[order], sw[order]
    cum = np.cumsum(ws)
    total = cum[-1]
    tol = 1e-12 * total
    cuts = []
    for k in range(1, int(groups)):
        t = total * k / groups
        i = min(int(np.searchsorted(cum, t - tol, side="left")), len(ps) - 1)
        exact = abs(cum[i] - t) <= tol and i + 1 < len(ps)
        cuts.append(0.5 * (ps[i] + ps[i + 1]) if exact else ps[i])
    cuts = np.unique(cuts)
    g = np.searchsorted(cuts, p, side="left")  # group k: cuts[k-1] < p <= cuts[k]
    nb = len(cuts) + 1
    N = np.bincount(g, weights=sw, minlength=nb)
    O1 = np.bincount(g, weights=sw * y, minlength=nb)
    E1 = np.bincount(g, weights=sw * p, minlength=nb)
    used = N > 0
    N, O1, E1 = N[used], O1[used], E1[used]
    O0, E0 = N - O1, N - E1
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(E1 > 0, (O1 - E1) ** 2 / E1, 0.0) + np.where(E0 > 0, (O0 - E0) ** 2 / E0, 0.0)
    stat = float(terms.sum())
    G = int(used.sum())
    if G < 3:
        raise ValueError(f"the fitted probabilities form only {G} distinct groups (ties); "
                         "Hosmer-Lemeshow needs at least 3")
    lo = np.array([p[g == k].min() for k in np.flatnonzero(used)])
    hi = np.array([p[g == k].max() for k in np.flatnonzero(used)])
    table = [{"lower": float(a), "upper": float(b), "weight": float(n), "observed": float(o),
              "expected": float(e)} for a, b, n, o, e in zip(lo, hi, N, O1, E1, strict=True)]
    note = "" if G == groups else f"Hosmer-Lemeshow: {G} groups formed (tied probabilities share a group)"
    return GofTest("Hosmer-Lemeshow", stat, G - 2, float(chi2_sf(stat, G - 2)), note,
                   {"table": table, "groups": G})


def le_cessie_van_houwelingen(sse: float, expected: float, wdd: float, c: np.ndarray,
                              A: np.ndarray) -> GofTest:
    """The sum-of-squares test from its sums (module docstring): ``z = (S - E[S]) / sqrt(RSS)``.

    ``detail`` holds ``sse`` (S), ``expected`` (E[S]), ``sd`` (sqrt RSS) and ``z``.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.inference.goodness_of_fit import le_cessie_van_houwelingen
    >>> test = le_cessie_van_houwelingen(5.2, 5.0, 2.0, np.array([1.0]), np.array([[1.0]]))
    >>> round(test.statistic, 4), round(test.detail["sd"], 4)
    (0.2, 1.0)
    """
    from scipy import linalg

    try:
        rss = wdd - float(c @ linalg.solve(A, c, assume_a="pos"))
    except (linalg.LinAlgError, ValueError) as err:
        raise ValueError("the weighted design X~^T diag(p(1-p)) X~ is singular: the "
                         "sum-of-squares test is not defined") from err
    if not rss > 0:
        raise ValueError(f"the variance of the sum of squares is {rss:.3g} (not positive): "
                         "the sum-of-squares test is not defined for these rows")
    sd = float(np.sqrt(rss))
    z = (sse - expected) / sd
    return GofTest("le Cessie-van Houwelingen", float(z), None, float(normal_two_sided_p(z)), "",
                   {"sse": float(sse), "expected": float(expected), "sd": sd, "z": float(z)})


def covariate_pattern_tests(m: np.ndarray, ypos: np.ndarray, eta: np.ndarray,
                            n_params: int) -> list[GofTest]:
    """Pearson and deviance chi-square over covariate patterns (module docstring), df ``J - q``."""
    keep = m > 0
    m, ypos, eta = m[keep], ypos[keep], eta[keep]
    J = len(m)
    df = J - n_params
    if df <= 0:
        raise ValueError(f"{J} covariate patterns for {n_params} parameters: no degrees of freedom left")
    p = sigmoid(eta)
    v = p * (1.0 - p)
    pearson = float(np.sum((ypos - m * p) ** 2 / (m * v)))
    yneg = m - ypos
    # y log(y / (m p)) with 0 log 0 = 0, and log p from the linear predictor (no log of a rounded p)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(ypos > 0, ypos * (np.log(ypos / m) - log_sigmoid(eta)), 0.0)
        b = np.where(yneg > 0, yneg * (np.log(yneg / m) - log_sigmoid(-eta)), 0.0)
    deviance = float(2.0 * np.sum(a + b))
    size = float(m.sum()) / J
    note = (f"mean rows per covariate pattern {size:.3g}: too few for the chi-square "
            "reference of the pattern tests; prefer Hosmer-Lemeshow or le Cessie-van Houwelingen"
            if size < MIN_PATTERN_SIZE else "")
    detail = {"patterns": J}
    return [GofTest("Pearson (covariate patterns)", pearson, df, float(chi2_sf(pearson, df)), note, detail),
            GofTest("Deviance (covariate patterns)", deviance, df, float(chi2_sf(deviance, df)), note, detail)]


class GofAccumulator:
    """Sums and rows of the goodness-of-fit tests, added block by block; see the module docstring.

    Parameters
    ----------
    theta : ndarray, the binary fit's parameters ``[w, b]`` (intercept last when fitted).
    fit_intercept : bool
    max_patterns : int, stop tracking covariate patterns past this many.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.inference.goodness_of_fit import GofAccumulator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 3, size=(300, 2)).astype(float)
    >>> y = (rng.random(300) < 0.4).astype(float)
    >>> acc = GofAccumulator(np.array([0.1, -0.2, -0.3]), fit_intercept=True)
    >>> acc.add(X[:100], y[:100], np.ones(100)); acc.add(X[100:], y[100:], np.ones(200))
    >>> [t.name for t in acc.result(groups=5).tests]  # doctest: +NORMALIZE_WHITESPACE
    ['Hosmer-Lemeshow', 'le Cessie-van Houwelingen', 'Pearson (covariate patterns)',
     'Deviance (covariate patterns)']
    """

    def __init__(self, theta: np.ndarray, fit_intercept: bool, max_patterns: int = MAX_PATTERNS) -> None:
        self.theta = np.asarray(theta, dtype=np.float64)
        self.fit_intercept = bool(fit_intercept)
        self.max_patterns = int(max_patterns)
        q = len(self.theta)
        self.sse = self.expected = self.wdd = 0.0
        self.c = np.zeros(q)
        self.A = np.zeros((q, q))
        self.rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.patterns: dict[bytes, int] | None = {}
        self.pattern_sums: list[list[float]] = []  # [m, y, eta] of each pattern

    def add(self, X: Any, y: np.ndarray, sw: np.ndarray, offset: np.ndarray | None = None) -> None:
        """Add one block of rows: design ``X`` (n, p), 0/1 labels, weights, optional offsets."""
        Xd = X.toarray() if issparse(X) else np.asarray(X, dtype=np.float64)
        Xt = np.hstack([Xd, np.ones((Xd.shape[0], 1))]) if self.fit_intercept else Xd
        y = np.asarray(y, dtype=np.float64)
        sw = np.asarray(sw, dtype=np.float64)
        eta = Xt @ self.theta
        if offset is not None:
            eta = eta + np.asarray(offset, dtype=np.float64)
        p = sigmoid(eta)
        v = p * (1.0 - p)
        w = sw * v
        d = 1.0 - 2.0 * p
        self.sse += float(sw @ (y - p) ** 2)
        self.expected += float(w.sum())
        self.wdd += float(w @ d**2)
        self.c += Xt.T @ (w * d)
        self.A += Xt.T @ (Xt * w[:, None])
        keep = sw > 0
        self.rows.append((p[keep], y[keep], sw[keep]))
        if self.patterns is not None:
            key = Xt if offset is None else np.column_stack([Xt, offset])
            self._add_patterns(key, y, sw, eta)

    def _add_patterns(self, key: np.ndarray, y: np.ndarray, sw: np.ndarray, eta: np.ndarray) -> None:
        rows = np.ascontiguousarray(key + 0.0)  # + 0.0: -0.0 and 0.0 are one pattern
        void = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
        uniq, first, inv = np.unique(void, return_index=True, return_inverse=True)
        m = np.bincount(inv, weights=sw, minlength=len(uniq))
        ypos = np.bincount(inv, weights=sw * y, minlength=len(uniq))
        for u, i, mj, yj in zip(uniq.tolist(), first.tolist(), m.tolist(), ypos.tolist(), strict=True):
            j = self.patterns.get(u)
            if j is None:
                if len(self.patterns) >= self.max_patterns:
                    self.patterns, self.pattern_sums = None, []
                    return
                self.patterns[u] = len(self.pattern_sums)
                self.pattern_sums.append([mj, yj, float(eta[i])])
            else:
                self.pattern_sums[j][0] += mj
                self.pattern_sums[j][1] += yj

    def merge(self, other: GofAccumulator) -> GofAccumulator:
        """Add another accumulator's rows (e.g. a Dask partition's) after this one's; returns self."""
        self.sse += other.sse
        self.expected += other.expected
        self.wdd += other.wdd
        self.c += other.c
        self.A += other.A
        self.rows.extend(other.rows)
        if self.patterns is None or other.patterns is None:
            self.patterns, self.pattern_sums = None, []
        else:
            for u, j in other.patterns.items():
                mj, yj, eta = other.pattern_sums[j]
                k = self.patterns.get(u)
                if k is None:
                    if len(self.patterns) >= self.max_patterns:
                        self.patterns, self.pattern_sums = None, []
                        break
                    self.patterns[u] = len(self.pattern_sums)
                    self.pattern_sums.append([mj, yj, eta])
                else:
                    self.pattern_sums[k][0] += mj
                    self.pattern_sums[k][1] += yj
        return self

    def result(self, groups: int = 10) -> GoodnessOfFit:
        """The tests of all rows added: Hosmer-Lemeshow with ``groups`` groups, then the others."""
        if not self.rows or not any(len(r[0]) for r in self.rows):
            raise ValueError("no rows with positive weight: no goodness-of-fit test can be computed")
        p, y, sw = (np.concatenate([r[k] for r in self.rows]) for k in range(3))
        tests = [hosmer_lemeshow(p, y, sw, groups),
                 le_cessie_van_houwelingen(self.sse, self.expected, self.wdd, self.c,
                                           np.triu(self.A) + np.triu(self.A, 1).T)]
        skipped = []
        if self.patterns is None:
            skipped.append(f"covariate-pattern tests: more than {self.max_patterns:,} patterns "
                           "(the data are not grouped)")
        else:
            s = np.array(self.pattern_sums, dtype=np.float64).reshape(-1, 3)
            try:
                tests += covariate_pattern_tests(s[:, 0], s[:, 1], s[:, 2], len(self.theta))
            except ValueError as err:
                skipped.append(f"covariate-pattern tests: {err}")
        return GoodnessOfFit(tests, float(sw.sum()), skipped)


@dataclass
class GoodnessOfFit:
    """The goodness-of-fit tests of a binary fit on some rows; prints as a table.

    Attributes
    ----------
    tests : list of GofTest, Hosmer-Lemeshow, le Cessie-van Houwelingen and (grouped data)
        Pearson and deviance over covariate patterns.
    nobs : float, the weight of the rows (their number without weights).
    skipped : list of str, tests not computed and why.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> gof = LogisticRegression().fit(X, y).goodness_of_fit(X, y)
    >>> [t.name for t in gof.tests][:2], gof["Hosmer-Lemeshow"].df
    (['Hosmer-Lemeshow', 'le Cessie-van Houwelingen'], 8)
    """

    tests: list[GofTest]
    nobs: float
    skipped: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> GofTest:
        for t in self.tests:
            if t.name == name or t.name.split(" ")[0] == name:
                return t
        raise KeyError(f"no test {name!r}; tests are {[t.name for t in self.tests]}")

    def rows(self) -> list[list[str]]:
        """Text cells: test, statistic, reference distribution, p-value."""
        return [[t.name, f"{t.statistic:.4f}", t.reference, f"{t.p_value:.4f}"] for t in self.tests]

    def notes(self) -> list[str]:
        out = list(dict.fromkeys(t.note for t in self.tests if t.note))  # the pattern tests share theirs
        lc = next((t for t in self.tests if t.df is None), None)
        if lc is not None:
            d = lc.detail
            out.insert(0, f"{lc.name}: S = sum (y - p)^2 = {d['sse']:.4f}, E[S] = {d['expected']:.4f}, "
                       f"sd = {d['sd']:.4f}; statistic z = (S - E[S]) / sd")
        return out + [f"not computed: {s}" for s in self.skipped]

    def __str__(self) -> str:
        head = ["test", "statistic", "reference", "p-value"]
        body = self.rows()
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
        fmt = lambda r: "  ".join(  # noqa: E731
            r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i]) for i in range(4))
        width = sum(widths) + 6
        title = f"Goodness of fit ({_num(self.nobs)} observations)"
        lines = [title, "-" * max(width, len(title)), fmt(head), *(fmt(r) for r in body)]
        return "\n".join(lines + [f"Note: {n}" for n in self.notes()])

    def __repr__(self) -> str:
        return str(self)

    def to_frame(self) -> Any:
        """pandas DataFrame indexed by test: statistic, df (NaN for the z test), p_value."""
        import pandas as pd

        return pd.DataFrame({"statistic": [t.statistic for t in self.tests],
                             "df": [np.nan if t.df is None else t.df for t in self.tests],
                             "p_value": [t.p_value for t in self.tests]},
                            index=pd.Index([t.name for t in self.tests], name="test"))

    def to_markdown(self) -> str:
        lines = ["| test | statistic | reference | p-value |", "| --- | --- | --- | --- |"]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows()]
        return "\n".join(lines + [f"\n*Note:* {n}" for n in self.notes()])

    def to_html(self) -> str:
        """An HTML table and notes, escaped."""
        e = html.escape
        head = "".join(f"<th>{h}</th>" for h in ("test", "statistic", "reference", "p-value"))
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in self.rows())
        notes = "".join(f"<p><em>Note:</em> {e(n)}</p>" for n in self.notes())
        return (f'<div class="logitfit-gof"><table class="gof"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>{notes}</div>")

    def _repr_html_(self) -> str:
        return self.to_html()
