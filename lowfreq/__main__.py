"""``python -m lowfreq ...``: the same command line as ``lowfreq ...``."""

from lowfreq.entry import main

main()
