#!/usr/bin/env python3
"""Generate an orders document of M orders whose buyers exercise every row
of cp-match's decision table against a register made by gen-register.py.

    gen-buyers.py --orders M --cards N [--seed S] --out FILE [--manifest FILE.tsv]

The register is gen-register.py's with the same --seed and --cards N: this
generator computes the cards it needs (gen-register's card(seed, i)) instead
of reading the file.  The document is CommerceML 2.08 in UTF-8 as a 1C-Bitrix
site writes it and orders-pull passes it on (PROTOCOL.md section 10, the test
site's tests/site/cmlorders.py): Bitrix's ID as Ид, the prefixed account
number as Номер, the buyer with its Контакты ("Электронная почта",
"Телефон рабочий") directly under Контрагент and, for a company, one
"Контактное лицо" Представитель with the name alone.  Each order is lean (one
or two goods lines, three requisites) so that the benchmark weighs the
matching rather than the reading.

Each order's buyer is one of these cases (weights in per cent; the decision
cp-match should take in brackets, its "rule" name):

  email         20  a card's email, no INN (a person)            [email]
  person-email   5  the email of a card's contact person          [email]
  inn           15  a card's INN (and KPP), a new email           [inn: a new contact person]
  both          15  a card's email and its INN                    [email+inn]
  conflict       5  one card's email, another card's INN          [conflict]
  branch         5  a card's INN with a new KPP                   [branch]
  several        5  an email two cards share, or the INN+KPP of a
                    planted duplicate pair                        [several:inn+kpp, several:head or review]
  email-other-inn 2 a card's email with another valid INN         [email-other-inn]
  new           16  an unknown email, and a new INN or none       [new]
  invalid-inn    5  an unknown email and an INN with a wrong check digit  [new; the INN reported]
  bad-email      2  no INN and an email that is none (no @)       [new; the email reported]
  no-keys        3  a name, and a phone or nothing else           [new; a warning when nothing]
  marketplace    2  a marketplace card (the buyer of record)      [marketplace]

--manifest writes "order_number<TAB>case<TAB>card_id" for every order (the
card the case was built from; empty for new buyers), so a run's decisions
can be compared case by case.  The output is a pure function of the
arguments; it is written to FILE.tmp and renamed.  Standard library only.
"""

import argparse
import datetime
import hashlib
import importlib.util
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "site"))

import cmlorders  # noqa: E402  (the test site's shop: goods, header, helpers)

_spec = importlib.util.spec_from_file_location("gen_register", os.path.join(HERE, "gen-register.py"))
reg = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reg)

STAMP = datetime.datetime(2026, 11, 27, 9, 5, 0)
VERSION = 2.08

CASES = [("email", 20), ("person-email", 5), ("inn", 15), ("both", 15), ("conflict", 5),
         ("branch", 5), ("several", 5), ("email-other-inn", 2), ("new", 16),
         ("invalid-inn", 5), ("bad-email", 2), ("no-keys", 3), ("marketplace", 2)]
CASE_NAMES = [c for c, _ in CASES]
CASE_WEIGHTS = [w for _, w in CASES]
esc = cmlorders.esc


class Buyer:
    """What the site writes about the buyer of one order."""

    def __init__(self):
        self.company = False
        self.name = ""        # the company's name, or the person's full name
        self.person = ""      # the contact person (companies) or the person
        self.inn = ""
        self.kpp = ""
        self.email = ""
        self.phone = ""


class Gen:
    def __init__(self, seed, ncards):
        self.seed = seed
        self.n = ncards
        self.cache = {}

    def card(self, i):
        c = self.cache.get(i)
        if c is None:
            if len(self.cache) > 100000:
                self.cache.clear()
            c = self.cache[i] = reg.card(self.seed, i)
        return c

    def find(self, r, ok):
        """A random card for which ok(card) holds (walking on from a random index)."""
        i = r.randrange(self.n)
        for step in range(self.n):
            c = self.card((i + step) % self.n)
            if ok(c):
                return c
        raise SystemExit("gen-buyers: the register of %d cards has no card for a case: "
                         "use --cards 200 or more" % self.n)

    def find_slot(self, r, slot):
        """A card in a planted slot (i mod 100), below N."""
        blocks = self.n // 100
        if blocks == 0 or self.n < 100:
            raise SystemExit("gen-buyers: --cards must be at least 100")
        b = r.randrange(blocks)
        return self.card(b * 100 + slot)


def plain(c):
    return c.role == "" and not c.deleted


def as_company(b, c, r):
    """The buyer as the company of card c writes itself on the site."""
    b.company = c.kind != "person"
    b.name = c.name
    b.person = reg.fio(r) if b.company else c.name
    b.inn = c.inn if b.company else ""
    b.kpp = c.kpp


def new_person(b, r):
    b.company = False
    b.name = b.person = reg.fio(r)


