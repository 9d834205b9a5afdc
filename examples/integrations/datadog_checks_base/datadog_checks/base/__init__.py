from .__about__ import __version__
from .checks import AgentCheck
from .errors import ConfigurationError

__all__ = ['__version__', 'AgentCheck', 'ConfigurationError']
