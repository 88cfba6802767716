"""Build the compiled row kernels (logitfit.blocks._fused); everything else is in pyproject.toml."""

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
]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}))
