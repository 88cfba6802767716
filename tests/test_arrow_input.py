"""numpy <-> Arrow through buffers (data.arrow_input.to_numpy / from_numpy) against pyarrow's own."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from logitfit.data.arrow_input import from_numpy, to_numpy

DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.int8, np.uint16, np.bool_])


@settings(max_examples=100)
@given(values=hnp.arrays(DTYPES, st.integers(0, 50)), cut=st.integers(0, 50))
def test_round_trip_equals_pyarrow(values, cut):
    arr = from_numpy(values)
    arr.validate(full=True)
    np.testing.assert_array_equal(np.array(arr.to_pylist(), dtype=values.dtype),
                                  np.array(pa.array(values).to_pylist(), dtype=values.dtype))
    back = to_numpy(arr)
    np.testing.assert_array_equal(back, values)
    assert back.dtype == values.dtype
    # slices and several chunks keep their offsets
    k = min(cut, len(values))
    chunked = pa.chunked_array([arr.slice(k), arr.slice(0, k)], type=arr.type)
    np.testing.assert_array_equal(to_numpy(chunked), np.concatenate([values[k:], values[:k]]))


@settings(max_examples=50)
@given(st.lists(st.text(max_size=8), max_size=30))
def test_strings_round_trip(strings):
    arr = from_numpy(np.array(strings, dtype=object))
    arr.validate(full=True)
    assert arr.type == pa.string() and arr.to_pylist() == strings


def test_nulls_and_other_types_fall_back_to_pyarrow():
    np.testing.assert_array_equal(to_numpy(pa.array([1.0, None, 3.0])), [1.0, np.nan, 3.0])
    assert to_numpy(pa.array(["a", "b"])).tolist() == ["a", "b"]


def test_conversions_do_not_import_pandas():
    code = ("import sys, numpy as np; from logitfit.data.arrow_input import to_numpy, from_numpy; "
            "to_numpy(from_numpy(np.arange(5.0))); from_numpy(np.array(['a'], dtype=object)); "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
