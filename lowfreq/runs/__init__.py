"""Run directories after the fact: the quantities each holds (``columns``), runs side by side (``compare``) and
one self-contained HTML report (``report``)."""
