"""Errors a user can act on. Their message is shown as-is, so it says what went wrong and what to do."""


class IngestError(ValueError):
    """The input could not become an article (missing, empty, binary, too big, unreachable...)."""


class NotFoundError(LookupError):
    """An article id that the store does not hold."""

    def __init__(self, article_id: str):
        super().__init__(f"no article with id {article_id!r} (see `articlebot index list`)")
        self.article_id = article_id


class DuplicateError(ValueError):
    """The article id, or the very same text, is already indexed."""


class StoreVersionError(RuntimeError):
    """The data folder was written by a newer articlebot than this one."""
