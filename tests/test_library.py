"""Files added and removed from the browser: no name escapes the corpus, and a write is whole or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from labchat.errors import LabchatError
from labchat.settings import Settings
from labchat.web import library


@pytest.fixture
def folder(tmp_path: Path) -> Settings:
    """An empty corpus folder beside a file that must never be touched."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "outside.md").write_text("outside\n")
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", upload_mb=1)


def _upload(tmp_path: Path, data: bytes = b"# Notes\n\nSome text.\n") -> Path:
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    return source


@pytest.mark.parametrize("name", [
    "../../x.md", "../outside.md", "/etc/x.md", "sub/x.md", "..\\x.md", "C:\\x.md", "..", ".", "",
    ".hidden.md", ".md", "x\x00.md", "x\n.md", "x.exe", "x.md.sh", "x", "x" * 300 + ".md",
])
def test_hostile_or_unsupported_names_are_refused(name: str) -> None:
    with pytest.raises(LabchatError, match="refused"):
        library.check_name(name)


@pytest.mark.parametrize("name", ["notes.md", "Report 2024.PDF", "中文笔记.txt", "slides.pptx", "page.html",
                                  "a..b.md"])
def test_plain_names_of_accepted_types_pass(name: str) -> None:
    assert library.check_name(name) == name


def test_an_upload_lands_whole_and_leaves_nothing_else(folder: Settings, tmp_path: Path) -> None:
    data = b"# Notes\n\n" + b"x" * 100_000
    assert library.add(folder, "notes.md", _upload(tmp_path, data)) is False
    assert (folder.corpus_dir / "notes.md").read_bytes() == data
    assert [p.name for p in folder.corpus_dir.iterdir()] == ["notes.md"]  # no partial file left behind


def test_an_upload_of_the_same_name_replaces_the_file(folder: Settings, tmp_path: Path) -> None:
    (folder.corpus_dir / "notes.md").write_text("old\n")
    assert library.add(folder, "notes.md", _upload(tmp_path, b"new\n")) is True
    assert (folder.corpus_dir / "notes.md").read_text() == "new\n"


def test_escaping_names_write_nothing_anywhere(folder: Settings, tmp_path: Path) -> None:
    for name in ("../outside.md", "/tmp/x.md", ".hidden.md"):
        with pytest.raises(LabchatError):
            library.add(folder, name, _upload(tmp_path, b"evil\n"))
    assert (tmp_path / "outside.md").read_text() == "outside\n"
    assert list(folder.corpus_dir.iterdir()) == []


def test_a_file_over_the_limit_is_refused_and_says_the_limit(folder: Settings, tmp_path: Path) -> None:
    with pytest.raises(LabchatError, match="larger than 1 MB"):
        library.add(folder, "big.md", _upload(tmp_path, b"x" * (2**20 + 1)))
    assert list(folder.corpus_dir.iterdir()) == []


def test_an_upload_never_writes_through_a_link(folder: Settings, tmp_path: Path) -> None:
    (folder.corpus_dir / "linked.md").symlink_to(tmp_path / "outside.md")
    (folder.corpus_dir / "folder.md").mkdir()
    for name in ("linked.md", "folder.md"):
        with pytest.raises(LabchatError, match="link or folder"):
            library.add(folder, name, _upload(tmp_path, b"evil\n"))
    assert (tmp_path / "outside.md").read_text() == "outside\n"


def test_only_known_files_are_removed_and_a_link_not_its_target(folder: Settings, tmp_path: Path) -> None:
    (folder.corpus_dir / "a.md").write_text("a\n")
    (folder.corpus_dir / "linked.md").symlink_to(tmp_path / "outside.md")
    known = {"a.md", "linked.md", "../outside.md"}  # even a crafted list cannot lead outside
    for rel in ("../outside.md", "b.md", "/etc/passwd"):
        with pytest.raises(LabchatError, match="not a document of this corpus"):
            library.remove(folder, rel, known)
    library.remove(folder, "a.md", known)
    library.remove(folder, "linked.md", known)
    assert list(folder.corpus_dir.iterdir()) == []
    assert (tmp_path / "outside.md").read_text() == "outside\n"


def test_read_only_refuses_every_edit(folder: Settings, tmp_path: Path) -> None:
    read_only = folder.with_(read_only=True)
    (folder.corpus_dir / "a.md").write_text("a\n")
    with pytest.raises(LabchatError, match="read-only"):
        library.add(read_only, "new.md", _upload(tmp_path))
    with pytest.raises(LabchatError, match="read-only"):
        library.remove(read_only, "a.md", {"a.md"})
    assert [p.name for p in folder.corpus_dir.iterdir()] == ["a.md"]
