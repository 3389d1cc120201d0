"""User-facing failures, as exceptions that carry their exit code (as click's do).

Each one's text is a single line naming the file or value and what to do; the CLI prints it as
``error: <text>`` and exits with the class's ``exit_code``, never with a traceback.
"""

from __future__ import annotations


class HarnessError(Exception):
    """A failure the user can fix (bad config, bad arguments, unreadable input): exit 2."""

    exit_code = 2
