"""inrzoo: shape collections as datasets of implicit neural representations."""

__version__ = "0.1.0"

# Heavy entry points are imported on first use so `import inrzoo` stays cheap.
_LAZY = {
    "open_weights": "inrzoo.store.reader",
    "create_weights": "inrzoo.store.writer",
}


# Subpackages reachable as attributes after a bare `import inrzoo` (dataset cards use them).
_SUBPACKAGES = ("fields", "render")


def __getattr__(name: str):
    if name in _LAZY or name in _SUBPACKAGES:
        import importlib

        if name in _SUBPACKAGES:
            return importlib.import_module(f"inrzoo.{name}")
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'inrzoo' has no attribute {name!r}")
