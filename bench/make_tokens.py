#!/usr/bin/env python3
"""Makes an ES384 key, its JWK Set, and N signed CDS Hooks JWTs (one per line,
each with its own jti) for one audience: the tokens bench/cds_load.sh --auth
sends, one per request.

usage: make_tokens.py ISSUER AUDIENCE COUNT JWKS_OUT TOKENS_OUT [AUDIENCE2...]
Lines for AUDIENCE2... (one token each) come first. Needs python3-cryptography.
"""
import base64
import json
import sys
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    issuer, audience, count, jwks_out, tokens_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    audiences = sys.argv[6:] + [audience] * count
    key = ec.generate_private_key(ec.SECP384R1())
    numbers = key.public_key().public_numbers()
    jwk = {"kty": "EC", "crv": "P-384", "kid": "bench-1", "use": "sig", "alg": "ES384",
           "x": b64(numbers.x.to_bytes(48, "big")), "y": b64(numbers.y.to_bytes(48, "big"))}
    json.dump({"keys": [jwk]}, open(jwks_out, "w"))
    header = b64(json.dumps({"alg": "ES384", "typ": "JWT", "kid": "bench-1"}, separators=(",", ":")).encode())
    now = int(time.time())
    with open(tokens_out, "w") as out:
        for aud in audiences:
            claims = {"iss": issuer, "aud": aud, "iat": now, "exp": now + 3000, "jti": str(uuid.uuid4())}
            signing_input = header + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
            r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA384())))
            out.write(signing_input + "." + b64(r.to_bytes(48, "big") + s.to_bytes(48, "big")) + "\n")


if __name__ == "__main__":
    main()
