"""The one exception type for user-facing failures: bad config, bad arguments, unreadable input.

Its text is a single line naming the file or value and what to do; the CLI prints it as
``error: <text>`` and exits 2, never with a traceback.
"""

from __future__ import annotations


class HarnessError(Exception):
    """A failure the user can fix; ``str(err)`` is the one-line explanation."""
