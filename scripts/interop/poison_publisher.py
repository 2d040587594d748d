#!/usr/bin/env python3
"""Publishes poison Fieldproof telemetry with code nobody on this project
wrote (paho-mqtt, cbor2, pycose): messages that are signed by the device's
bound key and well formed on the wire, but carry values, sequences, clocks
or repeats meant to break whoever tallies them.

  poison_publisher.py PORT SERIAL SEED_HEX poison
  poison_publisher.py PORT SERIAL SEED_HEX anchor
  poison_publisher.py PORT SERIAL SEED_HEX honest COUNT

poison: one message of each kind below (sequences fixed, see POISON), each
  at QoS 1 on fieldproof/v1/SERIAL/telemetry, waiting for its PUBACK.
anchor: the synchronised messages of the boots the poison phase left
  unsynchronised, so that re-timing is attempted (sent in a second run so
  the unsynchronised ones are in before their anchor).
honest: COUNT ordinary messages, sequences 1..COUNT.

Prints one line per message (`<label> <sequence> <bytes>`); exits non-zero
when a PUBACK does not come. Used by Tests/FieldproofCLITests/PoisonInputTests.swift,
which holds the verdict expected for each message.
"""
import hashlib
import signal
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

U64_MAX = 2**64 - 1
MAX_MS_SINCE_BOOT = 3_155_760_000_000       # 100 years: the largest the aggregator accepts
HONEST_BOOT = bytes(range(16))
SYNCED_BOOT = bytes([0xA0]) * 16            # the synchronised poison messages
BOOT_LATE = bytes([0xB0]) * 16              # unsynchronised; anchored later with a small ms since boot
BOOT_EARLY = bytes([0xB1]) * 16             # unsynchronised; anchored later with a huge ms since boot (boot before 1970)


def now_ms():
    return int(time.time() * 1000)


def telemetry(serial, sequence, floor=None, timestamp=None, synchronised=True, boot=SYNCED_BOOT, ms_since_boot=None,
              value=290.5):
    payload = {
        0: 1, 1: 1, 2: serial,
        3: sequence,
        4: sequence - 1 if floor is None else floor,
        5: now_ms() if timestamp is None else timestamp,
        6: synchronised,
        7: boot,
        8: (sequence % 1_000_000) * 1000 if ms_since_boot is None else ms_since_boot,
        9: [["air", "temperature", value, "K"]],
        10: [["air", None]],
    }
    # Core deterministic encoding: canonical mode sorts the integer keys and
    # takes the shortest integer and float forms (NaN and the infinities as
    # half floats, 0x7e00 / 0x7c00 / 0xfc00, as RFC 8949 §4.2.2 wants).
    return cbor2.dumps(payload, canonical=True)


def public_key(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sign(payload, seed):
    public = public_key(seed)
    kid = hashlib.sha256(public).digest()[:16]        # docs/wire-format.md: first 16 bytes of SHA-256(public key)
    message = Sign1Message(phdr={Algorithm: EdDSA, KID: kid}, payload=payload)
    message.key = OKPKey(crv=Ed25519, d=seed, x=public)
    return message.encode()


def poison(serial, seed):
    """(label, sequence, bytes) of every poison message, in sending order."""
    s = lambda payload: sign(payload, seed)
    t = lambda *args, **kwargs: telemetry(serial, *args, **kwargs)
    truncated = s(t(13, value=281.0))
    return [
        ("value-nan", 1, s(t(1, value=float("nan")))),
        ("value-plus-inf", 2, s(t(2, value=float("inf")))),
        ("value-minus-inf", 3, s(t(3, value=float("-inf")))),
        ("value-1e308-a", 4, s(t(4, value=1e308))),                          # two in one epoch, one metric: the sum
        ("value-1e308-b", 5, s(t(5, value=1e308))),                          # would overflow to +inf
        ("sequence-u64-max", U64_MAX, s(t(U64_MAX, floor=U64_MAX - 1))),
        ("sequence-2^53", 2**53, s(t(2**53, floor=2**53 - 1))),
        ("timestamp-u64-max", 6, s(t(6, timestamp=U64_MAX))),
        ("timestamp-zero-synchronised", 7, s(t(7, timestamp=0))),
        ("ms-since-boot-2^63", 8, s(t(8, timestamp=86_400_000, synchronised=False, boot=BOOT_LATE, ms_since_boot=2**63))),
        ("ms-since-boot-u64-max", 9, s(t(9, timestamp=86_400_001, synchronised=False, boot=BOOT_LATE, ms_since_boot=U64_MAX))),
        # At the bound: accepted, waits for its boot's anchor, then re-timed ~100 years ahead.
        ("ms-since-boot-at-bound", 10, s(t(10, timestamp=86_400_002, synchronised=False, boot=BOOT_LATE,
                                             ms_since_boot=MAX_MS_SINCE_BOOT, value=282.0))),
        # Accepted, waits; its anchor says the boot was ~100 years ago: re-timed before 1970.
        ("unsynchronised-at-boot", 11, s(t(11, timestamp=0, synchronised=False, boot=BOOT_EARLY, ms_since_boot=0, value=283.0))),
        ("conflict-first", 12, s(t(12, value=280.0))),
        ("conflict-second", 12, s(t(12, value=999.0))),                      # same (serial, sequence), other readings
        ("garbage", 0, b"\xff\xfe\xfd not CBOR, not COSE \x00\x01\x02"),
        ("truncated-cose", 13, truncated[: len(truncated) // 2]),
    ]


def anchors(serial, seed):
    now = now_ms()
    return [
        ("anchor-late-boot", 14, sign(telemetry(serial, 14, timestamp=now, boot=BOOT_LATE, ms_since_boot=10_000, value=284.0), seed)),
        ("anchor-early-boot", 15, sign(telemetry(serial, 15, timestamp=now, boot=BOOT_EARLY, ms_since_boot=MAX_MS_SINCE_BOOT,
                                                 value=285.0), seed)),
    ]


def honest(serial, seed, count):
    return [("honest", n, sign(telemetry(serial, n, boot=HONEST_BOOT, ms_since_boot=n * 1000, value=290.5 + n), seed))
            for n in range(1, count + 1)]


def main(arguments):
    if len(arguments) < 4 or arguments[3] not in ("poison", "anchor", "honest") or (arguments[3] == "honest") != (len(arguments) == 5):
        sys.exit(__doc__)
    port, serial, seed, phase = int(arguments[0]), arguments[1], bytes.fromhex(arguments[2]), arguments[3]
    # Never outlive the test that started us, whatever the broker does.
    signal.alarm(60)
    if phase == "poison":
        messages = poison(serial, seed)
    elif phase == "anchor":
        messages = anchors(serial, seed)
    else:
        messages = honest(serial, seed, int(arguments[4]))

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"paho-{phase}-{serial}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    topic = f"fieldproof/v1/{serial}/telemetry"
    for label, sequence, payload in messages:
        if label == "conflict-second":
            # The aggregator verifies on several workers: without a pause the
            # two could be committed in either order, and the test could not
            # say which one must be the conflict.
            time.sleep(1.0)
        info = client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)
        if not info.is_published():
            sys.exit(f"no PUBACK for {label} (sequence {sequence}) on {topic}")
        print(label, sequence, len(payload), flush=True)
    client.loop_stop()
    client.disconnect()
    print(f"published {len(messages)} {phase} messages as {serial}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
