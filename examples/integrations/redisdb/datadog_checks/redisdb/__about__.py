__version__ = "7.1.0"
