"""Build the compiled kernels (logitfit.blocks._fused, logitfit.solvers._cd_kernels,
logitfit.solvers._gram_kernels).

Everything else is in pyproject.toml. The kernels are optional: where no C
compiler is available the build says so and logitfit installs with its numpy
and Python code paths (the same results, slower).
"""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

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
    # weighted Gram updates of the cd solver's Hessian cache
    Extension(
        "logitfit.solvers._gram_kernels",
        ["src/logitfit/solvers/_gram_kernels.pyx"],
        extra_compile_args=["-O3"],
    ),
]


class OptionalBuildExt(build_ext):
    """build_ext that warns instead of failing when the C compiler is missing or fails."""

    failed: set

    def run(self):
        self.failed = set()
        try:
            super().run()
        except (CCompilerError, ExecError, PlatformError, OSError) as exc:
            self._skip(exc)
            self.extensions = []

    def build_extensions(self):
        super().build_extensions()
        # what was not built is not an output (nor copied by editable installs)
        self.extensions = [e for e in self.extensions if e.name not in self.failed]

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except (CCompilerError, ExecError, PlatformError, OSError) as exc:
            self.failed.add(ext.name)
            self._skip(exc)

    @staticmethod
    def _skip(exc):
        print(
            f"WARNING: logitfit's compiled kernels were not built ({exc}); "
            "it will run on its numpy kernels, which give the same results more slowly. "
            "Install a C compiler (gcc) and the Python headers to build them.",
            file=sys.stderr,
        )


setup(
    ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}),
    cmdclass={"build_ext": OptionalBuildExt},
)
