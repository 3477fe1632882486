"""The command line: the ``lowfreq`` / ``lightning`` console scripts and their subcommands.

``entry`` dispatches; ``commands``, ``download`` and ``catalog`` are the light subcommands; ``lightning_cli`` is the
LightningCLI behind ``fit|validate|test|predict``.

Nothing is imported here, so ``lowfreq --help`` starts without torch or Lightning.
"""