def new_company(b, r, inn):
    b.company = True
    b.name = 'ООО "Новый клиент-%d"' % r.randrange(10 ** 6)
    b.person = reg.fio(r)
    b.inn = inn
    b.kpp = inn[:4] + "01001" if len(inn) == 10 else ""


def bad_inn(r):
    v = reg.inn10(r)
    return v[:9] + str((int(v[9]) + 1 + r.randrange(9)) % 10)


def buyer_of(g, k, r):
    case = r.choices(CASE_NAMES, CASE_WEIGHTS)[0]
    b = Buyer()
    b.phone = reg.phone(r)
    new_email = "buyer%d@new%d.example" % (k, k % 1000)
    card = ""
    if case == "email":
        c = g.find(r, lambda c: plain(c))
        new_person(b, r)
        b.email = c.emails[-1]
        card = c.id
    elif case == "person-email":
        c = g.find(r, lambda c: plain(c) and c.persons)
        p = c.persons[r.randrange(len(c.persons))]
        b.company = False
        b.name = b.person = p[1]
        b.email = p[2]
        card = c.id
    elif case == "inn":
        c = g.find(r, lambda c: c.strong)
        as_company(b, c, r)
        b.email = new_email
        card = c.id
    elif case == "both":
        c = g.find(r, lambda c: c.strong)
        as_company(b, c, r)
        b.email = c.emails[0]
        card = c.id
    elif case == "conflict":
        a = g.find(r, lambda c: plain(c))
        c = g.find(r, lambda x: x.strong and x.inn != a.inn and x.id != a.id)
        as_company(b, c, r)
        b.email = a.emails[0]
        card = c.id
    elif case == "branch":
        c = g.find(r, lambda c: c.strong and c.kind == "legal")
        as_company(b, c, r)
        b.kpp = "%04d%02d%03d" % (r.randint(1000, 9999), 45, r.randint(1, 999))
        b.name = c.name + " (обособленное подразделение)"
        b.email = new_email
        card = c.id
    elif case == "several":
        v = r.randrange(3)
        if v == 0:  # the shared email alone: two heads, review
            c = g.find_slot(r, 69)
            new_person(b, r)
            b.email = c.emails[0]
        elif v == 1:  # the shared email and the second card's INN: exact INN+KPP
            c = g.find_slot(r, 70)
            as_company(b, c, r)
            b.email = c.emails[0]
        else:  # the INN+KPP of a planted duplicate pair, a new email
            c = g.find_slot(r, 98)
            as_company(b, c, r)
            b.email = new_email
        card = c.id
    elif case == "email-other-inn":
        c = g.find(r, lambda c: c.strong and c.kind == "legal")
        new_company(b, r, reg.inn10(r))
        b.email = c.emails[0]
        card = c.id
    elif case == "new":
        if r.random() < 0.5:
            new_person(b, r)
        else:
            new_company(b, r, reg.inn10(r))
        b.email = new_email
    elif case == "invalid-inn":
        new_company(b, r, bad_inn(r))
        b.email = new_email
    elif case == "bad-email":
        new_person(b, r)
        b.email = "buyer%d.new%d.example" % (k, k % 1000)
    elif case == "no-keys":
        new_person(b, r)
        if r.random() < 0.5:
            b.phone = ""
    else:  # marketplace
        c = g.card(r.randrange(min(2, g.n)))
        as_company(b, c, r)
        b.email = c.emails[0]
        card = c.id
    return case, card, b


def buyer_xml(w, k, b):
    user = 10 + k
    w("<Контрагенты>\n<Контрагент>\n<Ид>%s</Ид>\n"
      % esc(("%d#user%d#%s" % (user, user, b.person))[:40]))
    if b.company:
        w("<Наименование>%s</Наименование>\n<ОфициальноеНаименование>%s</ОфициальноеНаименование>\n"
          % (esc(b.name), esc(b.name)))
        if b.inn:
            w("<ИНН>%s</ИНН>\n" % b.inn)
        if b.kpp:
            w("<КПП>%s</КПП>\n" % b.kpp)
    else:
        parts = b.person.split(" ")
        w("<Наименование>%s</Наименование>\n<ПолноеНаименование>%s</ПолноеНаименование>\n"
          "<Фамилия>%s</Фамилия>\n<Имя>%s</Имя>\n"
          % (esc(b.person), esc(b.person), esc(parts[0]), esc(parts[1] if len(parts) > 1 else "")))
        if len(parts) > 2:
            w("<Отчество>%s</Отчество>\n" % esc(parts[2]))
    if b.email or b.phone:
        w("<Контакты>\n")
        if b.email:
            w("<Контакт>\n<Тип>Электронная почта</Тип>\n<Значение>%s</Значение>\n</Контакт>\n"
              % esc(b.email))
        if b.phone:
            w("<Контакт>\n<Тип>Телефон рабочий</Тип>\n<Значение>%s</Значение>\n</Контакт>\n"
              % esc(b.phone))
        w("</Контакты>\n")
    if b.company:
        rep_id = hashlib.md5(b.person.encode("utf-8")).hexdigest()
        w("<Представители>\n<Представитель>\n<Контрагент>\n<Отношение>Контактное лицо</Отношение>\n"
          "<Ид>%s</Ид>\n<Наименование>%s</Наименование>\n</Контрагент>\n</Представитель>\n"
          "</Представители>\n" % (rep_id, esc(b.person)))
    w("<Роль>Покупатель</Роль>\n</Контрагент>\n</Контрагенты>\n")


