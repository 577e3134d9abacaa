"""The medical-domain classifier: a logistic regression over hashed MeCab-token and
character-bigram features (``features``), its model file (``model``), deterministic training
and held-out metrics (``train``) and the ``jmedcorpus train-domain`` command (``cli``).

The ``medical_domain`` step (:mod:`jmedcorpus.filters.domain`) scores documents with it; the
shipped model and its card are ``medical_domain_v1.bin`` and ``MODEL_CARD.md`` in this folder.
"""
