#!/usr/bin/env python3
"""Generate a 1C-Bitrix query answer (type=sale&mode=query) of N orders.

    gen-orders.py --orders N [--seed S] [--version V] [--encoding cp1251|utf-8] --out FILE

The orders are the test site's (tests/site/cmlorders.py): Bitrix's ID as Ид,
the prefixed account number as Номер, a person or a company as the buyer,
3 to 5 product lines and usually an ORDER_DELIVERY line (about five lines
an order), the requisites Bitrix writes.  Order k is the test site's order k
of a shop with the same seed (at version 1), so `cmlsite.py --sale-orders N
--sale-seed S` sends the same orders.  --version picks the form (2.05 by
default; 2.10 adds a payment and a shipment document beside each order).
windows-1251 by default, as Bitrix converts its answer.

The file is a pure function of the arguments (ДатаФормирования is fixed):
running it again gives the same bytes.  It is written to FILE.tmp and
renamed.  Standard library only; about 10k orders a second.
"""

import argparse
import datetime
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "site"))

import cmlorders  # noqa: E402  (the test site's shop, one generator for both)

STAMP = datetime.datetime(2026, 11, 27, 9, 5, 0)  # ДатаФормирования, fixed


def generate(n, seed, version, encoding, out, quiet=False):
    shop = cmlorders.Shop(seed)
    schema, ver = cmlorders.schema_of(version)
    codec = "utf-8" if encoding == "utf-8" else "cp1251"
    tmp = out + ".tmp"
    start = time.monotonic()
    with open(tmp, "wb") as f:
        f.write(cmlorders.header(schema, "UTF-8" if codec == "utf-8" else "windows-1251",
                                 STAMP).encode(codec))
        parts = []
        w = parts.append
        for k in range(1, n + 1):
            shop.order(k).documents_xml(w, ver)
            if len(parts) > 20000:
                f.write("".join(parts).encode(codec, "xmlcharrefreplace"))
                parts.clear()
            if not quiet and k % 20000 == 0:
                print("gen-orders: %d of %d orders, %.0f s" % (k, n, time.monotonic() - start),
                      file=sys.stderr)
        w(cmlorders.FOOTER)
        f.write("".join(parts).encode(codec, "xmlcharrefreplace"))
    os.replace(tmp, out)
    if not quiet:
        print("gen-orders: %d orders, %.1f MiB in %s, %.1f s" % (
            n, os.path.getsize(out) / 1048576, out, time.monotonic() - start), file=sys.stderr)


def main():
    p = argparse.ArgumentParser(prog="gen-orders.py",
                                description="A Bitrix query answer of N orders (see bench/README.md).")
    p.add_argument("--orders", type=int, required=True, help="how many orders")
    p.add_argument("--seed", type=int, default=1, help="the shop's seed (default 1)")
    p.add_argument("--version", default="2.05", help="schema version of the answer (default 2.05)")
    p.add_argument("--encoding", choices=("cp1251", "utf-8"), default="cp1251",
                   help="default cp1251 (windows-1251), as Bitrix sends it")
    p.add_argument("--out", required=True, help="the file to write")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args()
    if args.orders < 0:
        p.error("--orders must not be negative")
    generate(args.orders, args.seed, args.version, args.encoding, args.out, args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
