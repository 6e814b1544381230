"""``python -m agentsession``: the command-line tool."""

from .cli import _entry

if __name__ == "__main__":
    _entry()