def order_xml(w, k, r, b, catalog):
    created = cmlorders.BASE_DATE + datetime.timedelta(seconds=k * 37)
    lines = [(catalog.products[r.randrange(len(catalog.products))], r.randint(1, 3))
             for _ in range(r.randint(1, 2))]
    total = sum(p.price * n for p, n in lines)
    w("<Документ>\n<Ид>%d</Ид>\n<Номер>%s%d</Номер>\n<Дата>%s</Дата>\n"
      "<ХозОперация>Заказ товара</ХозОперация>\n<Роль>Продавец</Роль>\n"
      "<Валюта>RUB</Валюта>\n<Курс>1</Курс>\n<Сумма>%s</Сумма>\n"
      % (1000 + k, cmlorders.SHOP_PREFIX, 1000 + k, created.strftime("%Y-%m-%d"),
         cmlorders.money(total, 4)))
    buyer_xml(w, k, b)
    w("<Время>%s</Время>\n<Товары>\n" % created.strftime("%H:%M:%S"))
    for p, n in lines:
        w("<Товар>\n<Ид>%s</Ид>\n<ИдКаталога>%s</ИдКаталога>\n<Наименование>%s</Наименование>\n"
          % (p.guid, catalog.id, esc(p.name)))
        cmlorders.unit_xml(w, VERSION, p.unit)
        w("<ЦенаЗаЕдиницу>%s</ЦенаЗаЕдиницу>\n<Количество>%s</Количество>\n<Сумма>%s</Сумма>\n"
          "</Товар>\n" % (cmlorders.money(p.price, 4), cmlorders.qty(n), cmlorders.money(p.price * n)))
    w("</Товары>\n")
    cmlorders.requisites_xml(w, [("Метод оплаты ИД", "3"), ("Заказ оплачен", "false"),
                                 ("Статуса заказа ИД", "N")])
    w("</Документ>\n")


def generate(m, n, seed, out, manifest, quiet=False):
    g = Gen(seed, n)
    catalog = cmlorders.Catalog(seed)
    tmp = out + ".tmp"
    start = time.monotonic()
    counts = {c: 0 for c in CASE_NAMES}
    mf = open(manifest + ".tmp", "w", encoding="utf-8") if manifest else None
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(cmlorders.header("%.2f" % VERSION, "UTF-8", STAMP))
        parts = []
        w = parts.append
        for k in range(1, m + 1):
            r = random.Random((seed << 40) ^ (k << 1) ^ 1)
            case, card, b = buyer_of(g, k, r)
            counts[case] += 1
            order_xml(w, k, r, b, catalog)
            if mf:
                mf.write("%s%d\t%s\t%s\n" % (cmlorders.SHOP_PREFIX, 1000 + k, case, card))
            if len(parts) > 20000:
                f.write("".join(parts))
                parts.clear()
            if not quiet and k % 50000 == 0:
                print("gen-buyers: %d of %d orders, %.0f s" % (k, m, time.monotonic() - start),
                      file=sys.stderr)
        w(cmlorders.FOOTER)
        f.write("".join(parts))
    if mf:
        mf.close()
        os.replace(manifest + ".tmp", manifest)
    os.replace(tmp, out)
    if not quiet:
        print("gen-buyers: %d orders against %d cards, %.1f MiB in %s, %.1f s; cases: %s" % (
            m, n, os.path.getsize(out) / 1048576, out, time.monotonic() - start,
            " ".join("%s=%d" % kv for kv in counts.items())), file=sys.stderr)


def main():
    p = argparse.ArgumentParser(prog="gen-buyers.py",
                                description="Orders whose buyers mix every row of cp-match's "
                                            "decision table (see bench/README.md).")
    p.add_argument("--orders", type=int, required=True, help="how many orders")
    p.add_argument("--cards", type=int, required=True,
                   help="the register's size (gen-register.py --cards, same seed)")
    p.add_argument("--seed", type=int, default=1, help="the register's seed (default 1)")
    p.add_argument("--out", required=True, help="the document to write")
    p.add_argument("--manifest", help="also write order number, case and card per order (TSV)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args()
    if args.orders < 0:
        p.error("--orders must not be negative")
    if args.cards < 100:
        p.error("--cards must be at least 100 (the planted cases repeat every 100 cards)")
    generate(args.orders, args.cards, args.seed, args.out, args.manifest, args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
