r"""Utilities shared across the package: atomic file writes and content
fingerprints (hashes of models, triple sets and vocabularies)."""
from .io import (atomic_open, atomic_save, atomic_write_text,
                 check_output_paths)
from .fingerprint import (model_hash, tensor_hash, triples_hash, vocab_hash,
                          check_finite)

__all__ = [
    'atomic_open',
    'atomic_save',
    'atomic_write_text',
    'check_output_paths',
    'model_hash',
    'tensor_hash',
    'triples_hash',
    'vocab_hash',
    'check_finite',
]
