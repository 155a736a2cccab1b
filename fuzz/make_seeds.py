#!/usr/bin/env python3
"""Writes the seed corpus of the two fuzz targets to corpus/<target>/seed-* (deterministic).

A fuzz input is [mode, rest..] (see src/lib.rs): mode & 3 = 0 parses `rest` as is, 1 gzips it
(level (mode >> 2) % 10; for mode >> 2 = 61, 62, 63 followed by a gzip member of 1 MiB - 1,
1 MiB or 1 MiB + 1 zeros), 2 gzips it as two members, 3 gzips and then damages it. Run from fuzz/:
    python3 make_seeds.py
"""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def images(n, rows, cols):
    """A valid IDX images file: n images of rows x cols, pixel k = (7k) mod 256."""
    head = struct.pack(">IIII", 0x803, n, rows, cols)
    return head + bytes((7 * k) % 256 for k in range(n * rows * cols))


def labels(values):
    """A valid IDX labels file."""
    return struct.pack(">II", 0x801, len(values)) + bytes(values)


def modes(plain):
    """The same IDX content under each wrapping mode."""
    return {
        "raw": bytes([0]) + plain,
        "pregz": bytes([0]) + gzip.compress(plain, compresslevel=6, mtime=0),
        "gz": bytes([6 << 2 | 1]) + plain,
        "gz-stored": bytes([0 << 2 | 1]) + plain,
        "gz-2members": bytes([32 << 2 | 2]) + plain,
        "gz-flipped": bytes([16 << 3 | 3]) + plain,
        "gz-truncated": bytes([16 << 3 | 4 | 3]) + plain,
    }


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"seed-{name}"), "wb") as f:
        f.write(data)


for stem, plain in [("3x2x3", images(3, 2, 3)), ("1x1x1", images(1, 1, 1)), ("0x28x28", images(0, 28, 28))]:
    for mode, data in modes(plain).items():
        if stem == "3x2x3" or mode in ("raw", "gz"):
            write("idx_images", f"{mode}-{stem}", data)

for stem, plain in [("5", labels([3, 1, 4, 1, 5])), ("10", labels(range(10))), ("0", labels([]))]:
    for mode, data in modes(plain).items():
        if stem == "5" or mode in ("raw", "gz"):
            write("idx_labels", f"{mode}-{stem}", data)

# Gzip bombs (mode 1 with zero padding): a header that accounts for the 1 MiB of zeros (valid),
# and ones that leave 1 MiB - 1, 1 MiB and 1 MiB + 1 trailing zeros.
MIB = 1 << 20
big = images(3, 1, 2)
big = big[:4] + struct.pack(">I", 3 + MIB // 2) + big[8:]  # 3 images of 1x2 + MIB/2 all-zero ones
write("idx_images", "gzbomb-ok-1x2", bytes([62 << 2 | 1]) + big)
big = struct.pack(">II", 0x801, 5 + MIB) + bytes([3, 1, 4, 1, 5])  # 5 labels + MIB zeros
write("idx_labels", "gzbomb-ok", bytes([62 << 2 | 1]) + big)
for param in (61, 62, 63):
    write("idx_images", f"gzbomb-trailing-{param}", bytes([param << 2 | 1]) + images(3, 2, 3))
    write("idx_labels", f"gzbomb-trailing-{param}", bytes([param << 2 | 1]) + labels([3, 1, 4, 1, 5]))
