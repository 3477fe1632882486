"""``python -m lowfreq ...``: the same command line as ``lowfreq ...``."""

from lowfreq.cli import main

main()
