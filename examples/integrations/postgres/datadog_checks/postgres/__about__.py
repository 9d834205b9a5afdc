# (C) Example Maintainers 2026-present
# Licensed under a 3-clause BSD style license (see LICENSE)
__version__ = '23.2.0'
