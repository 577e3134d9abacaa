"""Errors the CLI reports as one line with exit code 2 (the user can fix them)."""


class UserError(Exception):
    """A problem with the command line, the recipe or the inputs; the message says how to fix it.

    Messages must never contain document text (medical text may hold patient information).
    """
