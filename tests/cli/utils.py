import contextlib
import io

from torch_geometric_unlearn.cli import main

TINY = 'synthetic:entities=200,relations=8,triples=2000'


def run_cli(argv):
    r"""main() with its stdout and stderr captured (for module fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()
