"""The catalog keeps the typed columns of an unchanged file between jobs (node.yaml's
`dataset_cache_mb`), and never serves them once the file or its descriptor changed."""

import os

import pytest
import yaml

from yinji.node import catalog as cat
from yinji.node.catalog import CatalogError, Dataset
from yinji.node.config import ConfigError, NodeConfig
from yinji.node.identity import init_node
from yinji.node.node import Node


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "n"
    init_node(home, "securities")
    (home / "data").mkdir()
    (home / "data" / "c.csv").write_text("id,assets\nG1,10.5\nG2,20\n")
    return home


def _node(home, cache_mb=None):
    if cache_mb is not None:
        raw = yaml.safe_load((home / "node.yaml").read_text())
        raw["dataset_cache_mb"] = cache_mb
        (home / "node.yaml").write_text(yaml.safe_dump(raw))
    node = Node(home)
    node.catalog.register(Dataset("c", "csv", "data/c.csv",
                                  {"id": "string", "assets": "float"}), by="test")
    return node


@pytest.fixture
def reads(monkeypatch):
    count = [0]
    real = cat.Catalog._read_csv

    def counting(self, ds, columns):
        count[0] += 1
        return real(self, ds, columns)

    monkeypatch.setattr(cat.Catalog, "_read_csv", counting)
    return count


def test_unchanged_file_is_read_once_and_served_read_only(home, reads):
    node = _node(home)
    a, ka = node.catalog.load_keyed("c", ["id", "assets"])
    b, kb = node.catalog.load_keyed("c", ["id", "assets"])
    assert reads[0] == 1 and ka == kb and ka is not None
    assert b["assets"].tolist() == [10.5, 20.0] and b["id"].tolist() == ["G1", "G2"]
    with pytest.raises(ValueError, match="read-only"):
        b["assets"][0] = 0.0
    b["assets"] = None  # the dict handed out is the caller's own
    assert node.catalog.load("c", ["assets"])["assets"].tolist() == [10.5, 20.0]
    node.store.close()


def test_a_changed_file_or_descriptor_is_read_again(home, reads):
    node = _node(home)
    _, k1 = node.catalog.load_keyed("c", ["assets"])
    path = home / "data" / "c.csv"
    path.write_text("id,assets\nG1,11\nG2,20\n")       # same size: mtime/inode tell
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    cols, k2 = node.catalog.load_keyed("c", ["assets"])
    assert cols["assets"].tolist() == [11.0, 20.0] and k2 != k1 and reads[0] == 2
    node.catalog.update(Dataset("c", "csv", "data/c.csv", {"id": "string", "assets": "float"}),
                        by="test")                      # revision 2: a new key
    _, k3 = node.catalog.load_keyed("c", ["assets"])
    assert k3 not in (k1, k2) and reads[0] == 3
    _, k4 = node.catalog.load_keyed("c", ["id", "assets"])   # other columns: other key
    assert k4 != k3
    node.store.close()


def test_a_file_swapped_for_a_symlink_is_refused_even_when_cached(home, tmp_path):
    node = _node(home)
    node.catalog.load("c", ["assets"])
    outside = tmp_path / "secret.csv"
    outside.write_text("id,assets\nX,1\n")
    path = home / "data" / "c.csv"
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(CatalogError, match="data roots"):
        node.catalog.load("c", ["assets"])
    node.store.close()


def test_cache_off_reads_every_time_and_bad_setting_is_named(home, reads):
    node = _node(home, cache_mb=0)
    node.catalog.load("c", ["assets"])
    node.catalog.load("c", ["assets"])
    assert reads[0] == 2
    node.store.close()
    raw = yaml.safe_load((home / "node.yaml").read_text())
    for bad in (-1, "1GB", True):
        raw["dataset_cache_mb"] = bad
        (home / "node.yaml").write_text(yaml.safe_dump(raw))
        with pytest.raises(ConfigError, match="dataset_cache_mb"):
            NodeConfig.load(home)


def test_columns_larger_than_the_cache_are_served_not_kept(home, reads):
    node = _node(home)
    node.catalog._columns_cache = cat.cachetools.LRUCache(maxsize=16,
                                                          getsizeof=cat._cached_size)
    node.catalog.load("c", ["id", "assets"])
    node.catalog.load("c", ["id", "assets"])
    assert reads[0] == 2 and len(node.catalog._columns_cache) == 0
    node.store.close()
