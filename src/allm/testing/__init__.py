"""Tools for testing code that uses allm, and for testing adapters: ``override`` and ``capture``
(run code under test on a Fake engine and see what it sent), a loopback HTTP server that replays
recorded answers, and the adapter conformance kit."""

from .overrides import Capture, capture, override

__all__ = ["Capture", "capture", "override"]
