import sys

from .__about__ import __version__


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    print('postgres-explain {} {}'.format(__version__, ' '.join(argv)).strip())
    return 0
