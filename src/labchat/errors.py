"""The one exception a user can cause; the CLI turns it into a one-line message and exit status 2."""


class LabchatError(Exception):
    """A problem the user can fix; the message says how."""
