"""The repeated-ids stage as a datatrove step: the first document with an id passes (the build's
own stage is tested in tests/pipelines/test_build_faults.py::test_duplicate_ids_keep_the_first...)."""

from datatrove.data import Document

from jmedcorpus.constants import DUPLICATE_ID
from jmedcorpus.dedup.duplicate_ids import DuplicateIds


def test_the_first_document_with_an_id_passes():
    docs = [Document(text=t, id=i) for t, i in [("症例1", "7"), ("症例2", "8"), ("症例3", "7")]]
    step = DuplicateIds()
    assert [d.text for d in step.run(iter(docs))] == ["症例1", "症例2"]
    assert step.reasons == (DUPLICATE_ID,) and step.is_global
