/* logitfit explain page: the arithmetic. The same formulas as the library, written once here:
 *   sigmoid, loss terms, residual  -> logitfit._numerics (sigmoid, binary_loss_terms, binary_residual)
 *   cost, gradient                 -> logitfit.model.textbook (cost, gradient)
 *   derivation rows 1-6, fd step   -> logitfit.explain.steps (_step_values, fd_step, derivation)
 *   squared error and curvature    -> logitfit.explain.landscape (squared_error)
 *   momentum, Adam                 -> logitfit.explain.landscape (_run_explicit)
 * Means use NumPy's pairwise summation, so a mean of the same terms is the same double.
 * tests/test_explain_page.py checks every function against the library to 1e-12 relative. */
"use strict";
(function (root) {
  // NumPy's pairwise_sum (numpy/_core/src/umath/loops_utils.h): 8 accumulators up to 128 terms.
  function pairwiseSum(a, lo, n) {
    if (n < 8) {
      let r = 0.0;
      for (let i = lo; i < lo + n; i++) r += a[i];
      return r;
    }
    if (n <= 128) {
      const r = [a[lo], a[lo + 1], a[lo + 2], a[lo + 3], a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]];
      let i = 8;
      for (; i < n - (n % 8); i += 8) {
        for (let k = 0; k < 8; k++) r[k] += a[lo + i + k];
      }
      let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (; i < n; i++) res += a[lo + i];
      return res;
    }
    let n2 = Math.floor(n / 2);
    n2 -= n2 % 8;
    return pairwiseSum(a, lo, n2) + pairwiseSum(a, lo + n2, n - n2);
  }
  function sum(a) { return a.length ? pairwiseSum(a, 0, a.length) : 0.0; }
  function mean(a) { return sum(a) / a.length; }

  // _numerics.sigmoid: only exp of a non-positive number is taken.
  function sigmoid(z) {
    const e = Math.exp(-Math.abs(z));
    return z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  }
  // _numerics.binary_loss_terms: (max(z,0) - y z) + log1p(exp(-|z|)) = -[y log h + (1-y) log(1-h)].
  function lossTerm(z, y) { return (Math.max(z, 0) - y * z) + Math.log1p(Math.exp(-Math.abs(z))); }
  // _numerics.binary_residual: sigmoid(z) - y without cancellation.
  function residual(z, y) {
    const e = Math.exp(-Math.abs(z));
    const s = e / (1.0 + e);
    return z > 0 ? (1.0 - y) - s : s - y;
  }

  // The data: X is an array of rows [1, x1, (x2)], y an array of 0/1.
  function linear(theta, X) {
    const z = new Array(X.length);
    for (let i = 0; i < X.length; i++) {
      const x = X[i];
      let s = 0.0;
      for (let j = 0; j < theta.length; j++) s += x[j] * theta[j];
      z[i] = s;
    }
    return z;
  }
  // textbook.cost: J = mean_i binary_loss_terms(theta^T x_i, y_i), at each theta of a list (the
  // contour grid) with one buffer; theta^T x is summed in the order linear() uses.
  function costs(thetas, X, y) {
    const m = X.length;
    const terms = new Float64Array(m);
    return thetas.map((t) => {
      for (let i = 0; i < m; i++) {
        const x = X[i];
        let s = 0.0;
        for (let j = 0; j < t.length; j++) s += x[j] * t[j];
        terms[i] = lossTerm(s, y[i]);
      }
      return pairwiseSum(terms, 0, m) / m;
    });
  }
  function cost(theta, X, y) { return costs([theta], X, y)[0]; }
  // textbook.gradient: (1/m) X^T binary_residual(X theta, y).
  function gradient(theta, X, y) {
    const z = linear(theta, X);
    const r = z.map((zi, i) => residual(zi, y[i]));
    const g = [];
    for (let j = 0; j < theta.length; j++) g.push(sum(r.map((ri, i) => ri * X[i][j])) / X.length);
    return g;
  }

  // steps.fd_step: eps^(1/3) * max(|theta_j|, 1/rms(x_j)).
  function fdStep(thetaJ, xj, factor) {
    const rms = Math.sqrt(mean(xj.map((v) => v * v)));
    const unit = rms > 0 ? 1.0 / rms : 1.0;
    return factor * Math.max(Math.abs(thetaJ), unit);
  }

  // steps._step_values rows 1-6 and steps.derivation's comparisons (row 7, the block
  // objective, exists only in the library). Rows 1-3 are null where h rounds to 0 or 1.
  function derivation(X, y, theta, j, fdFactor) {
    const m = X.length;
    const z = linear(theta, X);
    const x = X.map((row) => row[j]);
    const h = z.map(sigmoid);
    const q = z.map((v) => sigmoid(-v)); // 1 - h without cancellation
    const defined = h.every((v) => v !== 0) && q.every((v) => v !== 0);
    const rows = [];
    if (defined) {
      const t1 = [], t2 = [], t3 = [];
      for (let i = 0; i < m; i++) {
        const e = Math.exp(-Math.abs(z[i]));
        const ds = e / ((1.0 + e) * (1.0 + e)); // quotient rule; sigma' is even
        t1.push(y[i] * (ds / h[i]) * x[i] + (1.0 - y[i]) * (-ds / q[i]) * x[i]);
        t2.push((y[i] / h[i] - (1.0 - y[i]) / q[i]) * (h[i] * q[i]) * x[i]);
        t3.push((y[i] * q[i] - (1.0 - y[i]) * h[i]) * x[i]);
      }
      rows.push(-mean(t1), -mean(t2), -mean(t3));
    } else {
      rows.push(null, null, null);
    }
    rows.push(mean(h.map((hi, i) => (hi - y[i]) * x[i])));
    const d = fdStep(theta[j], x, fdFactor);
    const tp = theta.slice(), tm = theta.slice();
    tp[j] += d;
    tm[j] -= d;
    rows.push((cost(tp, X, y) - cost(tm, X, y)) / ((tp[j] - theta[j]) + (theta[j] - tm[j])));
    rows.push(gradient(theta, X, y)[j]);
    let scale = mean(h.map((hi, i) => Math.abs((hi - y[i]) * x[i])));
    scale = scale > 0 ? scale : 1.0;
    const closed = 3;
    const out = rows.map((v, k) => {
      const ref = k === 0 ? null : (k <= closed ? k - 1 : closed);
      const diff = ref === null || v === null || rows[ref] === null ? NaN : v - rows[ref];
      return { value: v, against: ref, diff: diff, rel: Math.abs(diff) / scale };
    });
    return { rows: out, scale: scale, step: d, defined: defined };
  }

  // landscape.squared_error: E = (1/(2m)) sum (h - y)^2, and its second derivative along e_k,
  // (1/m) sum w_i x_ik^2 with w = s (s + r (q - h)), s = h q, r = h - y. The log loss's is
  // (1/m) sum h q x_ik^2 >= 0.
  function sliceCosts(theta, X, y, k) {
    const z = linear(theta, X);
    const r2 = [], wE = [], wJ = [], lt = [];
    for (let i = 0; i < X.length; i++) {
      const h = sigmoid(z[i]), q = sigmoid(-z[i]);
      const r = h - y[i], s = h * q, xk = X[i][k];
      r2.push(r * r);
      wE.push(s * (s + r * (q - h)) * xk * xk);
      wJ.push(s * xk * xk);
      lt.push(lossTerm(z[i], y[i]));
    }
    return { J: mean(lt), E: 0.5 * sum(r2) / X.length, curvJ: mean(wJ), curvE: mean(wE) };
  }

  // One step of each optimizer; state {v, s, k} as in landscape._run_explicit.
  // gd is the library's fixed-step solver: theta <- theta - lr grad J.
  function descentStep(name, theta, g, state, lr, hyper) {
    const n = theta.length;
    if (name === "gd") return theta.map((t, j) => t - lr * g[j]);
    if (name === "momentum") {
      for (let j = 0; j < n; j++) state.v[j] = hyper.momentum * state.v[j] + g[j];
      return theta.map((t, j) => t - lr * state.v[j]);
    }
    const [b1, b2, eps] = hyper.adam;
    state.k += 1;
    const out = theta.slice();
    for (let j = 0; j < n; j++) {
      state.v[j] = b1 * state.v[j] + (1 - b1) * g[j];
      state.s[j] = b2 * state.s[j] + (1 - b2) * g[j] * g[j];
      const vhat = state.v[j] / (1 - Math.pow(b1, state.k));
      const shat = state.s[j] / (1 - Math.pow(b2, state.k));
      out[j] = theta[j] - lr * vhat / (Math.sqrt(shat) + eps);
    }
    return out;
  }

  root.LogitfitMath = {
    sum, mean, sigmoid, lossTerm, residual, linear, cost, costs, gradient, fdStep, derivation,
    sliceCosts, descentStep,
  };
})(typeof window !== "undefined" ? window : globalThis);
