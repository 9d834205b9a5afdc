from .__about__ import __version__
from .nginx import Nginx

__all__ = ['__version__', 'Nginx']
