"""The estimators a user holds: ``LogisticRegression``, ``LogisticRegressionCV``, paths, Dask fits."""
