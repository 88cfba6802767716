"""Inference on a fitted model: covariance, standard errors, tests, intervals, marginal effects.

Everything comes from the *same* objective the solver minimised
(:class:`logitfit.model.objective.LogisticObjective`), evaluated once more at the fitted
parameters. With ``S = sum_i s_i`` and ``H_mean`` the Hessian of the mean loss
(``objective.hess`` without the L2 term):

* log-likelihood ``llf = -S * loss(x)``; observed information ``I = S * H_mean``;
* ``"nonrobust"``: ``V = I^{-1}`` (the inverse observed information);
* ``"HC0"``..``"HC3"``: the sandwich ``V = A^{-1} M A^{-1}`` with bread
  ``A = I`` and meat ``M = sum_i s_i^2 r_i^2 x~_i x~_i^T / (1 - h_i)^k``
  (``k = 0`` for HC0/HC1, 1 for HC2, 2 for HC3; ``r = sigmoid(z) - y``;
  ``h_i = s_i p_i (1 - p_i) x~_i^T A^{-1} x~_i`` the leverages of the weighted
  hat matrix, as R's ``sandwich::vcovHC``); HC1 = HC0 * n / (n - k);
* ``"cluster"``: meat ``sum_g u_g u_g^T`` with ``u_g`` the score summed over
  cluster ``g``, times ``G/(G-1) * (n-1)/(n-k)`` (Stata's and statsmodels'
  default correction).

Penalised fits. L2: the estimates are *penalised* (biased towards 0); the
bread becomes the penalised Hessian ``A = I + S * diag(a)`` and the nonrobust
covariance is the sandwich ``A^{-1} I A^{-1}`` (le Cessie & van Houwelingen,
1992, Appl. Statist. 41:191, eq. 9); robust types use the same bread. L1:
refused (no valid standard errors for lasso estimates from this formula).

Multinomial models are reported per class against a reference class (the
first by default), as statsmodels' MNLogit: ``theta_k = B[:, k] - B[:, ref]``.
Without a penalty the Hessian of that parameterisation is the submatrix of the
full symmetric one (the loss is invariant under a common shift of the classes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy import linalg, optimize, stats

from logitfit._numerics import binary_residual, sigmoid
from logitfit.model.objective import _binary_weights, _binary_z, _gram, _multi_terms, _multi_Z

__all__ = ["Inference", "Retained", "lr_test", "COV_TYPES"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
#: Relative step of the central differences used for the multinomial
#: marginal-effect Jacobian: truncation ~ step^2 = 1e-10, rounding ~ 1e-16/step.
_ME_FD_STEP = 1e-5


class Retained:
    """Keeps the fitted objective for later inference; dropped when the model is pickled."""

    def __init__(self, objective: Any) -> None:
        self.objective = objective

    def __getstate__(self) -> dict:
        return {"objective": None}

    def __setstate__(self, state: dict) -> None:
        self.objective = None


# --------------------------------------------------------------- block kernels


def _tilde(Xb) -> np.ndarray:
    Xd = Xb.toarray() if sp.issparse(Xb) else np.asarray(Xb, dtype=np.float64)
    return np.hstack([Xd, np.ones((Xd.shape[0], 1))])


def _leverage(Xb, d: np.ndarray, Ainv: np.ndarray, fit_intercept: bool) -> np.ndarray:
    Xt = _tilde(Xb) if fit_intercept else _tilde(Xb)[:, :-1]
    return d * np.einsum("ij,jk,ik->i", Xt, Ainv, Xt)


def _binary_meat(block, w, b, fit_intercept, Ainv, power):
    z = _binary_z(block, w, b)
    e = block.sw * binary_residual(z, block.y)
    d = e * e
    if power:
        h = _leverage(block.X, block.sw * _binary_weights(z), Ainv, fit_intercept)
        d = d / (1.0 - h) ** power
    return (_gram(block.X, d, fit_intercept),)


def _multi_meat(block, W, b, fit_intercept):
    _, _, R = _multi_terms(_multi_Z(block, W, b), block.y)
    K = R.shape[1]
    q = block.X.shape[1] + int(fit_intercept)
    M = np.zeros((q, K, q, K))
    s2 = block.sw**2
    for k in range(K):
        for c in range(k, K):
            G = _gram(block.X, s2 * R[:, k] * R[:, c], fit_intercept)
            G = np.triu(G) + np.triu(G, 1).T  # _gram may fill only the upper triangle
            M[:, k, :, c] = G
            M[:, c, :, k] = G
    return (M.reshape(q * K, q * K),)


def _cluster_scores(block, w, b, fit_intercept, n_groups, multinomial, codes):
    if multinomial:
        _, _, R = _multi_terms(_multi_Z(block, w, b), block.y)
        E = R * block.sw[:, None]
    else:
        E = (block.sw * binary_residual(_binary_z(block, w, b), block.y))[:, None]
    Xt = _tilde(block.X) if fit_intercept else _tilde(block.X)[:, :-1]
    n = len(codes)
    G = sp.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_groups, n))
    U = np.einsum("ij,ik->ijk", Xt, E).reshape(n, -1)  # score rows in ravel order j*K + k
    return (np.asarray(G @ U),)


def _class_sums(block, K):
    return (np.bincount(block.y.astype(np.intp), weights=block.sw, minlength=K),)


def _n_rows(block):
    return len(block.y)


def _binary_me(block, w, b):
    z = _binary_z(block, w, b)
    f = _binary_weights(z)
    fp = block.sw * f * (1.0 - 2.0 * sigmoid(z))
    Xd = block.X
    return block.sw @ f, np.asarray(Xd.T @ fp, dtype=np.float64).ravel(), fp.sum()


def _multi_me(block, W, b):
    _, P, _ = _multi_terms(_multi_Z(block, W, b), block.y)
    sP = P * block.sw[:, None]
    return sP.sum(axis=0), sP.T @ P


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class WaldResult:
    """A Wald test of ``R theta = r``: chi-square statistic, degrees of freedom, p-value."""

    statistic: float
    df: int
    pvalue: float

    def __str__(self) -> str:
        return f"Wald chi2({self.df}) = {self.statistic:.6g}, p = {self.pvalue:.4g}"


@dataclass(frozen=True)
class LRResult:
    """Likelihood-ratio test ``2 (llf_full - llf_restricted) ~ chi2(df)``."""

    statistic: float
    df: int
    pvalue: float

    def __str__(self) -> str:
        return f"LR chi2({self.df}) = {self.statistic:.6g}, p = {self.pvalue:.4g}"


class Inference:
    """Lazy inference on a fitted :class:`~logitfit.LogisticRegression`.

    Parameters are ``theta``: for two classes ``[w_1..w_p, b]`` (intercept
    last, named "Intercept"); for K classes the K-1 blocks ``B[:, k] -
    B[:, ref]``, class by class. Every quantity is computed on first use and cached.
    """

    def __init__(self, model: Any, ref_class: int = 0) -> None:
        source = getattr(model, "_retained", None)
        if source is None or source.objective is None:
            raise ValueError(
                "this model no longer holds its training data (it was loaded from a file "
                "or pickled); refit it to compute standard errors and tests"
            )
        penalty = getattr(model, "penalty", None)
        if penalty in ("l1", "elasticnet"):
            raise ValueError(
                f"penalty={penalty!r}: no p-values, standard errors or intervals are given for "
                "L1-penalised estimates (the selection step invalidates the usual formulas). "
                "Refit without the L1 penalty on the selected features, or use the bootstrap."
            )
        self.model = model
        self.obj = source.objective
        self.firth = penalty == "firth"
        self.penalised = bool(self.obj.alpha) and not self.firth
        self.ref = int(ref_class)
        self.x = model._pack_coef(self.obj)
        self.S = float(self.obj.blocks.sw_sum)
        self._cache: dict = {}
        p = self.obj.n_features
        names = getattr(model, "feature_names_in_", None)
        base = [str(v) for v in names] if names is not None else [f"x{j}" for j in range(p)]
        if self.obj.fit_intercept:
            base.append("Intercept")
        self.term_names = base
        K = self.obj.n_classes
        if self.obj.multinomial:
            if not 0 <= self.ref < K:
                raise ValueError(f"ref_class must be in 0..{K - 1}, got {ref_class}")
            self.others = [k for k in range(K) if k != self.ref]
            q = self.obj.n_dof
            A = np.zeros((q * (K - 1), q * K))
            for m, k in enumerate(self.others):
                for j in range(q):
                    A[m * q + j, j * K + k] = 1.0
                    A[m * q + j, j * K + self.ref] = -1.0
            self.A = A
            labels = model.classes_
            self.names = [f"{labels[k]}:{t}" for k in self.others for t in base]
        else:
            self.others = [1]
            self.A = np.eye(self.obj.n_params)
            self.names = list(base)
        self.params = self.A @ self.x

    # ---------------------------------------------------------- likelihoods

    def _memo(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def nobs(self) -> float:
        """Number of observations: the sum of sample weights (frequency-weight semantics)."""
        return self.S

    @property
    def k_params(self) -> int:
        return len(self.params)

    @property
    def llf(self) -> float:
        """``-S * mean loss`` at the fit (without any penalty)."""
        return self._memo("llf", lambda: -self.S * self.obj.loss(self.x))

    @property
    def llnull(self) -> float:
        """Log-likelihood of the intercept-only model (all probabilities equal without an intercept)."""

        def compute() -> float:
            K = self.obj.n_classes
            if not self.obj.fit_intercept:
                return -self.S * np.log(K) if self.obj.multinomial else -self.S * np.log(2.0)
            (n_k,) = self.obj.blocks.map_reduce(_class_sums, K)
            n_k = n_k[n_k > 0]
            return float(n_k @ np.log(n_k / self.S))

        return self._memo("llnull", compute)

    @property
    def df_model(self) -> int:
        return self.k_params - int(self.obj.fit_intercept) * (len(self.others))

    @property
    def df_resid(self) -> float:
        return self.nobs - self.k_params

    @property
    def llr(self) -> float:
        return 2.0 * (self.llf - self.llnull)

    @property
    def llr_pvalue(self) -> float:
        return float(stats.chi2.sf(self.llr, self.df_model))

    @property
    def prsquared(self) -> float:
        """McFadden's pseudo-R2 ``1 - llf / llnull``."""
        return 1.0 - self.llf / self.llnull

    @property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.k_params

    @property
    def bic(self) -> float:
        return -2.0 * self.llf + np.log(self.nobs) * self.k_params

    @property
    def deviance(self) -> float:
        return -2.0 * self.llf

    @property
    def null_deviance(self) -> float:
        return -2.0 * self.llnull

    # ----------------------------------------------------------- covariance

    def _info_full(self) -> tuple[np.ndarray, np.ndarray]:
        """(observed information of the log-likelihood, penalised Hessian), both total (times S)."""

        def compute():
            H = self.S * self.obj.hess(self.x)
            I_ = H - self.S * np.diag(self.obj.l2)
            return I_, H

        return self._memo("info", compute)

    def _reduce(self, M: np.ndarray) -> np.ndarray:
        return self.A @ M @ self.A.T

    def _bread(self) -> np.ndarray:
        """Inverse of the (penalised) Hessian in theta coordinates."""

        def compute():
            _, H = self._info_full()
            if self.obj.multinomial and not self.penalised:
                K, q = self.obj.n_classes, self.obj.n_dof
                keep = np.array([j * K + k for k in self.others for j in range(q)])
                return _inv(H[np.ix_(keep, keep)]), keep
            if self.obj.multinomial:
                return self.A @ np.linalg.pinv(H, hermitian=True), None
            return _inv(H), None

        return self._memo("bread", compute)

    def _sandwich(self, M_full: np.ndarray) -> np.ndarray:
        Binv, keep = self._bread()
        if keep is not None:
            Mk = M_full[np.ix_(keep, keep)]
            return Binv @ Mk @ Binv
        if self.obj.multinomial:
            return Binv @ M_full @ Binv.T
        return Binv @ M_full @ Binv

    def cov_params(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        """Covariance of ``theta`` (see the module docstring for each ``cov_type``)."""
        if cov_type not in COV_TYPES:
            raise ValueError(f"cov_type must be one of {', '.join(COV_TYPES)}; got {cov_type!r}")
        if cov_type == "cluster":
            if groups is None:
                raise ValueError("cov_type='cluster' needs groups= (one cluster label per row)")
            return self._cluster(groups)
        if groups is not None:
            raise ValueError(f"groups= is used only with cov_type='cluster', not {cov_type!r}")
        return self._memo(("cov", cov_type), lambda: self._cov(cov_type))

    def _cov(self, cov_type: str) -> np.ndarray:
        I_, _ = self._info_full()
        if cov_type == "nonrobust":
            if self.penalised:
                return _sym(self._sandwich(I_))
            return _sym(self._bread()[0])
        W, b = self.obj.unpack(self.x)
        if self.obj.multinomial:
            if cov_type in ("HC2", "HC3"):
                raise ValueError(f"{cov_type} is defined here for the binary model only; use HC0, HC1 or cluster")
            (M,) = self.obj.blocks.map_reduce(_multi_meat, W, b, self.obj.fit_intercept)
        else:
            power = {"HC0": 0, "HC1": 0, "HC2": 1, "HC3": 2}[cov_type]
            _, H = self._info_full()
            (M,) = self.obj.blocks.map_reduce(_binary_meat, W, b, self.obj.fit_intercept, _inv(H), power)
            M = np.triu(M) + np.triu(M, 1).T
        V = self._sandwich(M)
        if cov_type == "HC1":
            V = V * self.nobs / (self.nobs - self.k_params)
        return _sym(V)

    def _cluster(self, groups: Any) -> np.ndarray:
        g = np.asarray(groups)
        if g.ndim != 1 or g.shape[0] != self.obj.blocks.n_samples:
            raise ValueError(f"groups has shape {g.shape}; give one label per row ({self.obj.blocks.n_samples} rows)")
        labels, codes = np.unique(g, return_inverse=True)
        G = len(labels)
        if G < 2:
            raise ValueError("cov_type='cluster' needs at least two clusters")
        sizes = self.obj.blocks.map_blocks(_n_rows)
        state = np.split(codes, np.cumsum(sizes)[:-1])
        W, b = self.obj.unpack(self.x)
        (U,) = self.obj.blocks.map_reduce(
            _cluster_scores, W, b, self.obj.fit_intercept, G, self.obj.multinomial, state=state
        )
        V = self._sandwich(U.T @ U)
        n, k = self.nobs, self.k_params
        return _sym(V * G / (G - 1) * (n - 1) / (n - k))

    # ------------------------------------------------------ tables and tests

    def bse(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        return np.sqrt(np.diag(self.cov_params(cov_type, groups)))

    def zvalues(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        return self.params / self.bse(cov_type, groups)

    def pvalues(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        """Two-sided normal p-values ``2 * Phi(-|z|)``."""
        return 2.0 * stats.norm.sf(np.abs(self.zvalues(cov_type, groups)))

    def conf_int(self, alpha: float = 0.05, method: str = "wald", cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        """Intervals, shape (k, 2): Wald ``theta +- z_{1-alpha/2} se`` or profile likelihood."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        if method == "profile":
            return self._memo(("profile", alpha), lambda: self._profile_ci(alpha))
        if method != "wald":
            raise ValueError(f"method must be 'wald' or 'profile', got {method!r}")
        q = stats.norm.ppf(1.0 - alpha / 2.0)
        se = self.bse(cov_type, groups)
        return np.column_stack([self.params - q * se, self.params + q * se])

    def wald_test(self, R: Any, r: Any = None, cov_type: str = "nonrobust", groups: Any = None) -> WaldResult:
        """Wald test of ``R theta = r``: ``W = (R t - r)^T (R V R^T)^{-1} (R t - r) ~ chi2(rank R)``.

        ``R`` may be a matrix, or a string of comma-separated equations in the
        term names, e.g. ``"gre = gpa"`` or ``"x1 + 2*x2 = 1, x3 = 0"``.
        """
        if isinstance(R, str):
            R, r = parse_constraints(R, self.names)
        R = np.atleast_2d(np.asarray(R, dtype=np.float64))
        r = np.zeros(R.shape[0]) if r is None else np.atleast_1d(np.asarray(r, dtype=np.float64))
        if R.shape[1] != self.k_params or r.shape[0] != R.shape[0]:
            raise ValueError(f"R must have shape (m, {self.k_params}) and r shape (m,); got {R.shape}, {r.shape}")
        d = R @ self.params - r
        V = R @ self.cov_params(cov_type, groups) @ R.T
        stat = float(d @ np.linalg.solve(V, d))
        df = int(np.linalg.matrix_rank(R))
        return WaldResult(stat, df, float(stats.chi2.sf(stat, df)))

    # ------------------------------------------------------ marginal effects

    def marginal_effects(self) -> dict[str, np.ndarray]:
        """Average marginal effects ``mean_i dP(y_i)/dx_ij`` with delta-method standard errors.

        Binary: ``AME_j = beta_j * mean_i p_i (1 - p_i)``; Jacobian
        ``dAME_j/dtheta_l = delta_jl mean(f) + beta_j mean(f' x~_l)`` with
        ``f' = f (1 - 2p)`` (statsmodels' ``get_margeff(at="overall")``).
        Multinomial: ``AME_jk = mean_i P_ik (beta_jk - sum_c P_ic beta_jc)`` for
        every class, Jacobian by central differences. Returns a dict with
        "effect", "std_err", "z", "p_value" (shape (p,) or (p, K)) and "names".
        """
        if self.penalised:
            raise ValueError("marginal effects with delta-method SEs are given for unpenalised fits only")
        return self._memo("me", self._me)

    def _me(self) -> dict[str, np.ndarray]:
        p = self.obj.n_features
        V = self.cov_params()
        if not self.obj.multinomial:
            w, b = self.obj.unpack(self.x)
            sf, fx, f1 = self.obj.blocks.map_reduce(_binary_me, w, b)
            mf = sf / self.S
            mfx = np.append(fx, f1)[: self.k_params] / self.S
            eff = w * mf
            J = mf * np.eye(self.k_params)[:p] + np.outer(w, mfx)
        else:
            eff = self._multi_ame(self.params)
            J = np.empty((eff.size, self.k_params))
            for ell in range(self.k_params):
                h = _ME_FD_STEP * max(1.0, abs(self.params[ell]))
                tp, tm = self.params.copy(), self.params.copy()
                tp[ell] += h
                tm[ell] -= h
                J[:, ell] = (self._multi_ame(tp) - self._multi_ame(tm)).ravel() / (2 * h)
        se = np.sqrt(np.einsum("ij,jk,ik->i", J, V, J)).reshape(eff.shape)
        z = eff / se
        return {"effect": eff, "std_err": se, "z": z, "p_value": 2 * stats.norm.sf(np.abs(z)),
                "names": np.array(self.term_names[:p])}

    def _multi_ame(self, theta: np.ndarray) -> np.ndarray:
        K, q, p = self.obj.n_classes, self.obj.n_dof, self.obj.n_features
        B = np.zeros((q, K))
        for m, k in enumerate(self.others):
            B[:, k] = theta[m * q:(m + 1) * q]
        W = B[:p]
        b = B[p] if self.obj.fit_intercept else np.zeros(K)
        sP, sPP = self.obj.blocks.map_reduce(_multi_me, W, b)
        return (W * sP - W @ sPP) / self.S

    # ------------------------------------------------------ profile intervals

    def _profile_ci(self, alpha: float) -> np.ndarray:
        if self.penalised:
            raise ValueError("profile-likelihood intervals are given for unpenalised (or Firth) fits only")
        if self.obj.multinomial:
            raise ValueError("profile-likelihood intervals are implemented for the binary model")
        if self.firth:
            from logitfit.inference.firth import firth_profile_ci

            return firth_profile_ci(self.obj, self.x, alpha)

        def fgh(x):
            f, g, H = self.obj.value_grad_hess(x)
            return self.S * f, self.S * g, self.S * H

        return profile_ci(fgh, self.x, self.bse(), alpha)


# ------------------------------------------------------------------ helpers


def _inv(H: np.ndarray) -> np.ndarray:
    try:
        c = linalg.cho_factor(H)
        return linalg.cho_solve(c, np.eye(H.shape[0]))
    except linalg.LinAlgError as err:
        raise ValueError(
            "the information matrix is singular at the fit (collinear features or "
            "separated classes): standard errors do not exist. Drop redundant columns, "
            "check logitfit.check_separation(X, y), or use penalty='firth'."
        ) from err


def _sym(V: np.ndarray) -> np.ndarray:
    return 0.5 * (V + V.T)


def constrained_newton(fgh, x0: np.ndarray, j: int, c: float, tol: float = 1e-10, max_iter: int = 200,
                       max_step: float = 5.0) -> tuple[float, np.ndarray]:
    """Minimise ``f`` over ``x`` with ``x_j = c`` by damped Newton; ``fgh(x) -> (f, g, H)``.

    Returns (minimum, minimiser). Used for profile likelihoods (and Firth's
    penalised profiles): the free block of the gradient and Hessian is used.
    """
    x = np.array(x0, dtype=np.float64)
    x[j] = c
    free = np.arange(x.size) != j
    f, g, H = fgh(x)
    for _ in range(max_iter):
        gf = g[free]
        if np.max(np.abs(gf), initial=0.0) <= tol * max(1.0, abs(f)):
            break
        step = np.linalg.solve(H[np.ix_(free, free)], gf)
        big = np.max(np.abs(step))
        if big > max_step:  # a capped Newton step (as logistf's maxstep) keeps far profiles stable
            step *= max_step / big
        t = 1.0
        while t > 1e-12:
            xn = x.copy()
            xn[free] -= t * step
            fn, gn, Hn = fgh(xn)
            if np.isfinite(fn) and fn <= f + 1e-4 * t * (-gf @ step):
                break
            t *= 0.5
        if t <= 1e-12:
            break
        x, f, g, H = xn, fn, gn, Hn
    return f, x


def profile_ci(fgh, x_hat: np.ndarray, se: np.ndarray, alpha: float) -> np.ndarray:
    """Profile-likelihood interval of every parameter: ``{c : 2 (f(c) - f_min) <= chi2_{1, 1-alpha}}``.

    ``f`` is the negative (possibly penalised) log-likelihood; each end point
    is found by Brent's method on the constrained minimum (Venzon & Moolgavkar
    1988 describe the same set; R's ``confint.glm`` computes it).
    """
    f_min = fgh(x_hat)[0]
    q = stats.chi2.ppf(1.0 - alpha, 1)
    out = np.empty((x_hat.size, 2))
    for j in range(x_hat.size):
        solved = {float(x_hat[j]): x_hat}

        def excess(c, j=j, solved=solved):
            # warm start from the nearest value already solved: deterministic in c
            near = min(solved, key=lambda v: abs(v - c))
            f, x = constrained_newton(fgh, solved[near], j, c)
            solved[float(c)] = x
            return 2.0 * (f - f_min) - q

        for side, sgn in ((0, -1.0), (1, 1.0)):
            step = max(se[j], 1e-3 * max(1.0, abs(x_hat[j])))
            lo = float(x_hat[j])
            hi = lo + sgn * step
            n = 0
            while (e_hi := excess(hi)) < 0:
                lo, hi = hi, hi + sgn * step * 2.0**n
                n += 1
                if n > 40:
                    raise ValueError(f"the profile likelihood of parameter {j} does not reach the cut-off")
            if e_hi == 0.0:
                out[j, side] = hi
                continue
            out[j, side] = optimize.brentq(excess, lo, hi, xtol=1e-12, rtol=1e-12)
    return out


def parse_constraints(text: str, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse ``"a = b, 2*c - d = 1"`` into ``(R, r)`` over the named parameters."""
    order = sorted(range(len(names)), key=lambda i: -len(names[i]))
    rows, rhs = [], []
    for eq in text.split(","):
        sides = eq.split("=")
        if len(sides) != 2:
            raise ValueError(f"each constraint needs exactly one '=': {eq.strip()!r}")
        row, const = np.zeros(len(names)), 0.0
        for side, sign in ((sides[0], 1.0), (sides[1], -1.0)):
            for coef, term in _terms(side, names, order):
                if term is None:
                    const -= sign * coef
                else:
                    row[term] += sign * coef
        rows.append(row)
        rhs.append(const)
    return np.array(rows), np.array(rhs)


def _terms(side: str, names: list[str], order: list[int]):
    s = side.strip()
    pos, sign, out = 0, 1.0, []
    import re

    num = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*")
    while pos < len(s):
        ch = s[pos]
        if ch.isspace():
            pos += 1
            continue
        if ch in "+-":
            sign = -1.0 if ch == "-" else 1.0
            pos += 1
            continue
        coef = 1.0
        m = num.match(s, pos)
        if m:
            coef = float(m.group(1))
            pos = m.end()
            if pos < len(s) and s[pos] == "*":
                pos += 1
            else:
                out.append((sign * coef, None))
                sign = 1.0
                continue
        while pos < len(s) and s[pos].isspace():
            pos += 1
        for i in order:
            if s.startswith(names[i], pos):
                out.append((sign * coef, i))
                pos += len(names[i])
                break
        else:
            raise ValueError(f"unknown term at {s[pos:]!r}; known terms: {', '.join(names)}")
        sign = 1.0
    return out


def lr_test(restricted: Any, full: Any) -> LRResult:
    """Likelihood-ratio test of a restricted model nested in a full one (both fitted on the same rows).

    ``LR = 2 (llf_full - llf_restricted)`` on ``k_full - k_restricted`` degrees
    of freedom. For Firth fits the penalised log-likelihoods are compared.
    """
    a, b = restricted._inference(), full._inference()
    if abs(a.nobs - b.nobs) > 1e-9 * max(1.0, b.nobs):
        raise ValueError(f"the models were fitted on different data ({a.nobs} vs {b.nobs} observations)")
    df = b.k_params - a.k_params
    if df <= 0:
        raise ValueError(f"the full model must have more parameters than the restricted one ({b.k_params} <= {a.k_params})")
    if a.firth != b.firth:
        raise ValueError("compare two Firth fits or two maximum-likelihood fits, not one of each")
    if a.firth:
        from logitfit.inference.firth import penalised_llf

        la, lb = penalised_llf(a.obj, a.x), penalised_llf(b.obj, b.x)
    else:
        la, lb = a.llf, b.llf
    stat = max(0.0, 2.0 * (lb - la))
    return LRResult(stat, df, float(stats.chi2.sf(stat, df)))
