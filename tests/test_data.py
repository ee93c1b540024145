"""The data layer: lookup order, hash checks, atomic downloads, offline errors. No network:
downloads are exercised with file:// URLs to temporary files."""
import hashlib
import os
from dataclasses import replace

import pytest

from course_lib import data

SOURCES = {  # from ../shared/data/SOURCES.md
    "tinyshakespeare": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    "names": "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
    "eng-fra": "0054ea2102484f4800d0b2cca57460b6b4a2e05328e6954240601065b001b1a6",
    "analogies": "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
    "wordsim353": "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d",
    "simlex999": "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d",
    "ud-ewt-dev": "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6",
    "ud-ewt-test": "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd",
    "sst2-train": "e981ceb4fe6c9acd1c79851d0d091b9e78103f1f2a399ca83dda27915d41c56c",
    "sst2-dev": "84207e6be5873fb18db798cc6faec86871f5a426554650ff64a1c34e87665f6f",
    "sst2-test": "fcd46f967b7b8efd8b5398481dadf873886298d092195167af907fd532e81e1c",
}


def test_registry_matches_sources_md():
    assert {n: c.sha256 for n, c in data.REGISTRY.items()} == SOURCES
    for c in data.REGISTRY.values():
        assert c.url.startswith("https://") and c.license


def test_every_shared_file_verifies(shared_data):
    for name, corpus in data.REGISTRY.items():
        p = data.path(name)
        assert p.parent == shared_data and p.name == corpus.filename


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """An empty data dir and an empty cache."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()
    return tmp_path


def _fake_corpus(tmp_path, content: bytes, monkeypatch, **kw):
    src = tmp_path / "remote.txt"
    src.write_bytes(content)
    c = data.Corpus("fake", "fake.txt", src.as_uri(), hashlib.sha256(content).hexdigest(), "test", "test", **kw)
    monkeypatch.setitem(data.REGISTRY, "fake", c)
    return c


def test_offline_missing_file_names_file_url_and_env(isolated, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(data.DataNotFoundError) as err:
        data.path("names")
    msg = str(err.value)
    assert "names.txt" in msg and data.REGISTRY["names"].url in msg and "COURSE_DATA_DIR" in msg


def test_corrupted_copy_is_refused(isolated):
    (isolated / "data" / "names.txt").write_text("emma\nolivia\n")
    with pytest.raises(data.DataIntegrityError, match="sha256 .* != pinned"):
        data.path("names")


def test_download_verifies_then_caches_atomically(isolated, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    c = _fake_corpus(isolated, b"hello\nworld\n", monkeypatch)
    p = data.path("fake")
    assert p == isolated / "cache" / "fake.txt" and p.read_bytes() == b"hello\nworld\n"
    assert [f.name for f in p.parent.iterdir()] == ["fake.txt"]  # no temporary file left
    os.remove(isolated / "remote.txt")                             # now served from the cache
    assert data.path("fake") == p and c.sha256 == data.sha256_of(p)


def test_download_with_wrong_hash_writes_nothing(isolated, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    c = _fake_corpus(isolated, b"real content\n", monkeypatch)
    monkeypatch.setitem(data.REGISTRY, "fake", replace(c, sha256="0" * 64))
    with pytest.raises(data.DataIntegrityError, match="nothing was written"):
        data.path("fake")
    assert not (isolated / "cache").exists() or not any((isolated / "cache").iterdir())


def test_download_postprocess_keeps_complete_lines(isolated, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    raw = b"go\tva\nhi\tsalut\ntrunc"
    final = b"go\tva\nhi\tsalut\n"
    c = _fake_corpus(isolated, raw, monkeypatch)
    monkeypatch.setitem(data.REGISTRY, "fake", replace(
        c, sha256=hashlib.sha256(final).hexdigest(), download_sha256=hashlib.sha256(raw).hexdigest(),
        postprocess=data._keep_complete_lines))
    assert data.path("fake").read_bytes() == final


def test_failed_download_is_a_clear_error(isolated, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    c = _fake_corpus(isolated, b"x", monkeypatch)
    monkeypatch.setitem(data.REGISTRY, "fake", replace(c, url=(isolated / "nowhere.txt").as_uri()))
    with pytest.raises(data.DataNotFoundError, match="download failed"):
        data.path("fake")


def test_unknown_corpus():
    with pytest.raises(ValueError, match="unknown corpus 'text8'; known corpora"):
        data.path("text8")


def test_loaders(shared_data):
    assert len(data.load_lines("names")) == 32033  # the last name has no trailing newline
    pairs = data.load_pairs()
    assert len(pairs) == 76037 and pairs[0][0] and pairs[0][1]
    analogies = data.load_analogies()
    assert len(analogies) == 19544 and analogies[0][1:] == ("athens", "greece", "baghdad", "iraq")
    assert len(data.load_similarity("wordsim353")) == 353
    assert len(data.load_similarity("simlex999")) == 999
