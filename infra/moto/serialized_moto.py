# moto's server with its DynamoDB requests handled one at a time.
#
# DynamoDB runs each request, and each transaction, in isolation. moto does
# not: it serves requests on threads, and TransactWriteItems checks its
# conditions, writes, and on a failed condition restores a copy of the whole
# table taken before it started — undoing writes other requests made in
# between. Tests that race writers against each other (two activations of
# one invitation, two runs of a job) need DynamoDB's isolation, so every
# DynamoDB request takes one lock here. Other services (SQS long polls) are
# untouched.
import sys
import threading

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_lock = threading.Lock()
_call = DomainDispatcherApplication.__call__


def _serialized(self, environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with _lock:
            return list(_call(self, environ, start_response))
    return _call(self, environ, start_response)


DomainDispatcherApplication.__call__ = _serialized
server.main(sys.argv[1:])
