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
#
# It also serves GET /moto-api/kabinet/sent?sms=<n>&emails=<m>: the SMS (SNS)
# and e-mails (SES) recorded as sent, from the n-th and m-th on, in the shape
# of /moto-api/data.json. data.json serializes every model instance moto
# holds (each DynamoDB item, each SQS message) attribute by attribute, so its
# cost grows with the whole emulator; this costs what it returns.
import json
import sys
import threading
from urllib.parse import parse_qs

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_lock = threading.Lock()
_call = DomainDispatcherApplication.__call__


def _index(query, name):
    try:
        return max(0, int(query.get(name, ["0"])[0]))
    except ValueError:
        return 0


def _sent(environ, start_response):
    from moto.ses.models import Message
    from moto.sns.models import SMS

    query = parse_qs(environ.get("QUERY_STRING", ""))
    sms = [
        {"message_id": m.message_id, "phone_number": m.phone_number, "message": m.message}
        for m in list(SMS.instances_tracked)[_index(query, "sms"):]
    ]
    emails = [
        {"id": m.id, "source": m.source, "subject": m.subject, "body": m.body, "destinations": m.destinations}
        for m in list(Message.instances_tracked)[_index(query, "emails"):]
    ]
    body = json.dumps({"sns": {"SMS": sms}, "ses": {"Message": emails}}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _serialized(self, environ, start_response):
    if environ.get("PATH_INFO") == "/moto-api/kabinet/sent":
        return _sent(environ, start_response)
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with _lock:
            return list(_call(self, environ, start_response))
    return _call(self, environ, start_response)


DomainDispatcherApplication.__call__ = _serialized
server.main(sys.argv[1:])
