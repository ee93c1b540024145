"""The course's terms, English ↔ Chinese (the lecture's language), each linked to where it is taught.

    python -m course_lib.glossary write     # regenerates notebooks/glossary.md from TERMS

``TERMS`` is the one source: ``notebooks/glossary.md`` (read in JupyterLab, whose heading anchors are
the heading's text with spaces as hyphens) and the website's glossary page (MyST's anchors) are both
generated from it, and a test checks that every notebook and heading named here exists.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"

# (English, 中文, notebook stem, heading text as written in the notebook without its leading #'s, or None for
# the notebook's title). A stem without a notebook yet is listed as planned, without a link.
TERMS: list[tuple[str, str, str, str | None]] = [
    ("softmax", "softmax 函数", "00_welcome", None),
    ("cross-entropy loss", "交叉熵损失", "00_welcome", None),
    ("language model", "语言模型", "01_ngrams", None),
    ("n-gram, Markov assumption", "n 元语法，马尔可夫假设", "01_ngrams", None),
    ("sparsity (of n-gram counts)", "稀疏性", "01_ngrams", "Sparsity and storage grow with n"),
    ("perplexity", "困惑度", "01_ngrams", "Perplexity"),
    ("fixed-window neural language model", "固定窗口神经语言模型", "01_ngrams", "The fixed-window neural language model"),
    ("one-hot vector", "独热向量 (one-hot)", "02_word2vec", "One-hot vectors are orthogonal; an embedding is a lookup table"),
    ("word embedding, word vector", "词嵌入，词向量", "02_word2vec", "One-hot vectors are orthogonal; an embedding is a lookup table"),
    ("skip-gram (SG)", "跳元模型 (Skip-gram)", "02_word2vec", "Training pairs from a window"),
    ("continuous bag of words (CBOW)", "连续词袋模型 (CBOW)", "02_word2vec", "CBOW vs skip-gram"),
    ("negative sampling", "负采样", "02_word2vec", "The model and its loss"),
    ("recurrent neural network (RNN)", "循环神经网络", "03_rnn", None),
    ("hidden state", "隐状态", "03_rnn", "One step of the cell, with shapes"),
    ("weight sharing (across time)", "权重共享", "03_rnn", "Unrolling in time, and weight sharing"),
    ("RNN language model", "循环神经网络语言模型", "03_rnn", "An RNN language model, character by character"),
    ("backpropagation through time (BPTT)", "随时间反向传播 (BPTT)", "04_bptt", None),
    ("truncated BPTT", "截断的随时间反向传播", "04_bptt", "Truncated BPTT"),
    ("vanishing gradients", "梯度消失", "04_bptt", "The gradient through time is a product of Jacobians"),
    ("exploding gradients", "梯度爆炸", "05_clipping", None),
    ("gradient clipping", "梯度裁剪", "05_clipping", "Norm clipping keeps the direction, value clipping does not"),
    ("identity / orthogonal initialisation (IRNN)", "恒等初始化 / 正交初始化", "05_clipping",
     "Against vanishing gradients: identity and orthogonal initialisation"),
    ("long short-term memory (LSTM)", "长短期记忆网络", "06_lstm_gru", None),
    ("input gate, forget gate, output gate", "输入门，遗忘门，输出门", "06_lstm_gru", "One LSTM step, with shapes"),
    ("cell state (memory cell)", "记忆元 (细胞状态)", "06_lstm_gru", "The cell state as a gradient highway"),
    ("peephole connection", "窥视孔连接 (peephole)", "06_lstm_gru", "Peepholes"),
    ("character-level language model", "字符级语言模型", "06_lstm_gru",
     "Shakespeare, character by character"),
    ("gated recurrent unit (GRU)", "门控循环单元", "06_lstm_gru", "The GRU, and where `nn.GRU` is not the lecture's GRU"),
    ("reset gate, update gate", "重置门，更新门", "06_lstm_gru", "The GRU, and where `nn.GRU` is not the lecture's GRU"),
    ("bidirectional RNN", "双向循环神经网络", "07_birnn", None),
    ("deep (stacked) RNN", "深度循环神经网络", "07_birnn", "4. Deep (stacked) RNNs: 1, 2 or 3 layers"),
    ("sentiment analysis", "文本情感分析", "07_birnn", "5. Sentiment on SST-2: many-to-one"),
    ("part-of-speech tagging", "词性标注", "07_birnn", "3. Part-of-speech tagging on Universal Dependencies"),
    ("encoder-decoder (seq2seq)", "编码器-解码器 (序列到序列)", "08_seq2seq", "The model and the masked loss"),
    ("machine translation", "机器翻译", "08_seq2seq", "English → French"),
    ("teacher forcing, exposure bias", "强制教学 (teacher forcing)，曝光偏差", "08_seq2seq",
     "Teacher forcing and exposure bias"),
    ("beam search", "束搜索", "08_seq2seq", "Decoding: greedy and beam search"),
    ("BLEU", "BLEU (双语评估替补)", "08_seq2seq", "BLEU"),
    ("attention mechanism", "注意力机制", "09_attention", None),
    ("query, key, value", "查询 (自主性提示)、键 (非自主性提示)、值", "09_attention", None),
    ("attention pooling", "注意力汇聚", "09_attention",
     "Attention pooling without learning: Nadaraya–Watson kernel regression"),
    ("additive attention", "加性注意力", "09_attention", "Scoring functions: additive and scaled dot-product"),
    ("scaled dot-product attention", "缩放点积注意力", "09_attention",
     "Scoring functions: additive and scaled dot-product"),
    ("multi-head attention", "多头注意力", "09_attention", "Multi-head attention"),
    ("self-attention, Transformer", "自注意力，Transformer (变换器)", "10_positional_encoding",
     "The Transformer encoder block"),
    ("positional encoding", "位置编码", "10_positional_encoding", "The encoding matrix"),
]


def headings(stem: str) -> list[tuple[int, str]]:
    """(level, text) of every markdown heading in ``notebooks/<stem>.py`` (the notebook's percent-format pair)."""
    out = []
    in_markdown = False
    for line in (NOTEBOOKS / f"{stem}.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
            continue
        m = re.match(r"^# (#{1,6}) (.+?)\s*$", line)
        if in_markdown and m:
            out.append((len(m.group(1)), m.group(2)))
    return out


def _plain(heading: str) -> str:
    """The heading as rendered text: markdown code spans and emphasis marks dropped."""
    return re.sub(r"[`*]", "", heading).strip()


def jupyterlab_anchor(heading: str) -> str:
    """JupyterLab's id for a rendered heading: its text, spaces replaced by hyphens."""
    return quote(_plain(heading).replace(" ", "-"), safe="-:._~,'")


def target(stem: str, heading: str | None) -> str | None:
    """The heading to link (the notebook's title when ``heading`` is None); None when not found."""
    if not (NOTEBOOKS / f"{stem}.py").is_file():
        return None
    found = headings(stem)
    if heading is None:
        return next((t for level, t in found if level == 1), None)
    return heading if any(t == heading for _, t in found) else None


def problems() -> list[str]:
    """Terms whose notebook exists but whose heading does not (a renamed or removed section)."""
    out = []
    for english, _, stem, heading in TERMS:
        if (NOTEBOOKS / f"{stem}.py").is_file() and target(stem, heading) is None:
            out.append(f"{english!r}: notebooks/{stem} has no heading {heading!r}")
    return out


def markdown(anchor=jupyterlab_anchor, link_prefix: str = "") -> str:
    """The glossary page; ``anchor`` turns a heading into a link fragment, ``link_prefix`` precedes
    the notebook's file name (the website puts lessons under ``lessons/``)."""
    lines = ["# Glossary · 术语表", "",
             "The lecture is in Chinese; the course is in English. Each term links to the section that teaches it.",
             "", "| English | 中文 | where it is taught |", "|---|---|---|"]
    for english, chinese, stem, heading in TERMS:
        head = target(stem, heading)
        if head is None:
            where = f"notebook {stem[:2]} (planned)"
        elif heading is None:  # the notebook itself: its title needs no anchor
            title = re.sub(r"^\d\d · ", "", _plain(head))
            where = f"[{stem[:2]} · {title}]({link_prefix}{stem}.ipynb)"
        else:
            where = f"[{stem[:2]} · {_plain(head)}]({link_prefix}{stem}.ipynb#{anchor(head)})"
        lines.append(f"| {english} | {chinese} | {where} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv != ["write"]:
        print(__doc__)
        return 2
    bad = problems()
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 1
    (NOTEBOOKS / "glossary.md").write_text(markdown(), encoding="utf-8")
    print(f"wrote {NOTEBOOKS / 'glossary.md'} ({len(TERMS)} terms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
