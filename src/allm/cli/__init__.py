"""The ``allm`` command line (extra ``cli``): prompts, chats, models, keys and logs.

``main()`` is the console script. Nothing here is imported by ``import allm``; the command line
needs ``click`` and ``platformdirs``, which the ``cli`` extra installs. How it decides things
(which model, where files live, exit codes) is in ``docs/design/cli.md``.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    from .app import run

    return run(argv)
