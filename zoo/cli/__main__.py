"""``python -m zoo.cli``: the ``zoo`` command."""

from zoo.cli.commands import main

if __name__ == "__main__":
    main()
