"""Build the compiled kernels (logitfit.blocks._fused, logitfit.solvers._cd_kernels); the rest is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "logitfit.blocks._fused",
        ["src/logitfit/blocks/_fused.pyx"],
        depends=["src/logitfit/blocks/_fused_math.h"],
        # -fno-trapping-math lets GCC vectorise the elementwise selects
        # (_fused_math.h; no FP exception flags are read anywhere);
        # -ffp-contract=off keeps Dekker's exact product exact there.
        extra_compile_args=["-O3", "-fno-trapping-math", "-ffp-contract=off"],
    ),
    # cyclic coordinate-descent sweeps of the cd solver's inner problem
    Extension(
        "logitfit.solvers._cd_kernels",
        ["src/logitfit/solvers/_cd_kernels.pyx"],
        extra_compile_args=["-O3"],
    ),
]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}))
