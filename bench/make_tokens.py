#!/usr/bin/env python3
"""Makes a key, its JWK Set, and N signed CDS Hooks JWTs (one per line, each
with its own jti) for one audience: the tokens bench/cds_load.sh --auth sends,
one per request. The algorithm is ES384 (P-384), or RS384 (RSA 2048) when the
environment sets CDS_TOKEN_ALG=RS384.

usage: make_tokens.py ISSUER AUDIENCE COUNT JWKS_OUT TOKENS_OUT [AUDIENCE2...]
Lines for AUDIENCE2... (one token each) come first. Needs python3-cryptography.
"""
import base64
import json
import sys
import time
import uuid

from cryptography.hazmat.primitives import hashes
import os

from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    issuer, audience, count, jwks_out, tokens_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    audiences = sys.argv[6:] + [audience] * count
    alg = os.environ.get("CDS_TOKEN_ALG", "ES384")
    if alg == "ES384":
        key = ec.generate_private_key(ec.SECP384R1())
        numbers = key.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": "P-384", "kid": "bench-1", "use": "sig", "alg": alg,
               "x": b64(numbers.x.to_bytes(48, "big")), "y": b64(numbers.y.to_bytes(48, "big"))}

        def sign(data):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA384())))
            return r.to_bytes(48, "big") + s.to_bytes(48, "big")
    elif alg == "RS384":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = key.public_key().public_numbers()
        jwk = {"kty": "RSA", "kid": "bench-1", "use": "sig", "alg": alg,
               "n": b64(numbers.n.to_bytes(256, "big")), "e": b64(numbers.e.to_bytes(3, "big"))}

        def sign(data):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA384())
    else:
        sys.exit(f"make_tokens.py: CDS_TOKEN_ALG must be ES384 or RS384, not {alg}")
    json.dump({"keys": [jwk]}, open(jwks_out, "w"))
    header = b64(json.dumps({"alg": alg, "typ": "JWT", "kid": "bench-1"}, separators=(",", ":")).encode())
    now = int(time.time())
    with open(tokens_out, "w") as out:
        for aud in audiences:
            claims = {"iss": issuer, "aud": aud, "iat": now, "exp": now + 3000, "jti": str(uuid.uuid4())}
            signing_input = header + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
            out.write(signing_input + "." + b64(sign(signing_input.encode())) + "\n")


if __name__ == "__main__":
    main()
