"""``python -m lowfreq ...``: the same command line as ``lowfreq ...``."""

from lowfreq.cli.entry import main

main()
