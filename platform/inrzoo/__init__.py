"""inrzoo: shape collections as datasets of implicit neural representations."""

__version__ = "0.1.0"
