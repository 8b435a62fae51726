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


# moto's KMS ignores MessageType=DIGEST on Sign and Verify: it hashes the
# digest again, so a signature KMS would make over the digest (the CA signer
# of shared/kmsca sends only digests, as the key policy demands) does not
# verify. For ECDSA keys, sign and verify a DIGEST as KMS does, with
# cryptography's Prehashed. Upstream fix: the open moto PR #10202
# (https://github.com/getmoto/moto/pull/10202); drop this once it is released.
def _patch_kms_digest():
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    from moto.kms.exceptions import ValidationException
    from moto.kms.responses import KmsResponse
    from moto.kms.utils import ECDSAPrivateKey

    algorithms = {"ECDSA_SHA_256": hashes.SHA256(), "ECDSA_SHA_384": hashes.SHA384(), "ECDSA_SHA_512": hashes.SHA512()}
    sign, verify = KmsResponse.sign, KmsResponse.verify

    def digest_of(self):
        """The ECDSA key, its hash and the digest of a DIGEST request; None for the rest."""
        if self._get_param("MessageType") != "DIGEST":
            return None
        key = self.kms_backend.describe_key(self._get_param("KeyId"))
        algorithm = self._get_param("SigningAlgorithm")
        if not isinstance(key.private_key, ECDSAPrivateKey) or algorithm not in key.private_key.valid_signing_algorithms:
            return None
        digest = self._get_param("Message")
        if isinstance(digest, str):
            digest = base64.b64decode(digest)
        h = algorithms[algorithm]
        if len(digest) != h.digest_size:
            raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
        return key, algorithm, h, digest

    def digest_sign(self):
        d = digest_of(self)
        if d is None:
            return sign(self)
        key, algorithm, h, digest = d
        signature = key.private_key.private_key.sign(digest, ec.ECDSA(Prehashed(h)))
        return json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(), "SigningAlgorithm": algorithm})

    def digest_verify(self):
        d = digest_of(self)
        if d is None:
            return verify(self)
        key, algorithm, h, digest = d
        signature = self._get_param("Signature")
        if isinstance(signature, str):
            signature = base64.b64decode(signature)
        try:
            key.private_key.private_key.public_key().verify(signature, digest, ec.ECDSA(Prehashed(h)))
            valid = True
        except InvalidSignature:
            valid = False
        return json.dumps({"KeyId": key.arn, "SignatureValid": valid, "SigningAlgorithm": algorithm})

    KmsResponse.sign, KmsResponse.verify = digest_sign, digest_verify


_patch_kms_digest()
DomainDispatcherApplication.__call__ = _serialized
server.main(sys.argv[1:])
