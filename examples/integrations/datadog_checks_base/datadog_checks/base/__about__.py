__version__ = "37.1.0"
