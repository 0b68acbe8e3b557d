r"""Deletion requests as PyG transforms, and the forget-set sampler."""
from .forget import (ForgetTriples, ForgetEntity, ForgetRelation,
                     affected_entities)
from .sample import RandomForget, sample_forget_set

__all__ = [
    'ForgetTriples',
    'ForgetEntity',
    'ForgetRelation',
    'RandomForget',
    'sample_forget_set',
    'affected_entities',
]
