"""The errors a user can act on: each message says what is wrong and what to do (in Dutch)."""


class KBError(Exception):
    """A problem with the knowledge base that the user can fix; the message says how."""


class IndexBusyError(KBError):
    """Another process is writing to the index."""
