"""Errors a user can act on; each message says what went wrong and what to do."""


class RagError(Exception):
    """Base for errors shown to users as they are (no traceback needed)."""


class LoadError(RagError):
    """A document could not be read as text."""


class IndexStoreError(RagError):
    """The index on disk is missing, damaged or built with other settings."""


class QuestionError(RagError):
    """A question that cannot be asked as given (empty, only punctuation...)."""


class ModelError(RagError):
    """A model file is missing or does not verify."""
