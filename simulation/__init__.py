"""ppsim: simulate peer-preservation cascades in networks of AI systems."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ppsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]
