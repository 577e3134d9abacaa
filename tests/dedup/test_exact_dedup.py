from datatrove.data import Document

from jmedcorpus.dedup.exact import ExactDedup, text_hash


def test_keeps_first_in_stream_order():
    texts = ["症例は70歳男性。", "症例は45歳女性。", "症例は70歳男性。", "症例は70歳男性。 "]
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    assert [d.id for d in ExactDedup().run(iter(docs))] == ["0", "1", "3"]  # exact: trailing space differs


def test_hash_is_stable():
    assert text_hash("膵癌") == text_hash("膵癌") != text_hash("膵がん")
