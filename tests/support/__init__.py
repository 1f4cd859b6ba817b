"""Plain helpers that tests import: paths, the export's expected metrics, servers, terminals, and
the types of conftest.py's fixtures. The fixtures themselves live in conftest.py."""
