"""The one root of every error that the user's input or data causes.

A ``UserError`` carries one sentence that says what is wrong and what to do; the app shows it as
it is and the CLI prints it and exits with ``EXIT_BAD_INPUT``. Any other exception is a bug: the
app shows a short internal-error message with a reference to the log entry that holds the
traceback, and the CLI exits with ``EXIT_BUG`` (see ``describe_bug``).
"""

from __future__ import annotations

import logging
import uuid

EXIT_BUG = 1
EXIT_BAD_INPUT = 2
LOG = logging.getLogger("dashboard")


class UserError(Exception):
    """An error in the user's input or data, with its explanation as one sentence."""


def describe_bug(exc: BaseException, where: str) -> str:
    """Log ``exc`` with its traceback under a new reference; return the sentence to show.

    In: the unexpected exception and where it happened (a page, a command). Out: a short
    message naming the reference, so the log entry can be found; the traceback is only logged.
    """
    reference = uuid.uuid4().hex[:8]
    LOG.error("Internal error %s in %s", reference, where, exc_info=exc)
    return (
        f"Internal error (reference {reference}): something unexpected went wrong in {where} "
        "and it could not finish. Nothing was changed. This is a bug, not a problem with your "
        "data; the log has the details under this reference."
    )
