#!/usr/bin/env python3
"""COSE_Sign1 / EdDSA with code nobody on this project wrote (pycose, cbor2).

  cose_interop.py verify PUBKEY_HEX FILE     exit 0 and print "valid" when pycose verifies FILE
  cose_interop.py sign SEED_HEX PAYLOAD OUT  write a COSE_Sign1 made by pycose over PAYLOAD
  cose_interop.py payload FILE               print the COSE payload decoded by cbor2 (as repr)

Used by the Swift interop tests (Tests/InteropTests).
"""
import hashlib
import sys

import cbor2
from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization


def verify(public_hex, path):
    data = open(path, "rb").read()
    try:
        message = Sign1Message.decode(data)
        message.key = OKPKey(crv=Ed25519, x=bytes.fromhex(public_hex))
        ok = message.verify_signature()
    except Exception as error:  # a malformed message is "invalid", with the reason
        print(f"invalid: {error}")
        return 1
    print("valid" if ok else "invalid")
    return 0 if ok else 1


def sign(seed_hex, payload_path, out_path):
    seed = bytes.fromhex(seed_hex)
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = hashlib.sha256(public).digest()[:16]
    message = Sign1Message(phdr={Algorithm: EdDSA, KID: kid}, payload=open(payload_path, "rb").read())
    message.key = OKPKey(crv=Ed25519, d=seed, x=public)
    open(out_path, "wb").write(message.encode())
    return 0


def payload(path):
    tag = cbor2.loads(open(path, "rb").read())
    print(repr(cbor2.loads(tag.value[2])))
    return 0


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    sys.exit({"verify": verify, "sign": sign, "payload": payload}[command](*arguments))
