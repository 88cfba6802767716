"""Term-wise tests (logitfit.inference.anova, the estimator's ``anova``): type II and III, Wald and LR.

Oracles: statsmodels ``GLM.from_formula(...).fit().wald_test_terms()`` (type
III Wald, nonrobust and HC0); reduced models refitted here by hand with
statsmodels (GLM on formulas or on the design without a term's columns,
MNLogit for three classes) for the LR tests; car's type II Wald test computed
here from its definition (the test of the directions V-orthogonal to the
relatives, through an explicit conjugate complement) for the interaction
model. Data: the UCLA admissions (``admit ~ gre + gpa + C(rank)``, 400 rows,
../shared/data/ucla-admissions) and a generated three-class set.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import linalg, stats

from logitfit import LogisticRegression, lr_test
from logitfit.inference.anova import model_terms, relatives

#: Agreement demanded by issue 17 for statistics, degrees of freedom and p-values.
TOL = 1e-6
#: Fit tolerance on max|grad J| (the mean loss): far below what TOL needs.
FIT_TOL = 1e-11
MAIN = "admit ~ gre + gpa + C(rank)"
INTERACTION = "admit ~ gre + gpa * C(rank)"


UCLA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ucla-admissions" / "binary.csv"


@pytest.fixture(scope="module")
def ucla() -> pd.DataFrame:
    if not UCLA.is_file():
        pytest.skip(f"published data {UCLA} is absent (../shared/data is not checked out here)")
    return pd.read_csv(UCLA)


def _glm(formula, data, **fit):
    return smf.glm(formula, data, family=sm.families.Binomial()).fit(tol=1e-13, **fit)


def _glm_llf(y, X):
    """Log-likelihood of the binomial GLM of y on the columns X (with a constant), refitted here."""
    return sm.GLM(y, sm.add_constant(X, has_constant="add"), family=sm.families.Binomial()).fit(tol=1e-13).llf


def _sm_terms(result):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' FutureWarning about scalar=
        table = result.wald_test_terms(scalar=True).table
    return table.drop(index="Intercept")


@pytest.mark.parametrize("formula", [MAIN, INTERACTION])
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_type3_wald_matches_statsmodels_wald_test_terms(ucla, formula, cov_type):
    model = LogisticRegression.from_formula(formula, ucla, tol=FIT_TOL)
    ours = model.anova(type=3, test="Wald", cov_type=cov_type)
    theirs = _sm_terms(_glm(formula, ucla, cov_type=cov_type))
    assert sorted(ours.index) == sorted(theirs.index)
    theirs = theirs.loc[ours.index]
    np.testing.assert_allclose(ours["statistic"], theirs["statistic"], rtol=TOL)
    np.testing.assert_array_equal(ours["df"], theirs["df_constraint"])
    np.testing.assert_allclose(ours["p_value"], theirs["pvalue"], rtol=TOL, atol=1e-12)


def test_main_effects_only_type2_equals_type3(ucla):
    model = LogisticRegression.from_formula(MAIN, ucla, tol=FIT_TOL)
    for test in ("Wald", "LR"):
        two, three = model.anova(type=2, test=test), model.anova(type=3, test=test)
        pd.testing.assert_frame_equal(two, three, rtol=1e-9)


def test_type3_lr_refits_without_each_term(ucla):
    model = LogisticRegression.from_formula(INTERACTION, ucla, tol=FIT_TOL)
    ours = model.anova(type=3, test="LR")
    X = model.encoder_.transform(ucla)
    y = ucla["admit"].to_numpy()
    names = list(model.encoder_.feature_names)
    full = _glm_llf(y, X)
    for term, row in ours.iterrows():
        keep = [j for j, n in enumerate(names) if not _in_term(n, term, names)]
        stat = 2 * (full - _glm_llf(y, X[:, keep]))
        assert row["df"] == len(names) - len(keep)
        np.testing.assert_allclose(row["statistic"], stat, rtol=TOL)
        np.testing.assert_allclose(row["p_value"], stats.chi2.sf(stat, row["df"]), rtol=TOL)


def _in_term(column: str, term: str, names: list[str]) -> bool:
    """Whether a design column belongs to a term, from the column's name alone (the oracle's rule)."""
    parts = column.split(":")
    want = term.split(":")
    bare = [p.split("[")[0] for p in parts]
    return sorted(bare) == sorted(want)


def test_type2_lr_against_formulas_refitted_by_hand(ucla):
    """car::Anova type II: each main effect tested without the interaction containing it."""
    model = LogisticRegression.from_formula(INTERACTION, ucla, tol=FIT_TOL)
    ours = model.anova(type=2, test="LR")
    llf = {f: _glm(f, ucla).llf for f in (
        "admit ~ gre + gpa * C(rank)", "admit ~ gpa * C(rank)",
        "admit ~ gre + gpa + C(rank)", "admit ~ gre + C(rank)", "admit ~ gre + gpa")}
    expect = {
        "gre": 2 * (llf["admit ~ gre + gpa * C(rank)"] - llf["admit ~ gpa * C(rank)"]),
        "gpa": 2 * (llf["admit ~ gre + gpa + C(rank)"] - llf["admit ~ gre + C(rank)"]),
        "C(rank)": 2 * (llf["admit ~ gre + gpa + C(rank)"] - llf["admit ~ gre + gpa"]),
        "gpa:C(rank)": 2 * (llf["admit ~ gre + gpa * C(rank)"] - llf["admit ~ gre + gpa + C(rank)"]),
    }
    for term, stat in expect.items():
        np.testing.assert_allclose(ours.loc[term, "statistic"], stat, rtol=TOL)
    # the interaction changes the main effects' tests: type II differs from type III there
    three = model.anova(type=3, test="LR")
    assert abs(ours.loc["C(rank)", "statistic"] - three.loc["C(rank)", "statistic"]) > 10
    np.testing.assert_allclose(ours.loc["gpa:C(rank)"], three.loc["gpa:C(rank)"], rtol=1e-9)


def _conj_comp(X: np.ndarray, Z: np.ndarray, ip: np.ndarray) -> np.ndarray:
    """Basis (columns) of the complement of span(X) in span(Z), orthogonal in the inner product ip."""
    # coordinates c in span(Z) with X^T ip Z c = 0
    null = linalg.null_space(X.T @ ip @ Z)
    return Z @ null


def test_type2_wald_is_cars_conjugate_complement_test(ucla):
    model = LogisticRegression.from_formula(INTERACTION, ucla, tol=FIT_TOL)
    ours = model.anova(type=2, test="Wald")
    inf = model._inference()
    V, b = model.cov_params(), inf.params
    terms = model_terms(inf)
    eye = np.eye(len(b))
    for term in terms:
        rel = [j for t in relatives(term, terms) for j in t.columns]
        if rel:
            H = _conj_comp(eye[rel].T, eye[[*rel, *term.columns]].T, V).T
        else:
            H = eye[list(term.columns)]
        d = H @ b
        stat = d @ np.linalg.solve(H @ V @ H.T, d)
        np.testing.assert_allclose(ours.loc[term.name, "statistic"], stat, rtol=TOL)
        assert ours.loc[term.name, "df"] == np.linalg.matrix_rank(H)


def test_containment_follows_the_formula(ucla):
    model = LogisticRegression.from_formula("admit ~ gre + np.log(gpa) + gpa * C(rank)", ucla)
    terms = {t.name: t for t in model_terms(model._inference())}
    assert [t.name for t in relatives(terms["gpa"], list(terms.values()))] == ["gpa:C(rank)"]
    assert [t.name for t in relatives(terms["C(rank)"], list(terms.values()))] == ["gpa:C(rank)"]
    assert relatives(terms["np.log(gpa)"], list(terms.values())) == []
    assert relatives(terms["gpa:C(rank)"], list(terms.values())) == []


def test_term_names_in_wald_test_and_lr_test(ucla):
    model = LogisticRegression.from_formula(MAIN, ucla, tol=FIT_TOL)
    three = model.anova(type=3, test="Wald")
    w = model.wald_test("C(rank)")
    assert w.df == 3
    np.testing.assert_allclose(w.statistic, three.loc["C(rank)", "statistic"], rtol=1e-12)
    joint = model.wald_test(["gre", "gpa"])
    by_equation = model.wald_test("gre = 0, gpa = 0")
    np.testing.assert_allclose(joint.statistic, by_equation.statistic, rtol=1e-12)
    lr = lr_test("C(rank)", model)
    expect = 2 * (_glm(MAIN, ucla).llf - _glm("admit ~ gre + gpa", ucla).llf)
    assert lr.df == 3
    np.testing.assert_allclose(lr.statistic, expect, rtol=TOL)
    lr2 = lr_test(["gre", "C(rank)"], model)
    expect2 = 2 * (_glm(MAIN, ucla).llf - _glm("admit ~ gpa", ucla).llf)
    assert lr2.df == 4
    np.testing.assert_allclose(lr2.statistic, expect2, rtol=TOL)
    with pytest.raises(ValueError, match="unknown term 'rank'.*C\\(rank\\)"):
        model.wald_test("rank")


def test_dataframe_columns_are_terms_and_arrays_have_one_term_per_column(ucla):
    frame = ucla.assign(rank=ucla["rank"].map({1: "r1", 2: "r2", 3: "r3", 4: "r4"}))
    X, y = frame[["gre", "gpa", "rank"]], frame["admit"].to_numpy()
    table = LogisticRegression(tol=FIT_TOL).fit(X, y).anova(type=3, test="LR")
    formula = LogisticRegression.from_formula(MAIN, ucla, tol=FIT_TOL).anova(type=3, test="LR")
    assert list(table.index) == ["gre", "gpa", "rank"]
    np.testing.assert_allclose(table["statistic"].to_numpy(), formula["statistic"].to_numpy(), rtol=1e-7)
    arr = LogisticRegression(tol=FIT_TOL).fit(ucla[["gre", "gpa"]].to_numpy(), y).anova(test="Wald")
    assert list(arr.index) == ["x0", "x1"] and list(arr["df"]) == [1, 1]


def test_multinomial_terms_against_mnlogit_refits():
    rng = np.random.default_rng(3)
    n = 600
    df = pd.DataFrame({"x": rng.normal(size=n), "u": rng.normal(size=n),
                       "g": rng.choice(["a", "b", "c"], n)})
    eta = np.column_stack([np.zeros(n), 0.8 * df.x + (df.g == "b"), -0.5 * df.x + 0.7 * (df.g == "c")])
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    df["y"] = [rng.choice(3, p=row) for row in p]
    model = LogisticRegression.from_formula("y ~ x + u + g", df, tol=FIT_TOL)
    ours = model.anova(type=3, test="LR")
    X = model.encoder_.transform(df)
    y = df["y"].to_numpy()

    def llf(cols):
        return sm.MNLogit(y, sm.add_constant(X[:, cols])).fit(disp=0, method="newton", tol=1e-14).llf

    full = llf([0, 1, 2, 3])
    for term, cols in (("x", [1, 2, 3]), ("u", [0, 2, 3]), ("g", [0, 1])):
        np.testing.assert_allclose(ours.loc[term, "statistic"], 2 * (full - llf(cols)), rtol=TOL)
    assert list(ours["df"]) == [2, 2, 4]
    wald = model.anova(type=3, test="Wald")
    res = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-14)
    # statsmodels' parameters: (constant, x, u, g[b], g[c]) per non-reference class
    V = np.asarray(res.cov_params())
    theta = np.asarray(res.params).T.ravel()  # class by class
    for term, cols in (("x", [1]), ("g", [3, 4])):
        idx = [m * 5 + j for m in range(2) for j in cols]
        d = theta[idx]
        np.testing.assert_allclose(wald.loc[term, "statistic"],
                                   d @ np.linalg.solve(V[np.ix_(idx, idx)], d), rtol=TOL)


def test_loaded_or_pickled_model_needs_its_data_for_lr(ucla, tmp_path):
    model = LogisticRegression.from_formula(INTERACTION, ucla, tol=FIT_TOL)
    expect_lr = model.anova(type=2, test="LR")
    expect_wald = model.anova(type=3, test="Wald")
    clone = pickle.loads(pickle.dumps(model))
    for test in ("LR", "Wald"):
        with pytest.raises(ValueError, match="no longer holds its training rows.*anova\\(X, y"):
            clone.anova(test=test)
    pd.testing.assert_frame_equal(clone.anova(ucla, test="LR"), expect_lr, rtol=1e-7)
    path = tmp_path / "m.json"
    model.save(path)
    from logitfit import load

    loaded = load(path)
    pd.testing.assert_frame_equal(loaded.anova(type=3, test="Wald"), expect_wald, rtol=1e-9)
    pd.testing.assert_frame_equal(loaded.anova(ucla, type=2, test="LR"), expect_lr, rtol=1e-7)


def test_refusals(ucla):
    model = LogisticRegression.from_formula(MAIN, ucla)
    with pytest.raises(ValueError, match="type must be 2 or 3"):
        model.anova(type=1)
    with pytest.raises(ValueError, match="test must be 'LR' or 'Wald'"):
        model.anova(test="score")
    with pytest.raises(ValueError, match="Wald test's covariance"):
        model.anova(test="LR", cov_type="HC0")
    ridge = LogisticRegression.from_formula(MAIN, ucla, penalty="l2", alpha=1e-3)
    with pytest.raises(ValueError, match="unpenalised maximum-likelihood"):
        ridge.anova(test="LR")
    assert len(ridge.anova(test="Wald")) == 3


def test_weights_and_formula_offsets_enter_the_reduced_fits():
    """LR with sample weights and an ``offset(...)`` term against statsmodels GLMs refitted by hand."""
    rng = np.random.default_rng(1)
    n = 300
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n),
                       "e": rng.uniform(0.5, 3, n)})
    df["y"] = (0.5 * df.x + (df.g == "b") + np.log(df.e) + rng.logistic(size=n) > 0).astype(int)
    w = rng.integers(1, 4, n).astype(float)
    model = LogisticRegression.from_formula("y ~ x + g + offset(np.log(e))", df, sample_weight=w,
                                            tol=FIT_TOL)
    ours = model.anova(type=3, test="LR")
    X, y, o = model.encoder_.transform(df), df["y"].to_numpy(), np.log(df["e"].to_numpy())

    def llf(cols):
        return sm.GLM(y, sm.add_constant(X[:, cols]), family=sm.families.Binomial(), offset=o,
                      freq_weights=w).fit(tol=1e-13).llf

    full = llf([0, 1, 2])
    np.testing.assert_allclose(ours.loc["x", "statistic"], 2 * (full - llf([1, 2])), rtol=TOL)
    np.testing.assert_allclose(ours.loc["g", "statistic"], 2 * (full - llf([0])), rtol=TOL)


def test_streamed_fit_and_a_model_without_intercept(ucla, tmp_path):
    """The reduced fits run on the fit's own row source: a scanned CSV gives the in-memory answer."""
    from logitfit import scan

    path = tmp_path / "ucla.csv"
    ucla.to_csv(path, index=False)
    cols = ["gre", "gpa", "rank"]
    streamed = LogisticRegression(tol=FIT_TOL).fit(scan(path, target="admit", features=cols,
                                                        memory_limit="1MB"))
    memory = LogisticRegression(tol=FIT_TOL).fit(ucla[cols], ucla["admit"])
    a, b = streamed.anova(type=3, test="LR"), memory.anova(type=3, test="LR")
    assert list(a.index) == list(b.index) == cols
    np.testing.assert_allclose(a["statistic"].to_numpy(), b["statistic"].to_numpy(), rtol=1e-8)
    # no intercept, one term: the reduced model has no parameter left (all probabilities 1/2)
    y = ucla["admit"].to_numpy()
    x = (ucla[["gpa"]] - 3.4).to_numpy()
    alone = LogisticRegression(fit_intercept=False, tol=FIT_TOL).fit(x, y).anova(type=3)
    res = sm.Logit(y, x).fit(disp=0, method="newton", tol=1e-14)
    np.testing.assert_allclose(alone["statistic"].iloc[0], 2 * (res.llf - len(y) * np.log(0.5)), rtol=TOL)
