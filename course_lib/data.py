"""The course's real corpora: found locally, or downloaded once, always hash-checked.

Each corpus has a canonical public URL (pinned to a commit), a sha256 and a license line.
Where a file is looked for, in order:

1. ``$COURSE_DATA_DIR/<file>`` (a folder of copies, e.g. the one CI and the tests use);
2. the user cache: ``$COURSE_CACHE_DIR``, else ``$XDG_CACHE_HOME/rnn-course``, else ``~/.cache/rnn-course``;
3. a download into the cache, unless ``COURSE_OFFLINE=1``.

A file is used only when its sha256 matches; a download is verified before it lands in
the cache and is written atomically (a temporary file, then a rename), so the cache never
holds half a file. Nothing here touches the network unless a file is missing everywhere.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


class DataNotFoundError(FileNotFoundError):
    """A corpus is neither in COURSE_DATA_DIR nor in the cache, and could not be downloaded."""


class DataIntegrityError(ValueError):
    """A local or downloaded file does not have the pinned sha256."""


def _keep_complete_lines(raw: bytes) -> bytes:
    """Drop a last line that has no newline (the source upload of eng-fra ends mid-line)."""
    cut = raw.rfind(b"\n")
    return raw[: cut + 1] if cut >= 0 else b""


@dataclass(frozen=True)
class Corpus:
    name: str
    filename: str
    url: str
    sha256: str
    license: str
    description: str
    # When the file at ``url`` is not byte-identical to the course's file, the download is
    # checked against ``download_sha256`` and turned into the course's file by ``postprocess``.
    download_sha256: str | None = None
    postprocess: Callable[[bytes], bytes] | None = None


_GH = "https://raw.githubusercontent.com"
REGISTRY: dict[str, Corpus] = {c.name: c for c in [
    Corpus("tinyshakespeare", "tinyshakespeare.txt",
           f"{_GH}/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
           "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
           "Shakespeare's text is public domain; karpathy/char-rnn is MIT.",
           "40,000 lines of Shakespeare's plays (1,115,394 characters)."),
    Corpus("names", "names.txt",
           f"{_GH}/karpathy/makemore/988aa59e4d8fefa526d06f3b453ad116258398d4/names.txt",
           "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
           "karpathy/makemore is MIT; names from US SSA baby-name data (US government work).",
           "32,032 lower-case first names, one per line."),
    Corpus("eng-fra", "eng-fra.txt",
           f"{_GH}/Soubhagya264/Language_Translator-Encoder-Decoder-/f6c89651306aa93d2f0f0447ce15b553a530abb0/fra.txt",
           "0054ea2102484f4800d0b2cca57460b6b4a2e05328e6954240601065b001b1a6",
           "Tatoeba sentences, CC-BY 2.0 FR (Tatoeba.org contributors; pairs compiled by manythings.org/anki).",
           "76,037 English<TAB>French sentence pairs (short sentences).",
           download_sha256="ab1d28db65ab062e06d7fc3b399872d431becfb8af152268dc4b6cdf50260530",
           postprocess=_keep_complete_lines),
    Corpus("analogies", "questions-words.txt",
           f"{_GH}/tmikolov/word2vec/20c129af10659f7c50e86e3be406df663beff438/questions-words.txt",
           "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
           "Apache-2.0 (tmikolov/word2vec); Mikolov et al. 2013.",
           "19,544 word analogy questions a:b :: c:d in 14 sections."),
    Corpus("wordsim353", "wordsim353.tsv",
           f"{_GH}/piskvorky/gensim/37f90ec121eb7cd401448a947e80953e0c53ccdc/gensim/test/test_data/wordsim353.tsv",
           "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d",
           "Research test collection, licence unclear; cite Finkelstein et al. 2002 (redistributed in gensim, LGPL-2.1).",
           "353 word pairs with human similarity scores (0-10)."),
    Corpus("simlex999", "simlex999.txt",
           f"{_GH}/piskvorky/gensim/37f90ec121eb7cd401448a947e80953e0c53ccdc/gensim/test/test_data/simlex999.txt",
           "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d",
           "Research test collection, licence unclear; cite Hill, Reichart & Korhonen 2015 (redistributed in gensim, LGPL-2.1).",
           "999 word pairs with human similarity scores (0-10)."),
    Corpus("ud-ewt-dev", "en_ewt-ud-dev.conllu",
           f"{_GH}/UniversalDependencies/UD_English-EWT/15d613d8447b3478787d4c278730a1e48a945efb/en_ewt-ud-dev.conllu",
           "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6",
           "CC BY-SA 4.0 (UD_English-EWT README); cite Silveira et al. 2014 and the Universal Dependencies project.",
           "UD English EWT dev split, CoNLL-U: 2,001 sentences, 25,147 words, 17 universal POS tags."),
    Corpus("ud-ewt-test", "en_ewt-ud-test.conllu",
           f"{_GH}/UniversalDependencies/UD_English-EWT/15d613d8447b3478787d4c278730a1e48a945efb/en_ewt-ud-test.conllu",
           "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd",
           "CC BY-SA 4.0 (UD_English-EWT README); cite Silveira et al. 2014 and the Universal Dependencies project.",
           "UD English EWT test split, CoNLL-U: 2,077 sentences, 25,094 words, 17 universal POS tags."),
    Corpus("sst2-train", "sst2-train.tsv",
           f"{_GH}/awake020/pytorch_Bert_sst2/ce2ab1719d32182e6233b24b2de246bd32814fde/SST-2/train.tsv",
           "e981ceb4fe6c9acd1c79851d0d091b9e78103f1f2a399ca83dda27915d41c56c",
           "Research data set, licence unclear; cite Socher et al. 2013 (Stanford Sentiment Treebank).",
           "SST-2 (GLUE) training split: 67,349 labelled phrases, label<TAB>sentence, lower-cased and tokenised."),
    Corpus("sst2-dev", "sst2-dev.tsv",
           f"{_GH}/awake020/pytorch_Bert_sst2/ce2ab1719d32182e6233b24b2de246bd32814fde/SST-2/dev.tsv",
           "84207e6be5873fb18db798cc6faec86871f5a426554650ff64a1c34e87665f6f",
           "Research data set, licence unclear; cite Socher et al. 2013 (Stanford Sentiment Treebank).",
           "SST-2 dev split: 872 labelled sentences."),
    Corpus("sst2-test", "sst2-test.tsv",
           f"{_GH}/awake020/pytorch_Bert_sst2/ce2ab1719d32182e6233b24b2de246bd32814fde/SST-2/test.tsv",
           "fcd46f967b7b8efd8b5398481dadf873886298d092195167af907fd532e81e1c",
           "Research data set, licence unclear; cite Socher et al. 2013 (Stanford Sentiment Treebank).",
           "SST-2 test split: 1,821 labelled sentences (the original SST binary test set)."),
]}


def cache_dir() -> Path:
    """The per-user cache folder where downloads are kept."""
    if os.environ.get("COURSE_CACHE_DIR"):
        return Path(os.environ["COURSE_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rnn-course"


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _corpus(name: str) -> Corpus:
    if not isinstance(name, str):
        raise TypeError(f"corpus name must be a str, got {type(name).__name__}")
    if name not in REGISTRY:
        raise ValueError(f"unknown corpus {name!r}; known corpora: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def _verified(path: Path, corpus: Corpus, where: str) -> Path:
    actual = sha256_of(path)
    if actual != corpus.sha256:
        raise DataIntegrityError(
            f"{path} ({where}) is not the expected {corpus.filename}: sha256 {actual} != pinned {corpus.sha256}. "
            f"The copy is corrupted or a different version. Delete it (or copy the original from {corpus.url}) "
            "and try again.")
    return path


def _download(corpus: Corpus, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(corpus.url, timeout=60) as response:  # noqa: S310 (pinned https URL)
        raw = response.read()
    expected = corpus.download_sha256 or corpus.sha256
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise DataIntegrityError(f"download of {corpus.url} has sha256 {actual}, expected {expected}; "
                                 "nothing was written to the cache.")
    if corpus.postprocess is not None:
        raw = corpus.postprocess(raw)
        if hashlib.sha256(raw).hexdigest() != corpus.sha256:
            raise DataIntegrityError(f"{corpus.filename}: the processed download does not match the pinned sha256")
    # Atomic write: a reader sees either no file or the whole verified file.
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return dest


def path(name: str) -> Path:
    """Return the local path of corpus ``name``, verified against its sha256.

    >>> path("tinyshakespeare").name
    'tinyshakespeare.txt'
    """
    corpus = _corpus(name)
    data_dir = os.environ.get("COURSE_DATA_DIR")
    if data_dir:
        candidate = Path(data_dir).expanduser() / corpus.filename
        if candidate.is_file():
            return _verified(candidate, corpus, "from COURSE_DATA_DIR")
    cached = cache_dir() / corpus.filename
    if cached.is_file():
        return _verified(cached, corpus, "in the course cache")
    if os.environ.get("COURSE_OFFLINE", "").strip() not in ("", "0"):
        raise DataNotFoundError(_missing_message(corpus, data_dir, "COURSE_OFFLINE is set, so nothing is downloaded"))
    try:
        return _download(corpus, cached)
    except DataIntegrityError:
        raise
    except OSError as exc:  # URLError is an OSError: no network, DNS failure, HTTP error
        raise DataNotFoundError(_missing_message(corpus, data_dir, f"the download failed: {exc}")) from exc


def _missing_message(corpus: Corpus, data_dir: str | None, why: str) -> str:
    looked = f"COURSE_DATA_DIR={data_dir!r}" if data_dir else "COURSE_DATA_DIR (not set)"
    return (f"{corpus.filename} not found ({why}). Looked in {looked} and the cache {cache_dir()}. "
            f"Get it from {corpus.url} (sha256 {corpus.sha256}) and put it in a folder named by "
            "COURSE_DATA_DIR, e.g. COURSE_DATA_DIR=../shared/data.")


def load_text(name: str) -> str:
    """The whole corpus as one string (UTF-8)."""
    return path(name).read_text(encoding="utf-8")


def load_lines(name: str) -> list[str]:
    """Non-empty lines of a corpus, without trailing newlines (e.g. ``names``)."""
    return [line for line in load_text(name).splitlines() if line.strip()]


def load_pairs(name: str = "eng-fra") -> list[tuple[str, str]]:
    """Tab-separated sentence pairs as ``(source, target)``; extra columns are ignored."""
    pairs = []
    for line in load_lines(name):
        fields = line.split("\t")
        if len(fields) >= 2:
            pairs.append((fields[0], fields[1]))
    return pairs


def load_analogies() -> list[tuple[str, str, str, str, str]]:
    """word2vec analogy questions as ``(section, a, b, c, d)``, meaning a:b :: c:d, lower-cased."""
    out, section = [], ""
    for line in load_lines("analogies"):
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        a, b, c, d = line.lower().split()
        out.append((section, a, b, c, d))
    return out


def load_similarity(name: str) -> list[tuple[str, str, float]]:
    """Word-similarity pairs ``(w1, w2, score)`` from ``wordsim353`` or ``simlex999``."""
    if name not in ("wordsim353", "simlex999"):
        raise ValueError(f"similarity sets are 'wordsim353' and 'simlex999', got {name!r}")
    out = []
    for line in load_lines(name):
        if line.startswith("#"):
            continue
        w1, w2, score = line.split("\t")[:3]
        out.append((w1.lower(), w2.lower(), float(score)))
    return out


UPOS_TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
             "PUNCT", "SCONJ", "SYM", "VERB", "X")  # the 17 universal POS tags of Universal Dependencies


def parse_conllu(text: str) -> list[tuple[list[str], list[str]]]:
    """Sentences of a CoNLL-U text as ``(words, upos_tags)``.

    Columns are tab-separated: 1 ID, 2 FORM (the word), 4 UPOS (the universal tag). Comment lines
    (``#``) are skipped, and so are multiword tokens (ID ``N-M``, e.g. "don't" above "do" + "n't")
    and empty nodes (ID ``N.M``): they are not words of the sentence to tag. A blank line ends a sentence.
    """
    sentences, words, tags = [], [], []
    for line in text.splitlines():
        line = line.rstrip("\r")
        if not line.strip():
            if words:
                sentences.append((words, tags))
                words, tags = [], []
            continue
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 10:
            raise ValueError(f"CoNLL-U lines have 10 tab-separated columns, got {len(cols)}: {line[:60]!r}")
        if "-" in cols[0] or "." in cols[0]:
            continue
        words.append(cols[1])
        tags.append(cols[3])
    if words:
        sentences.append((words, tags))
    return sentences


def load_conllu(name: str) -> list[tuple[list[str], list[str]]]:
    """POS-tagged sentences ``(words, tags)`` of ``ud-ewt-dev`` or ``ud-ewt-test`` (see ``parse_conllu``)."""
    if not name.startswith("ud-"):
        raise ValueError(f"CoNLL-U corpora are 'ud-ewt-dev' and 'ud-ewt-test', got {name!r}")
    return parse_conllu(load_text(name))


def parse_sst(text: str) -> list[tuple[list[str], int]]:
    """``label<TAB>sentence`` lines (after one header line) as ``(tokens, label)``; 1 positive, 0 negative.
    The text is already lower-cased and tokenised, so tokens are the space-separated pieces."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("label\t"):
        raise ValueError("an SST-2 file starts with the header 'label<TAB>sentence' (or 'label<TAB>content')")
    out = []
    for line in lines[1:]:
        if not line.strip():
            continue
        label, sentence = line.split("\t", 1)
        if label not in ("0", "1"):
            raise ValueError(f"SST-2 labels are 0 or 1, got {label!r}")
        out.append((sentence.split(), int(label)))
    return out


def load_sst(name: str) -> list[tuple[list[str], int]]:
    """SST-2 examples ``(tokens, label)`` of ``sst2-train`` (phrases), ``sst2-dev`` or ``sst2-test`` (sentences)."""
    if not name.startswith("sst2-"):
        raise ValueError(f"SST-2 corpora are 'sst2-train', 'sst2-dev' and 'sst2-test', got {name!r}")
    return parse_sst(load_text(name))


def describe() -> str:
    """A table of the corpora with where each one is found right now (no download)."""
    rows = []
    data_dir = os.environ.get("COURSE_DATA_DIR")
    for c in REGISTRY.values():
        if data_dir and (Path(data_dir) / c.filename).is_file():
            where = "COURSE_DATA_DIR"
        elif (cache_dir() / c.filename).is_file():
            where = "cache"
        else:
            where = "missing (downloads on first use)"
        rows.append(f"{c.name:16s} {c.filename:22s} {where:34s} {c.license}")
    return "\n".join(rows)
