"""moto_server, with KMS Sign honouring MessageType=DIGEST as AWS documents it.

moto 5.2.5 reads MessageType on Sign and then ignores it, so a DIGEST request has its digest
hashed again and the signature verifies against sha256(digest), not the digest
(getmoto/moto#10202, open at the time of writing). AWS signs a DIGEST message as given, and so
must the peer the KMS signer is tested against. Everything else is moto as released; the test
that shows what an unfaithful KMS does runs the unpatched `moto_server`.

Usage: python moto_digest_server.py <moto_server arguments>
"""
import sys
import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from moto.kms import responses
from moto.kms import utils as kms_utils
from moto.kms.exceptions import ValidationException
from moto.server import main

_HASHES = {"ECDSA_SHA_256": hashes.SHA256(), "ECDSA_SHA_384": hashes.SHA384(), "ECDSA_SHA_512": hashes.SHA512()}
_request = threading.local()
_sign_request = responses.KmsResponse.sign
_sign_ecdsa = kms_utils.ECDSAPrivateKey.sign


def sign_request(self):
    _request.digest = self._get_param("MessageType") == "DIGEST"
    try:
        return _sign_request(self)
    finally:
        _request.digest = False


def sign_ecdsa(self, message, signing_algorithm):
    if not getattr(_request, "digest", False):
        return _sign_ecdsa(self, message, signing_algorithm)
    kms_utils.validate_signing_algorithm(signing_algorithm, self.valid_signing_algorithms)
    algorithm = _HASHES[signing_algorithm]
    # AWS: "the length of the Message value must match the length of hashed messages for the
    # specified signing algorithm".
    if len(message) != algorithm.digest_size:
        raise ValidationException(f"Digest is invalid length for algorithm {signing_algorithm}.")
    return self.private_key.sign(message, ec.ECDSA(utils.Prehashed(algorithm)))


responses.KmsResponse.sign = sign_request
kms_utils.ECDSAPrivateKey.sign = sign_ecdsa

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
