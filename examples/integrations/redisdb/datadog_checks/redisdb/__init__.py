from .__about__ import __version__
from .redisdb import Redis

__all__ = ['__version__', 'Redis']
