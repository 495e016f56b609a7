"""Tools for testing code that uses allm, and for testing adapters: a loopback HTTP server that
replays recorded answers, and the adapter conformance kit."""
