"""Writing outputs: tables written a slice at a time read back as pandas wrote them in one go."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.data.store import write_table


@pytest.mark.parametrize("rows", [0, 1, 1000])
def test_write_table_in_slices_reads_back_like_to_parquet(tmp_path, rows):
    frame = pd.DataFrame({
        "text": pd.Series(["a", "b", None, "c"] * 250, dtype="str"), "late_text": [None] * 600 + ["x"] * 400,
        "category": pd.Categorical(["u", "v"] * 500), "ids": [["E1", "E2"]] * 1000, "empty": [()] * 500 + [("p",)] * 500,
        "at": pd.date_range("2024-01-01", periods=1000, freq="h"), "value": np.arange(1000) / 3,
        "fired": [True, False] * 500, "count": pd.array([1, None] * 500, dtype="Int8")}).iloc[:rows]
    frame.to_parquet(tmp_path / "pandas.parquet", index=False)
    write_table(frame, tmp_path / "slices.parquet", chunk_rows=128)  # the text column's first slice has no None
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "slices.parquet"), pd.read_parquet(tmp_path / "pandas.parquet"))
    if rows > 128:
        import pyarrow.parquet as pq

        assert pq.ParquetFile(tmp_path / "slices.parquet").num_row_groups == -(-rows // 128)
