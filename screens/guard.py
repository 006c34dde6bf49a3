"""Handlers that cannot take the console down.

Textual ends the app on an exception in a message handler. For an operator on a shift that is
the worst outcome, so the screens' handlers are :func:`guarded`: an exception is turned into an
:class:`ActionFailed` message that the app logs and shows as an error notification, and the
console goes on. (Actions from keys and the palette are guarded once, in the app's
``run_action``; workers report their errors through ``Worker.StateChanged``.)
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from textual.message import Message
from textual.message_pump import MessagePump

F = TypeVar("F", bound=Callable[..., Any])


class ActionFailed(Message):
    """A handler of a screen raised; the app logs it and tells the operator."""

    def __init__(self, where: str, error: BaseException) -> None:
        super().__init__()
        self.where = where
        self.error = error


def guarded(handler: F) -> F:
    """Wrap a screen's message handler (sync or async) so an exception becomes
    :class:`ActionFailed` instead of ending the app."""
    where = handler.__qualname__

    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def run_async(self: MessagePump, *args: Any, **kwargs: Any) -> Any:
            try:
                return await cast(Callable[..., Awaitable[Any]], handler)(self, *args, **kwargs)
            except Exception as exc:
                self.app.post_message(ActionFailed(where, exc))
                return None

        run_async.__guarded__ = True  # type: ignore[attr-defined]
        return cast(F, run_async)

    @functools.wraps(handler)
    def run(self: MessagePump, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(self, *args, **kwargs)
        except Exception as exc:
            self.app.post_message(ActionFailed(where, exc))
            return None

    run.__guarded__ = True  # type: ignore[attr-defined]
    return cast(F, run)
