r"""``python -m torch_geometric_unlearn``: the command line
(:mod:`torch_geometric_unlearn.cli`)."""
import sys

from .cli import main

if __name__ == '__main__':
    sys.exit(main())
