class CheckException(Exception):
    """Base class for errors a check raises."""


class ConfigurationError(CheckException):
    """The instance configuration is invalid."""
