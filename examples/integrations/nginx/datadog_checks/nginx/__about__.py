__version__ = "8.1.0-RC.1"
