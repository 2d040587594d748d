#!/usr/bin/env python3
"""Publishes Fieldproof telemetry with code nobody on this project wrote
(paho-mqtt, cbor2, pycose): honest messages and every kind of bad one.

  paho_publisher.py PORT SERIAL SEED_HEX REVOKED_SERIAL REVOKED_SEED_HEX COUNT

Sends COUNT honest messages (sequences 1..COUNT), then one of each bad kind
(forged, replayed, wrong topic, unknown device, revoked key, oversized,
malformed, timestamp in the future), then COUNT more honest ones, all at
QoS 1, waiting for every PUBACK. Used by Tests/FieldproofCLITests.
"""
import hashlib
import os
import sys
import time

import cbor2
import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pycose.algorithms import EdDSA
from pycose.headers import KID, Algorithm
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

BOOT_ID = bytes(range(16))


def public_key(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def telemetry(serial, sequence, timestamp=None):
    now = int(time.time() * 1000) if timestamp is None else timestamp
    payload = {0: 1, 1: 1, 2: serial, 3: sequence, 4: sequence - 1, 5: now, 6: True, 7: BOOT_ID, 8: sequence * 1000,
               9: [["air", "temperature", 290.5 + sequence % 7, "K"]], 10: [["air", None]]}
    # Core deterministic encoding: cbor2's canonical mode sorts these
    # integer keys and uses the shortest integer and float forms.
    return cbor2.dumps(payload, canonical=True)


def sign(payload, seed, kid_of=None):
    public = public_key(seed)
    kid = hashlib.sha256(kid_of if kid_of is not None else public).digest()[:16]
    message = Sign1Message(phdr={Algorithm: EdDSA, KID: kid}, payload=payload)
    message.key = OKPKey(crv=Ed25519, d=seed, x=public)
    return message.encode()


def main(port, serial, seed_hex, revoked_serial, revoked_seed_hex, count):
    seed, revoked_seed, count = bytes.fromhex(seed_hex), bytes.fromhex(revoked_seed_hex), int(count)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="paho-publisher")
    client.connect("127.0.0.1", int(port))
    client.loop_start()

    def publish(topic, payload):
        info = client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)
        if not info.is_published():
            sys.exit(f"no PUBACK for a message on {topic}")

    topic = f"fieldproof/v1/{serial}/telemetry"
    sent = {}
    for sequence in range(1, count + 1):
        sent[sequence] = sign(telemetry(serial, sequence), seed)
        publish(topic, sent[sequence])
    stranger = os.urandom(32)
    publish(topic, sign(telemetry(serial, count + 1), stranger, kid_of=public_key(seed)))              # forged
    publish(topic, sent[1])                                                                           # replayed (the same bytes)
    publish(topic, sign(telemetry(serial, 2, timestamp=int(time.time() * 1000) - 3_600_000), seed))  # sequence 2 again, other bytes
    publish(f"fieldproof/v1/{revoked_serial}/telemetry", sign(telemetry(serial, count + 1), seed))    # wrong topic
    publish("fieldproof/v1/ghost-1/telemetry", sign(telemetry("ghost-1", 1), stranger))               # unknown device
    publish(f"fieldproof/v1/{revoked_serial}/telemetry", sign(telemetry(revoked_serial, 1), revoked_seed))  # revoked
    publish(topic, os.urandom(17 * 1024))                                                             # oversized
    publish(topic, bytes([0xD2, 0x84, 0x40]))                                                          # malformed
    future = int(time.time() * 1000) + 3_600_000
    publish(topic, sign(telemetry(serial, count + 1, timestamp=future), seed))                        # from the future
    for sequence in range(count + 1, 2 * count + 1):
        publish(topic, sign(telemetry(serial, sequence), seed))
    client.loop_stop()
    client.disconnect()
    print(f"published {2 * count} honest and 8 bad messages")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
