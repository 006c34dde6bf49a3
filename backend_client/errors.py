"""What :meth:`HubClient.send` and :meth:`HubClient.wait_live` raise, by cause.

A command either reached the hub and was refused (:class:`CommandRefused`, nothing changed),
or its fate is unknown (:class:`CommandTimeout`, or :class:`NotConnected` when the connection
dropped while waiting). An unknown fate is resolved by sending the *same* command object
again (same id): the hub applies an id once and answers a repeat with a replayed ack.
"""

from __future__ import annotations

from dispatch.errors import Refusal


class ClientError(Exception):
    """Base of the errors of this package."""


class NotConnected(ClientError):
    """Not live: the command was not sent (or the connection dropped while waiting)."""


class CommandRefused(ClientError, Refusal):
    """The hub refused the command with an error frame; nothing changed on the hub.

    A :class:`~dispatch.errors.Refusal` like the ones ``dispatch`` raises on the client's side
    (``workflow.precheck``): ``code``, the hub's English ``message``, and the ``detail`` (a key
    of ``dispatch.errors.DETAILS``) and ``params`` to say it in the operator's language."""


class CommandTimeout(ClientError):
    """Neither ack nor error arrived in time; the command may or may not have applied."""


class AuthFailed(ClientError):
    """The hub refused the token (or the protocol version): retrying will not help."""


class SessionRevoked(AuthFailed):
    """The hub ended the session with 4003: the operator was disabled, or given another role,
    unit or token, since it logged in. The client does not reconnect with this token; a new
    session needs the person to log in again (under the grant that holds now)."""


LOST_WHILE_WAITING = (
    "connection lost; the command may or may not have applied — resend with the same id to be sure"
)
