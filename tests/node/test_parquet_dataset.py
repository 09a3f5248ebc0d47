"""Parquet datasets (the `yinji[arrow]` extra): typed columns as written, against the frame
they came from; a missing column is refused at registration."""

import numpy as np
import pytest

from yinji.node.catalog import CatalogError, Dataset, PolicyRule
from yinji.node.identity import init_node
from yinji.node.node import Node

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")


@pytest.fixture
def node(tmp_path):
    home = tmp_path / "n"
    init_node(home, "securities")
    (home / "data").mkdir()
    n = Node(home)
    yield n
    n.store.close()


def test_parquet_dataset_from_a_dataframe(node):
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"customer_id": [f"客户{i}" for i in range(500)] + ["客户0"],
                          "assets": np.append(rng.normal(0, 1e8, 500), -0.0),
                          "age": np.append(rng.integers(18, 99, 500), 18)})
    frame.to_parquet(node.home / "data" / "c.parquet")
    node.catalog.register(Dataset(
        id="c", kind="parquet", location="data/c.parquet",
        schema={"customer_id": "string", "assets": "float", "age": "int"},
        policy=[PolicyRule(columns=["*"])]), by="test")
    got = node.catalog.load("c", ["customer_id", "assets", "age"])
    assert got["customer_id"].tolist() == frame["customer_id"].tolist()
    assert np.array_equal(got["assets"], frame["assets"].to_numpy())
    assert got["age"].dtype == np.int64 and got["age"].tolist() == frame["age"].tolist()
    assert node.catalog.count_rows(node.catalog.get("c")) == len(frame)
    with pytest.raises(CatalogError, match="not found"):
        node.catalog.register(Dataset(id="d", kind="parquet", location="data/c.parquet",
                                      schema={"income": "float"}), by="test")
