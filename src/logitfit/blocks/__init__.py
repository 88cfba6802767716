"""Where the rows live: one map-reduce protocol over blocks of rows (:mod:`logitfit.blocks.protocol`).

Implementations: in memory (:mod:`~logitfit.blocks.memory`, with the compiled
kernels of :mod:`~logitfit.blocks.fused`), streamed from files
(:mod:`~logitfit.blocks.stream`) and on Dask (:mod:`~logitfit.blocks.distributed`).
"""

from logitfit.blocks.memory import InMemoryBlocks
from logitfit.blocks.protocol import (
    Block,
    BlockKernel,
    Blocks,
    CountedBlocks,
    InMemoryRows,
    sum_tuples,
)
from logitfit.blocks.threads import default_threads

__all__ = [
    "Block",
    "BlockKernel",
    "Blocks",
    "CountedBlocks",
    "InMemoryBlocks",
    "InMemoryRows",
    "default_threads",
    "sum_tuples",
]
