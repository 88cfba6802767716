"""The objective: binary and multinomial log loss, its gradient, Hessian and Hessian-vector product.

Conventions (stated once, used everywhere)
------------------------------------------
* Data: ``X`` (n_samples, n_features), class indices ``y`` (0/1 for the
  binary model, 0..K-1 for the multinomial one), sample weights ``s``
  (non-negative, at least one positive), ``S = sum_i s_i``.
* Objective = weighted **mean** loss plus an L2 term::

      J(x) = (1/S) sum_i s_i l_i(z_i) + (1/2) sum_j a_j x_j^2

  where ``a_j = alpha * penalty_factor_j`` for coefficients and ``a_j = 0``
  for intercepts: the intercept is never penalised. With unit weights and
  ``alpha = lam/m`` this is the course's cost. scikit-learn's ``C`` maps to
  ``alpha = 1/(C S)``.
* Log-likelihood ``llf = -S * (mean loss)`` (the penalty excluded).
* Parameter vector ``x`` (what solvers see):

  - binary: ``x = [w_1..w_p, b]`` (``b`` only with an intercept), linear
    predictor ``z = X w + b``, per-row loss ``l = log(1 + e^z) - y z``;
  - multinomial (K >= 3 classes): ``x = B.ravel()`` (C order) where
    ``B`` has shape (p + intercept, K); the last row of ``B`` holds the
    intercepts. ``Z = X B[:p] + B[p]``, ``l_i = logsumexp(Z_i) - Z_{i, y_i}``.
    The softmax parameterisation is the full (symmetric) one, as glmnet and
    scikit-learn use.
* Derivatives, with residual ``r = sigmoid(z) - y`` (binary) or
  ``R = softmax(Z) - onehot(y)`` (multinomial)::

      grad = (1/S) X~^T (s * r)          + a * x
      hess = (1/S) X~^T diag(s h(1-h)) X~  + diag(a)      (binary)

  where ``X~ = [X, 1]``. For the multinomial model the Hessian block of
  classes (k, c) is ``(1/S) X~^T diag(s p_k (delta_kc - p_c)) X~``.

Every evaluation is a map over blocks of rows (``logitfit.blocks``) and a
sum: the kernels below see one block and return partial sums, so the same code
runs in memory, streamed from files, or on Dask workers. Each kernel reads its
block of X twice (``X w`` then ``X^T r``) while it is still in cache; the
elementwise part in between is one fused sweep
(:func:`logitfit.model.binary.binary_parts`), and Hessians are symmetric
rank-k updates (BLAS ``dsyrk``) per block (:mod:`logitfit.model.gram`). The
kernels live in :mod:`logitfit.model.binary` and :mod:`logitfit.model.softmax`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from logitfit._numerics import issparse
from logitfit.blocks.protocol import Blocks
from logitfit.model import binary, softmax

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["LinearModelObjective", "LogisticObjective", "Objective", "pack_coef"]


class Objective(Protocol):
    """What every solver sees: a smooth function of a flat float64 parameter vector."""

    n_params: int

    def value(self, x: np.ndarray) -> float: ...

    def grad(self, x: np.ndarray) -> np.ndarray: ...

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]: ...

    def value_grad_hess(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]: ...

    def hessp(self, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]: ...

    def hess(self, x: np.ndarray) -> np.ndarray: ...


class LinearModelObjective(Objective, Protocol):
    """Optional capabilities of a linear model's objective, which some solvers use when present.

    ``cd`` reads the layout (``n_features``, ``n_outputs``, ``fit_intercept``,
    ``multinomial``, the ridge weights ``l2``) and asks for Hessian blocks
    (:meth:`value_grad_hess_sub`) or Hessian weights (:meth:`value_grad_weights`);
    its Hessian sources form their own products from the design
    (:meth:`design_rows`, :meth:`design_columns`, ``weight_sum``) where the rows
    are in memory. ``sgd`` needs ``n_samples`` and :meth:`value_and_grad_rows`;
    ``newton`` uses ``null_space`` and the sub-sampled Hessian
    (``value_grad_hess(x, subsample=True)``). A solver never sees the rows otherwise.
    """

    n_samples: int
    n_features: int
    n_outputs: int
    fit_intercept: bool
    multinomial: bool
    l2: np.ndarray
    weight_sum: float

    def value_grad_weights(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray | None]: ...

    def value_grad_hess_sub(
        self, x: np.ndarray, cols: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]: ...

    def value_and_grad_rows(self, x: np.ndarray, rows: np.ndarray) -> tuple[float, np.ndarray]: ...

    def null_space(self) -> np.ndarray | None: ...

    def design_rows(self) -> np.ndarray | sp.csr_matrix | None: ...

    def design_columns(self) -> sp.csc_matrix | None: ...


# Rows the sub-sampled Hessian uses at least (value_grad_hess(subsample=True)); see docs/kernels.md.
HESSIAN_ROWS_PER_PARAM = 50
HESSIAN_MIN_ROWS = 20_000
#: Newton-CG's sub-sampled products copy their rows: at most this share of X's bytes,
#: or any copy under HESSP_COPY_FREE_BYTES (peak memory stays near X).
HESSP_COPY_MAX_SHARE = 0.1
HESSP_COPY_FREE_BYTES = 64 << 20


# A full Hessian pass maps over runs of at least this many rows per parameter
# (Blocks.map_reduce_merged), so that allocating and adding each run's (q, q)
# partial sum stays small next to its rank-k update; the run's temporaries
# (X[:, cols] scaled by sqrt(d)) are capped at HESSIAN_RUN_BYTES.
HESSIAN_RUN_ROWS_PER_PARAM = 8
HESSIAN_RUN_BYTES = 32 << 20


class LogisticObjective:
    """Weighted mean log loss plus L2 term over ``Blocks``; see the module conventions.

    Parameters
    ----------
    blocks : Blocks
        Where the rows live (in memory, streamed, Dask). The optional
        capabilities :class:`~logitfit.blocks.protocol.CountedBlocks` and
        :class:`~logitfit.blocks.protocol.InMemoryRows` are used when present.
    n_classes : int
        2 gives the binary (sigmoid) model; 3 or more the multinomial (softmax).
    fit_intercept : bool
    alpha : float
        L2 strength; the term is ``alpha/2 * sum_j f_j w_j^2``.
    penalty_factor : array of shape (n_features,), optional
        Per-feature multipliers ``f_j`` of ``alpha`` (0 leaves a feature unpenalised).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> from logitfit import LogisticObjective
    >>> from logitfit.blocks.memory import InMemoryBlocks
    >>> objective = LogisticObjective(InMemoryBlocks(X, y.astype(float), np.ones(200)))
    >>> theta = np.zeros(3)
    >>> round(objective.value(theta), 6)
    0.693147
    >>> objective.grad(theta).round(4)
    array([-0.121 ,  0.2927, -0.03  ])
    """

    def __init__(
        self,
        blocks: Blocks,
        n_classes: int = 2,
        *,
        fit_intercept: bool = True,
        alpha: float = 0.0,
        penalty_factor: np.ndarray | None = None,
    ) -> None:
        if n_classes < 2:
            raise ValueError("a logistic model needs at least two classes")
        self.blocks = blocks
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        self.n_features = blocks.n_features
        self.n_dof = self.n_features + int(fit_intercept)
        self.n_outputs = 1 if n_classes == 2 else n_classes
        self.n_params = self.n_dof * self.n_outputs
        factor = np.ones(self.n_features) if penalty_factor is None else np.asarray(penalty_factor, float)
        a = np.zeros(self.n_dof)
        a[: self.n_features] = alpha * factor
        self.alpha = float(alpha)
        self.l2 = np.repeat(a, self.n_outputs)  # matches the ravel order j*K + k
        self.multinomial = n_classes > 2
        # Compiled one-pass kernels (in-memory rows: logitfit.blocks.fused).
        fused = getattr(blocks, "fused", None)
        if fused is not None and self.multinomial and not fused.supports_multinomial:
            fused = None
        self._fused = fused
        # rows mapped block by block elsewhere (Dask partitions): the compiled pass per block where it applies
        self._binary_kernels = (
            (binary.compiled_value, binary.compiled_value_grad, binary.compiled_value_grad_hess_some)
            if getattr(blocks, "compiled_blocks", False)
            else (binary.binary_value, binary.binary_value_grad, binary.binary_value_grad_hess_some))

    # ---- layout ---------------------------------------------------------

    def unpack(self, x: np.ndarray):
        """Split ``x`` into (coefficients, intercepts): ((p,), float) or ((p, K), (K,))."""
        p = self.n_features
        if self.multinomial:
            B = x.reshape(self.n_dof, self.n_classes)
            return B[:p], (B[p] if self.fit_intercept else np.zeros(self.n_classes))
        return x[:p], (float(x[p]) if self.fit_intercept else 0.0)

    def _pack(self, gX: np.ndarray, gb) -> np.ndarray:
        if self.multinomial:
            G = np.vstack([gX, gb[None, :]]) if self.fit_intercept else gX
            return G.ravel()
        return np.append(gX, gb) if self.fit_intercept else np.asarray(gX, dtype=np.float64)

    def _penalty(self, x: np.ndarray) -> float:
        return 0.5 * float(self.l2 @ (x * x)) if self.alpha else 0.0

    @property
    def n_samples(self) -> int:
        return self.blocks.n_samples

    @property
    def weight_sum(self) -> float:
        """``S``, the sum of the sample weights."""
        return self.blocks.sw_sum

    def design_rows(self) -> np.ndarray | sp.csr_matrix | None:
        """X as held in memory (2-D ndarray or CSR, no intercept column), or None.

        For solvers that form their own weighted Gram products (the cd
        solver's Hessian cache). None where the rows are streamed or on Dask.
        """
        X = getattr(self.blocks, "X", None)
        if X is None or getattr(self.blocks, "sw", None) is None:
            return None
        if (isinstance(X, np.ndarray) and X.ndim == 2) or (issparse(X) and X.format == "csr"):
            return X
        return None

    def design_columns(self) -> sp.csc_matrix | None:
        """X by columns, a float64 CSC copy (duplicates summed), for sparse in-memory X; else None.

        For coordinate updates through X's columns (the cd solver on sparse X).
        """
        X = self.design_rows()
        if X is None or not issparse(X):
            return None
        import scipy.sparse as sp  # on use: only sparse input gets here
        csc = sp.csc_matrix(X, dtype=np.float64)
        csc.sum_duplicates()
        return csc

    # ---- evaluations ----------------------------------------------------

    def loss(self, x: np.ndarray) -> float:
        """Weighted mean log loss at ``x`` (no penalty); ``llf = -S * loss``."""
        if self._fused is not None:
            return self._fused.value(*self.unpack(x)) / self.blocks.sw_sum
        kernel = softmax.multi_value if self.multinomial else self._binary_kernels[0]
        (total,) = self.blocks.map_reduce(kernel, *self.unpack(x))
        return float(total) / self.blocks.sw_sum

    def value(self, x: np.ndarray) -> float:
        """``J(x)``: one pass over the rows computing ``X w`` only."""
        return self.loss(x) + self._penalty(x)

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """``J(x)`` and its gradient in one pass over the rows."""
        if self._fused is not None:
            total, gX, gb = self._fused.value_grad(*self.unpack(x))
        else:
            kernel = softmax.multi_value_grad if self.multinomial else self._binary_kernels[1]
            total, gX, gb = self.blocks.map_reduce(kernel, *self.unpack(x))
        S = self.blocks.sw_sum
        g = self._pack(gX / S, gb / S) + self.l2 * x
        return float(total) / S + self._penalty(x), g

    def value_grad_weights(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray | None]:
        """:meth:`value_and_grad` plus the binary Hessian weights ``s_i h_i (1 - h_i)`` (one
        compiled pass; a second pass without the kernels). None for the softmax."""
        if self.multinomial:
            return (*self.value_and_grad(x), None)
        if self._fused is None:
            d = np.concatenate(self.blocks.map_blocks(binary.binary_hess_state, *self.unpack(x)))
            return (*self.value_and_grad(x), d)
        total, gX, gb, d = self._fused.value_grad_weights(*self.unpack(x))
        S = self.blocks.sw_sum
        g = self._pack(gX / S, gb / S) + self.l2 * x
        return float(total) / S + self._penalty(x), g, d

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.value_and_grad(x)[1]

    def _map_hessian(self, kernel, n_cols: int, *args, with_gradient: bool = False) -> tuple:
        """``blocks.map_reduce`` for a pass that forms a Hessian over ``n_cols`` columns.

        A kernel that also returns the value and gradient keeps the blocks'
        own partition for float32 X: its per-block sums are float32, and
        value_and_grad must give the same numbers.
        """
        merged = getattr(self.blocks, "map_reduce_merged", None)
        if merged is None or (with_gradient and self.blocks.dtype != np.float64):
            return self.blocks.map_reduce(kernel, *args)
        return merged(kernel, self._hessian_run_rows(n_cols), *args)

    def _hessian_run_rows(self, n_cols: int) -> int:
        """Rows per run of a Hessian pass over ``n_cols`` columns (see HESSIAN_RUN_ROWS_PER_PARAM)."""
        q = max(1, n_cols + int(self.fit_intercept)) * self.n_outputs
        return min(HESSIAN_RUN_ROWS_PER_PARAM * q, HESSIAN_RUN_BYTES // (8 * q))

    def hessian_block_stride(self) -> int:
        """Every how many blocks a sub-sampled Hessian is taken (1: all of them).

        The Hessian is a mean over rows; a fixed, evenly spread subset of
        ``HESSIAN_ROWS_PER_PARAM * n_params`` rows (at least
        ``HESSIAN_MIN_ROWS``) estimates it to a few per cent, which is all a
        Newton step needs to converge fast (sub-sampled Newton: Byrd, Chin,
        Neveitt & Nocedal 2011; Roosta-Khorasani & Mahoney 2019). Needs a row
        source that can say how many blocks it has.
        """
        n_blocks = len(self.blocks) if hasattr(self.blocks, "__len__") else 0
        if n_blocks < 2:
            return 1
        stride = self.blocks.n_samples // self._hessian_rows_needed()
        return int(min(max(stride, 1), n_blocks))

    def _hessian_rows_needed(self) -> int:
        return max(HESSIAN_MIN_ROWS, HESSIAN_ROWS_PER_PARAM * self.n_params)

    def value_grad_hess(
        self, x: np.ndarray, *, subsample: bool = False
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Value, gradient and Hessian in one pass (Newton's iteration).

        With ``subsample=True`` the value and gradient are still exact, but the
        Hessian is the weighted mean over every ``hessian_block_stride()``-th
        block only (:meth:`hessian_block_stride`); tall data then pay for the
        Hessian on a small fraction of the rows.
        """
        stride = self.hessian_block_stride() if subsample else 1
        S = self.blocks.sw_sum
        if self._fused is not None and not self.multinomial and self._fused.supports_hessian:
            # compiled: the value and gradient of value_and_grad (the same
            # numbers, bit for bit), then the Hessian per chunk (dsyrk)
            w, b = self.unpack(x)
            total, gX, gb = self._fused.value_grad(w, b)
            if stride == 1:
                runs = self.blocks.merged_bounds(self._hessian_run_rows(self.n_features))
                H = self._fused.hessian(w, b, self.fit_intercept, runs) / S
            else:  # the Hessian from every stride-th block
                chosen = self.blocks.bounds[::stride]
                H = self._fused.hessian(w, b, self.fit_intercept, chosen)
                S_hess = float(sum(self.blocks.sw[a:e].sum() for a, e in chosen))
                H = H / S_hess if S_hess > 0 else self.value_grad_hess(x)[2] - np.diag(self.l2)
        elif self._fused is not None:
            # value and gradient from the one-pass compiled kernel (the same
            # numbers value_and_grad gives); the Hessian from the chosen blocks
            total, gX, gb = self._fused.value_grad(*self.unpack(x))
            kernel = softmax.multi_hess_only if self.multinomial else binary.binary_hess_only
            if stride == 1:
                H, S_hess = self._map_hessian(kernel, self.n_features, *self.unpack(x), self.fit_intercept)
            else:
                H, S_hess = self.blocks.map_reduce_some(
                    kernel, range(0, len(self.blocks), stride), *self.unpack(x), self.fit_intercept
                )
            H = H / float(S_hess) if S_hess > 0 else self.value_grad_hess(x)[2] - np.diag(self.l2)
        elif stride == 1:
            kernel = softmax.multi_value_grad_hess if self.multinomial else binary.binary_value_grad_hess
            total, gX, gb, H = self._map_hessian(
                kernel, self.n_features, *self.unpack(x), self.fit_intercept, with_gradient=True
            )
            H = H / S
        else:
            kernel = softmax.multi_value_grad_hess_some if self.multinomial else self._binary_kernels[2]
            chosen = [i % stride == 0 for i in range(len(self.blocks))]
            if kernel is binary.compiled_value_grad_hess_some:
                # partitions on workers: each chosen one gives only its share of the rows the estimate needs
                share = -(-self._hessian_rows_needed() // sum(chosen))
                chosen = [share if c else 0 for c in chosen]
            total, gX, gb, H, S_hess = self.blocks.map_reduce(
                kernel, *self.unpack(x), self.fit_intercept, state=chosen
            )
            H = H / float(S_hess) if S_hess > 0 else self.value_grad_hess(x)[2] - np.diag(self.l2)
        g = self._pack(gX / S, gb / S) + self.l2 * x
        # dense kernels fill the upper triangle only (dsyrk); sparse ones all of it
        H = np.triu(H) + np.triu(H, 1).T
        H[np.diag_indices_from(H)] += self.l2
        if stride == 1:
            # Newton's last iterate is the solution: inference asks for this Hessian next
            self._last_hessian = (x.copy(), H.copy())
        return float(total) / S + self._penalty(x), g, H

    def value_grad_hess_sub(
        self, x: np.ndarray, cols: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """Value, full gradient and the Hessian restricted to features ``cols``, one pass.

        For coordinate descent on an active set (glmnet's proximal Newton):
        the Hessian block over the parameters of features ``cols`` plus the
        intercept(s) costs ``O(n |cols|^2)`` instead of ``O(n p^2)``.

        Returns
        -------
        f, g : J(x) and its full gradient (length ``n_params``).
        H : ndarray, shape (m, m), the rows/columns ``idx`` of the full Hessian.
        idx : ndarray of int, the flat parameter indices of ``H``: for each
            feature of ``cols`` (then the intercept) its ``n_outputs`` entries.
        """
        cols = np.asarray(cols, dtype=np.intp)
        if self._fused is not None:
            # the value and gradient of value_and_grad (one compiled pass), then the Hessian
            total, gX, gb = self._fused.value_grad(*self.unpack(x))
            kernel = softmax.multi_hess_sub if self.multinomial else binary.binary_hess_sub
            (H,) = self._map_hessian(kernel, cols.size, *self.unpack(x), cols, self.fit_intercept)
        else:
            kernel = softmax.multi_vgh_sub if self.multinomial else binary.binary_vgh_sub
            total, gX, gb, H = self._map_hessian(
                kernel, cols.size, *self.unpack(x), cols, self.fit_intercept, with_gradient=True
            )
        S = self.blocks.sw_sum
        g = self._pack(gX / S, gb / S) + self.l2 * x
        H = H / S
        # dense kernels fill the upper triangle only (dsyrk); sparse ones all of it
        H = np.triu(H) + np.triu(H, 1).T
        feats = np.append(cols, self.n_features) if self.fit_intercept else cols
        K = self.n_outputs
        idx = (feats[:, None] * K + np.arange(K)[None, :]).ravel()
        H[np.diag_indices_from(H)] += self.l2[idx]
        return float(total) / S + self._penalty(x), g, H, idx

    def hess(self, x: np.ndarray) -> np.ndarray:
        """Full Hessian, shape (n_params, n_params); the last exact one again when ``x`` is its point."""
        last = getattr(self, "_last_hessian", None)
        if last is not None and last[0].shape == x.shape and np.array_equal(last[0], x):
            return last[1].copy()
        return self.value_grad_hess(x)[2]

    def hessp(self, x: np.ndarray, *, subsample: bool = False) -> Callable[[np.ndarray], np.ndarray]:
        """Return ``v -> H(x) v``; the weights at ``x`` are computed once, per block.

        With ``subsample=True`` on tall in-memory data the product is the mean over
        every ``hessian_block_stride()``-th block only (a copy of those rows made
        once), as Newton's sub-sampled Hessian; value and gradient stay exact.
        """
        if subsample:
            rows = self._hessian_rows()
            if rows is not None:
                return rows.hessp(x)
        S = self.blocks.sw_sum
        if self._fused is not None:
            fused = self._fused
            d = self._fused_state(x)

            def fused_product(v: np.ndarray) -> np.ndarray:
                gX, gb = fused.hessp(d, *self.unpack(v))
                return self._pack(gX / S, gb / S) + self.l2 * v

            return fused_product
        if self.multinomial:
            state = self.blocks.map_blocks(softmax.multi_hess_state, *self.unpack(x))
            kernel = softmax.multi_hessp
        else:
            state = self.blocks.map_blocks(binary.binary_hess_state, *self.unpack(x))
            kernel = binary.binary_hessp

        def product(v: np.ndarray) -> np.ndarray:
            gX, gb = self.blocks.map_reduce(kernel, *self.unpack(v), state=state)
            return self._pack(gX / S, gb / S) + self.l2 * v

        return product

    def hessian_diagonal(self, x: np.ndarray, *, subsample: bool = False) -> np.ndarray | None:
        """``diag H(x)`` from one read of X (Newton-CG's Jacobi preconditioner); None without compiled kernels.

        ``H_jj = (1/S) sum_i s_i h_i (1 - h_i) x_ij^2 + l2_j`` (binary; softmax:
        ``P_ik (1 - P_ik)`` per class k), the intercept's entry with ``x_ij = 1``.
        With ``subsample=True``, over the rows ``hessp(x, subsample=True)`` uses.
        """
        if subsample:
            rows = self._hessian_rows()
            if rows is not None:
                return rows.hessian_diagonal(x)
        if self._fused is None:
            return None
        state = self._fused_state(x)
        D = self._fused.sw[:, None] * state * (1.0 - state) if self.multinomial else state[:, None]
        return self._diagonal(D, None, self.blocks.sw_sum)

    def start_diagonal(self, rows: int) -> np.ndarray | None:
        """The binary Hessian's diagonal at ``x = 0`` from the first ``rows`` rows, or None.

        There ``h = 1/2`` for every row, so ``H_jj = (1/4) sum_i s_i x_ij^2 / sum_i s_i + l2_j``
        needs no pass for the weights: one read of those rows (the ``auto`` rule's probe).
        None for the softmax, with offsets, or without compiled kernels.
        """
        if self._fused is None or self.multinomial or getattr(self.blocks, "offset", None) is not None:
            return None
        sw = self._fused.sw
        return self._diagonal(0.25 * sw[:, None], rows, float(sw[:rows].sum() or 1.0))

    def _diagonal(self, D: np.ndarray, rows: int | None, S: float) -> np.ndarray:
        """``diag(X~^T diag(D) X~) / S + l2`` in the parameters' layout (the compiled diagonal pass)."""
        diag = self._fused.hessian_diagonal(D, rows=rows) / S
        if self.multinomial:
            return self._pack(diag[:-1], diag[-1]) + self.l2
        return self._pack(diag[:-1, 0], float(diag[-1, 0])) + self.l2

    def _fused_state(self, x: np.ndarray) -> np.ndarray:
        """The compiled kernels' Hessian state at ``x`` (weights, or probabilities), one pass per ``x``."""
        cached = getattr(self, "_state_at", None)
        if cached is not None and cached[0].shape == x.shape and np.array_equal(cached[0], x):
            return cached[1]
        state = self._fused.weights(*self.unpack(x))
        self._state_at = (x.copy(), state)
        return state

    def _hessian_rows(self) -> LogisticObjective | None:
        """The objective over every ``hessian_block_stride()``-th block (made once), or None."""
        if not hasattr(self, "_hessian_subset"):
            self._hessian_subset = self._subsampled()
        return self._hessian_subset

    def _subsampled(self) -> LogisticObjective | None:
        stride = self.hessian_block_stride()
        X = getattr(self.blocks, "X", None)
        if stride == 1 or X is None:  # all rows, or rows not in memory
            return None
        from logitfit.blocks.memory import InMemoryBlocks

        idx = np.concatenate([np.arange(a, e) for a, e in self.blocks.bounds[::stride]])
        share = idx.size / self.blocks.n_samples
        x_bytes = X.data.nbytes + X.indices.nbytes if issparse(X) else X.nbytes
        if share > HESSP_COPY_MAX_SHARE and share * x_bytes > HESSP_COPY_FREE_BYTES:
            return None  # the copy would cost real memory: exact products instead
        offset = getattr(self.blocks, "offset", None)
        sub = InMemoryBlocks(X[idx], self.blocks.y[idx], self.blocks.sw[idx],
                             n_threads=getattr(self.blocks, "n_threads", None),
                             offset=None if offset is None else offset[idx])
        if sub.sw_sum <= 0:
            return None
        subset = LogisticObjective(sub, self.n_classes, fit_intercept=self.fit_intercept)
        subset.l2 = self.l2  # the same ridge term, however it was built
        return subset

    def value_and_grad_rows(self, x: np.ndarray, rows: np.ndarray) -> tuple[float, np.ndarray]:
        """``J`` restricted to a mini-batch of rows (weighted mean over those rows)."""
        block = self.blocks.rows(rows)
        kernel = softmax.multi_value_grad if self.multinomial else binary.binary_value_grad
        total, gX, gb = kernel(block, *self.unpack(x))
        S = float(block.sw.sum())
        if S <= 0:
            return self._penalty(x), self.l2 * x
        return float(total) / S + self._penalty(x), self._pack(gX / S, gb / S) + self.l2 * x

    def zero(self) -> np.ndarray:
        return np.zeros(self.n_params)

    def null_space(self) -> np.ndarray | None:
        """Orthonormal directions along which J is exactly constant, shape (n_params, r), or None.

        The softmax is unchanged when one constant is added to every class's
        coefficient of a feature, ``B[j, :] += c``; where the penalty does not
        reach row j (intercepts, unpenalised features) J is flat along
        ``e_j (x) 1_K / sqrt(K)`` and the Hessian is singular there. The binary
        model has no such directions.
        """
        if not self.multinomial:
            return None
        K = self.n_classes
        free = np.flatnonzero(self.l2.reshape(self.n_dof, K)[:, 0] == 0)
        if free.size == 0:
            return None
        N = np.zeros((self.n_params, free.size))
        for col, j in enumerate(free):
            N[j * K : (j + 1) * K, col] = 1.0 / np.sqrt(K)
        return N


def pack_coef(objective: LogisticObjective, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray | None:
    """The solver's parameter vector of ``(coef, intercept)``; None when the shapes differ."""
    if coef.shape != (objective.n_outputs, objective.n_features):
        return None
    B = coef.T
    if objective.fit_intercept:
        B = np.vstack([B, intercept[None, :]])
    return np.array(B.ravel() if objective.multinomial else B[:, 0], dtype=np.float64)
