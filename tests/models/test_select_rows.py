"""``select_rows``: a CSR matrix's rows taken from its arrays, as scipy's indexing takes them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lmrec.models.base import select_rows


@pytest.mark.parametrize(
    "rows", [[3], [0, 49, 3, 3], list(range(50)), [], [7, 8]], ids=lambda r: f"{len(r)} rows"
)
def test_select_rows_equals_fancy_indexing(rows: list[int]) -> None:
    m = sp.random(50, 30, density=0.2, format="csr", random_state=0, dtype=np.float32)
    m = sp.csr_matrix(m.multiply(np.arange(50)[:, None] % 5 != 0))  # every fifth row empty
    idx = np.asarray(rows, dtype=np.int64)
    got, want = select_rows(m, idx), m[idx]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.toarray(), want.toarray())
    np.testing.assert_array_equal(got.indptr, want.indptr)
