"""nfn: a permutation-invariant neural functional (Zhou et al. 2023) that classifies INRs from their
weights; the permutation-equivariant weight-space model the weight-space benchmark (issue 17)
compares inr2vec with. The network is its own (network.py); training, checkpoints, registration
and the shared classification and retrieval tasks come from inrzoo.zoo.core and inrzoo.zoo.tasks.
See README.md next to this file.
"""

from inrzoo.zoo.nfn.model import NFNClassifier
from inrzoo.zoo.nfn.network import InvariantNFN, NFNConfig

__all__ = ["InvariantNFN", "NFNClassifier", "NFNConfig"]
