"""Driving a recovery flow: send each request it yields, hand back the answer or the error.

Every single request goes through the transient retry policy of `_retry.py` within the
call's one deadline; a 401 / 403 is thrown into the flow, which fixes the bundle and
yields the request again (`_flow.py`), or re-raises.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Generator

from ..errors import ChatGPTError, ClearanceRejectedError, NetworkError, ServerError, UnauthorizedError
from ..site import error_for_response
from ._deadline import Deadline
from ._retry import Reason, RetryPolicy, proves_nothing_processed, transient_retrying
from ._transport import Request, Response, Transport
from ._wire import read_body

#: Turns a failure of a non-replayable request into the error the caller sees.
MaybeSent = Callable[[ChatGPTError], ChatGPTError]
Flow = Generator[Request, Response, None]


class FlowDriver:
    """Sends the requests of flows through one transport and one retry policy."""

    def __init__(
        self, transport: Transport, policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._transport = transport
        self.policy = policy
        self._replayable = transient_retrying(policy, replayable=True, sleep=sleep)
        self._not_replayable = transient_retrying(policy, replayable=False, sleep=sleep)

    def run(self, flow: Flow, deadline: Deadline, maybe_sent: MaybeSent | None = None) -> Response | None:
        """Drive `flow`: send each request it yields (transient retries within `deadline`)
        and hand back the answer, or throw the 401 / 403 in so the flow can fix it."""
        response: Response | None = None
        try:
            request = next(flow)
            while True:
                replayable = maybe_sent is None or request.method == "GET"
                try:
                    response = self._send_with_retries(request, deadline, replayable)
                except (UnauthorizedError, ClearanceRejectedError) as error:
                    request = flow.throw(error)  # the flow fixes the bundle and sends again, or re-raises
                    continue
                except (NetworkError, ServerError) as error:
                    if replayable or maybe_sent is None or proves_nothing_processed(error):
                        raise
                    raise maybe_sent(error) from error
                request = flow.send(response)
        except StopIteration:
            return response
        finally:
            flow.close()

    def _send_with_retries(self, request: Request, deadline: Deadline, replayable: bool) -> Response:
        retrying = self._replayable if replayable else self._not_replayable
        # Retries stop at the call's deadline and within the policy's total budget.
        limit = deadline.earlier(self.policy.max_total)
        return retrying(self._send_once, request, what=request.label, deadline=limit, used=Counter())

    def _send_once(
        self, request: Request, *, what: str, deadline: Deadline, used: Counter[Reason]
    ) -> Response:
        """One send; a non-2xx answer becomes its typed error (`deadline` and `used` are
        the retry parts' per-call state)."""
        response = self._transport.send(request)
        if 200 <= response.status_code < 300:
            return response
        body = read_body(response)
        raise error_for_response(response.status_code, response.headers, body, what=what)


__all__ = ["Flow", "FlowDriver", "MaybeSent"]
