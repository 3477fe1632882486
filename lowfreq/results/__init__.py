"""Run directories after the fact: their quantities, runs side by side, and reports.

``columns`` holds the quantities a run directory records, ``compare`` puts runs side by side, ``report`` writes one
self-contained HTML file.
"""
