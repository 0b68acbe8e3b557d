r"""Deletion requests as PyG transforms (on KG splits and on typed KGs as
:class:`~torch_geometric.data.HeteroData`), and the forget-set sampler."""
from .forget import (ForgetTriples, ForgetEntity, ForgetRelation,
                     affected_entities)
from .sample import RandomForget, sample_forget_set
from .hetero import (HeteroForgetTriples, HeteroForgetEntity,
                     HeteroForgetRelation)

__all__ = [
    'ForgetTriples',
    'ForgetEntity',
    'ForgetRelation',
    'RandomForget',
    'sample_forget_set',
    'affected_entities',
    'HeteroForgetTriples',
    'HeteroForgetEntity',
    'HeteroForgetRelation',
]
