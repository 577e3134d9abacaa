"""MeCab tokenizer: bounded chunks, unsafe characters, reuse by datatrove's stock filters."""

import pickle

from datatrove.data import Document
from datatrove.pipeline.filters.gopher_repetition_filter import GopherRepetitionFilter
from datatrove.utils.text import split_into_words

from jmedcorpus.text.mecab import MecabWordTokenizer, iter_chunks
from jmedcorpus.text.tokenize_step import MecabTokenCounter

SENTENCE = "右肺上葉に径12mmの結節影を認める。"


def test_medical_words():
    tokens = MecabWordTokenizer().word_tokenize("子宮頸癌と前立腺癌の既往あり。")
    assert "子宮" in tokens and "既往" in tokens and "。" in tokens


def test_multi_megabyte_document_is_neither_crashed_nor_truncated():
    tok = MecabWordTokenizer()
    one = len(tok.word_tokenize(SENTENCE))
    big = SENTENCE * 250_000  # 4.5 M characters on ONE line (MeCab segfaults on ~3.6 MB in one call)
    tokens = tok.word_tokenize(big)
    assert len(tokens) == one * 250_000
    assert tokens[-2:] == tok.word_tokenize(SENTENCE)[-2:]


def test_chunks_cover_text_exactly():
    text = (SENTENCE + "\n") * 500 + SENTENCE * 500
    chunks = list(iter_chunks(text, 1000))
    assert "".join(chunks) == text and max(map(len, chunks)) <= 1000


def test_nul_and_surrogate_do_not_truncate():
    tokens = MecabWordTokenizer().word_tokenize("発熱あり\x00。咳嗽\ud800あり。")
    assert "咳嗽" in tokens


def test_step_writes_counts_and_tokenizer_pickles():
    (doc,) = list(MecabTokenCounter().run(iter([Document(text=SENTENCE, id="a")])))
    assert doc.metadata == {
        "chars": len(SENTENCE),
        "mecab_tokens": len(MecabWordTokenizer().word_tokenize(SENTENCE)),
    }
    tok = pickle.loads(pickle.dumps(MecabWordTokenizer()))
    assert tok.word_tokenize(SENTENCE)


def test_datatrove_stock_filters_count_words_with_mecab():
    tok = MecabWordTokenizer()
    assert split_into_words("子宮と膣と前立腺", tok) == tok.word_tokenize("子宮と膣と前立腺")
    repeated = "\n".join(["本日より抗菌薬投与を開始した。"] * 10)
    gopher = GopherRepetitionFilter(language=tok)
    assert gopher.filter(Document(text=repeated, id="r")) == (False, "dup_line_frac")
