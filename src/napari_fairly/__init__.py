"""napari-fairly: make light-microscopy data FAIR at the moment it is acquired.

Importing the package must not pull in Qt or napari: the core also runs in the
``fairly`` command and on dask workers.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("napari-fairly")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
