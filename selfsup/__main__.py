"""``python -m selfsup``: the command line, as the ``selfsup`` script."""

from selfsup.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
