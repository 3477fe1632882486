"""The base layer: input checks, module specs, seeding, the analysis run mode, precision, downloads, result files.

Every other part of lowfreq may import these modules; they import nothing of lowfreq above them (and no Lightning).
"""
