from .__about__ import __version__
from .postgres import PostgreSql

__all__ = ['__version__', 'PostgreSql']
