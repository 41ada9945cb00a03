"""glyphgen's command line (installed as the ``glyphgen.cli`` package)."""
