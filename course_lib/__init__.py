"""course_lib: the code behind the course "RNNs and Language Models".

Conventions kept in every module (stated once here):

* Tensors are **batch-first**: a batch of sequences is ``(B, T)`` token ids or
  ``(B, T, C)`` features, where B = batch, T = time steps, C = channels/features.
* Every language model has one signature, as in karpathy/makemore:
  ``forward(idx, targets=None) -> (logits, loss)`` with ``idx`` of shape ``(B, T)``,
  ``logits`` of shape ``(B, T, V)`` and ``loss`` a scalar (or ``None`` without targets).
* One concept per module: ``device`` (where code runs, seeding), ``data`` (real corpora,
  offline and hash-checked), ``text`` (vocabularies, tokenisers, batching, padding),
  ``train`` (the one training loop), ``grading`` (exercise checks and batch grading).
"""

__version__ = "0.1.0"

from .device import get_device, seed_everything  # noqa: F401  (the two helpers every notebook needs)
