#!/usr/bin/env python3
"""make_pictures.py: writes the sample shop's pictures (examples/shop).

The catalog names six pictures (Картинка) under import_files/, relative
to each copy of the catalog (cml/ and csv/), as 1C writes them beside
import.xml. Each is a valid 8x8 grey baseline JPEG of its own shade, so
every file is distinct and tiny; nothing is downloaded.

    python3 scripts/make_pictures.py examples/shop

Also used by bench/run-pictures.sh (import make_jpeg) for its 20k files.
"""
import os
import re
import struct
import sys


def segment(marker, payload):
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def make_jpeg(shade, comment=b""):
    """An 8x8 greyscale JPEG, every pixel `shade` (0..255): one block whose
    only coefficient is DC, quantised by 1, coded with one-code tables.
    A comment (COM segment) makes files of one shade distinct."""
    dc = 8 * (shade - 128)  # the forward DCT of a flat block
    cat = abs(dc).bit_length()
    bits = format(dc if dc >= 0 else dc + (1 << cat) - 1, "0%db" % cat) if cat else ""
    stream = "0" + bits + "0"  # DC code, its amplitude, then EOB
    stream += "1" * (-len(stream) % 8)
    data = bytearray()
    for i in range(0, len(stream), 8):
        b = int(stream[i:i + 8], 2)
        data.append(b)
        if b == 0xFF:
            data.append(0)  # byte stuffing
    one_code = bytes([1] + [0] * 15)
    out = b"\xff\xd8"
    out += segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if comment:
        out += segment(0xFE, comment)
    out += segment(0xDB, b"\x00" + b"\x01" * 64)
    out += segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
    out += segment(0xC4, b"\x00" + one_code + bytes([cat]))
    out += segment(0xC4, b"\x10" + one_code + b"\x00")
    out += segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return out + bytes(data) + b"\xff\xd9"


def main():
    shop = sys.argv[1] if len(sys.argv) > 1 else "examples/shop"
    names = set()
    for sub in ("cml", "csv"):
        for f in sorted(os.listdir(os.path.join(shop, sub))):
            if os.path.isdir(os.path.join(shop, sub, f)):
                continue
            with open(os.path.join(shop, sub, f), "rb") as fp:
                names.update(re.findall(rb"import_files/[0-9a-f]{2}/[0-9a-f_-]+\.jpg", fp.read()))
    for i, name in enumerate(sorted(names)):
        for sub in ("cml", "csv"):
            path = os.path.join(shop, sub, name.decode())
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fp:
                fp.write(make_jpeg(40 + 30 * i))
            print(path)


if __name__ == "__main__":
    main()
