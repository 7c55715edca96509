#!/usr/bin/env python3
"""Generate a counterparty register of N cards for cp-match's benchmark.

    gen-register.py --cards N [--seed S] [--format csv|xml] --out FILE

csv (the default) writes the register as man/cmlkit-csv.5's "The
counterparty register" (header row; a card may take several rows with the
same id, the first carrying the card's fields, each later one adding a
contact person); xml writes the same cards as a CommerceML 2.08 counterparty
package (one Контрагенты, СодержитТолькоИзменения="false", contact persons
as Представители with their own Контакты), the way the accounting system
exports it, to measure loading a CommerceML register too.

Card i is a pure function of (seed, i) (card(seed, i) below), so
gen-buyers.py, given the same seed and N, knows every card without reading
the file.  The mix, by i mod 100 (slot):

* cards 0 and 1: marketplaces (legal entities marked marketplace);
* slots 40 and 80: a legal head card; slots 41 and 81: its branch (same
  INN, another KPP, head_id = the head), so 2% branches;
* slot 98: a legal card; slot 99: a planted strong duplicate of it (same
  INN and KPP, same email, another Ид and name): 1% (cp-match --self
  merges these);
* slot 69: a legal card; slot 70: another legal entity (its own INN) that
  shares 69's email (an accountant's address): a weak link, proposed by
  --self, and "several candidates" for a buyer with that email;
* slot 60: shares slot 59's phone (a weak link only);
* slot 13: deleted (ПометкаУдаления);
* the rest: 55% legal entities (KPP, OKPO, 0 to 3 contact persons with their
  own email and phone), 15% individual entrepreneurs (12-digit INN, no KPP,
  0 or 1 contact person), 30% persons (40% of them with a 12-digit INN).
  A fifth of the cards have a second email.

Every INN has correct check digits (DOMAIN.md A2), every KPP the form
NNNNXXNNN.  The output is a pure function of the arguments (same bytes on
every run); it is written to FILE.tmp and renamed.  Standard library only;
about 30k cards a second.
"""

import argparse
import os
import random
import sys
import time

MASK64 = (1 << 64) - 1

K_CARD, K_PERSON = 0xC1, 0xC2


def _mix64(x):
    """splitmix64 finaliser (as gen-catalog.py)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def guid(seed, kind, i):
    h1 = _mix64(_mix64(seed * 0x100000001B3 + 4242) ^ (kind << 56) ^ i)
    h2 = _mix64(h1 ^ 0x5851F42D4C957F2D)
    s = "%016x%016x" % (h1, h2)
    return "%s-%s-1%s-%s-%s" % (s[0:8], s[8:12], s[13:16], s[16:20], s[20:32])


W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
W11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
W12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check(d, w):
    return sum(a * b for a, b in zip(d, w)) % 11 % 10


def inn10(r):
    """A legal entity's INN: a region 01..89, seven more digits, the check digit."""
    d = [int(c) for c in "%02d" % r.randint(1, 89)] + [r.randint(0, 9) for _ in range(7)]
    d.append(_check(d, W10))
    return "".join(map(str, d))


def inn12(r):
    d = [int(c) for c in "%02d" % r.randint(1, 89)] + [r.randint(0, 9) for _ in range(8)]
    d.append(_check(d, W11))
    d.append(_check(d, W12))
    return "".join(map(str, d))


def inn_valid(s):
    """DOMAIN.md A2, for checking what was generated (and gen-buyers' invalid INNs)."""
    if not s.isdigit() or set(s) == {"0"}:
        return False
    d = [int(c) for c in s]
    if len(d) == 10:
        return _check(d[:9], W10) == d[9]
    if len(d) == 12:
        return _check(d[:10], W11) == d[10] and _check(d[:11], W12) == d[11]
    return False


WORDS = ["Ромашка", "Вектор", "Альянс", "Север", "Меридиан", "Гранит", "Восход", "Прогресс",
         "Текстиль", "Уют", "Фортуна", "Orion", "Стройресурс", "Хозторг", "Лидер", "Кедр"]
FORMS = [("ООО", "Общество с ограниченной ответственностью"),
         ("АО", "Акционерное общество"), ("ПАО", "Публичное акционерное общество")]
LAST = ["Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов", "Волков", "Соколов",
        "Лебедев", "Козлов", "Новиков", "Морозов", "Орлов", "Белов", "Зайцев", "Егоров"]
FIRST = ["Иван", "Пётр", "Алексей", "Сергей", "Андрей", "Дмитрий", "Михаил", "Николай"]
FIRST_F = ["Анна", "Мария", "Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана"]
MIDDLE = ["Иванович", "Петрович", "Алексеевич", "Сергеевич", "Андреевич", "Дмитриевич"]
MIDDLE_F = ["Ивановна", "Петровна", "Алексеевна", "Сергеевна", "Андреевна", "Дмитриевна"]
CITIES = [("170001", "Тверь"), ("150000", "Ярославль"), ("153000", "Иваново"),
          ("600000", "Владимир"), ("214000", "Смоленск"), ("248000", "Калуга"),
          ("107076", "Москва"), ("191186", "Санкт-Петербург")]
STREETS = ["ул. Советская", "пр-т Калинина", "ул. Ленина", "ул. Мира", "ул. Садовая"]
MARKETPLACES = [('ООО "Маркетплейс-Один"', 'Общество с ограниченной ответственностью "Маркетплейс-Один"'),
                ('ООО "Маркетплейс-Два"', 'Общество с ограниченной ответственностью "Маркетплейс-Два"')]


def fio(r):
    if r.random() < 0.5:
        return "%sа %s %s" % (r.choice(LAST), r.choice(FIRST_F), r.choice(MIDDLE_F))
    return "%s %s %s" % (r.choice(LAST), r.choice(FIRST), r.choice(MIDDLE))


def phone(r):
    return "+7 9%02d %03d-%02d-%02d" % (r.randint(0, 99), r.randint(0, 999), r.randint(0, 99),
                                         r.randint(0, 99))


def address(r):
    zip_, city = r.choice(CITIES)
    return "%s, %s, %s, %d" % (zip_, city, r.choice(STREETS), r.randint(1, 150))


class Card:
    __slots__ = ("i", "id", "kind", "name", "full_name", "inn", "kpp", "okpo", "head",
                 "emails", "phone", "persons", "deleted", "marketplace", "reg_address",
                 "legal_address", "role")

    @property
    def strong(self):
        """A card a buyer can be matched to by its INN alone: a legal entity or
        an entrepreneur with an INN, not deleted, not a marketplace, not a
        branch, not a duplicate, not sharing its email."""
        return (self.role == "" and self.inn != "" and not self.deleted
                and self.kind in ("legal", "entrepreneur"))


def slot_role(i):
    """What card i is in the planted structure ("" for an ordinary card)."""
    if i < 2:
        return "marketplace"
    return {40: "head", 41: "branch", 80: "head", 81: "branch", 98: "dup-of", 99: "dup",
            69: "shared-a", 70: "shared-b", 59: "phone-a", 60: "phone-b",
            13: "deleted"}.get(i % 100, "")


def card(seed, i):
    """Card i of the register with this seed."""
    r = random.Random((seed << 32) ^ i)
    c = Card()
    c.i = i
    c.id = guid(seed, K_CARD, i)
    c.role = role = slot_role(i)
    c.head = None
    c.deleted = role == "deleted"
    c.marketplace = role == "marketplace"
    c.okpo = ""
    c.kpp = ""
    c.reg_address = ""
    c.legal_address = ""
    c.persons = []
    c.phone = phone(r)
    if role in ("marketplace", "head", "branch", "dup-of", "dup", "shared-a", "shared-b"):
        kind = "legal"
    else:
        x = r.random()
        kind = "legal" if x < 0.55 else "entrepreneur" if x < 0.70 else "person"
    c.kind = kind
    if kind == "legal":
        form, form_full = FORMS[r.randrange(3) if r.random() < 0.2 else 0]
        word = "%s-%d" % (r.choice(WORDS), i)
        c.name = '%s "%s"' % (form, word)
        c.full_name = '%s "%s"' % (form_full, word)
        if role == "marketplace":
            c.name, c.full_name = MARKETPLACES[i]
        c.inn = inn10(r)
        c.kpp = c.inn[:4] + "01001"
        c.okpo = "%08d" % r.randint(10000000, 99999999)
        c.legal_address = address(r)
        c.emails = ["office@org%d.example" % i]
        n = r.choices((0, 1, 2, 3), (15, 50, 25, 10))[0]
        for j in range(n):
            c.persons.append((guid(seed, K_PERSON, i * 4 + j), fio(r),
                              "p%d.%d@org%d.example" % (i, j, i), phone(r)))
    elif kind == "entrepreneur":
        name = fio(r)
        last, first, middle = name.split(" ")
        c.name = "ИП %s %s. %s." % (last, first[0], middle[0])
        c.full_name = "Индивидуальный предприниматель " + name
        c.inn = inn12(r)
        c.reg_address = address(r)
        c.emails = ["ip%d@mail.example" % i]
        if r.random() < 0.3:
            c.persons.append((guid(seed, K_PERSON, i * 4), fio(r),
                              "p%d.0@mail.example" % i, phone(r)))
    else:
        c.name = c.full_name = fio(r)
        c.inn = inn12(r) if r.random() < 0.4 else ""
        c.reg_address = address(r)
        c.emails = ["client%d@mail.example" % i]
    if r.random() < 0.2:
        c.emails.append("c%d.second@mail.example" % i)
    if role == "branch":
        h = card(seed, i - 1)
        c.head = h.id
        c.inn = h.inn
        c.kpp = "%s%02d%03d" % ("%04d" % r.randint(1000, 9999), 43, r.randint(1, 999))
        c.name = h.name + " (филиал %d)" % i
        c.full_name = "Обособленное подразделение " + h.name
        c.persons = c.persons[:1]
    elif role == "dup":
        h = card(seed, i - 1)
        c.inn, c.kpp, c.okpo = h.inn, h.kpp, h.okpo
        c.name = h.name.replace('"', "") + " (дубль)"
        c.full_name = h.full_name
        c.emails = h.emails[:1]
        c.persons = []
    elif role == "shared-b":
        c.emails = ["office@org%d.example" % (i - 1)]
    elif role == "phone-b":
        c.phone = card(seed, i - 1).phone
    return c


COLUMNS = ["id", "name", "full_name", "kind", "inn", "kpp", "okpo", "head_id", "email", "phone",
           "person_id", "person_name", "person_email", "person_phone", "reg_address",
           "legal_address", "deleted", "marketplace"]


def csv_rows(c):
    p = c.persons[0] if c.persons else ("", "", "", "")
    yield [c.id, c.name, c.full_name, c.kind, c.inn, c.kpp, c.okpo, c.head or "",
           ";".join(c.emails), c.phone, p[0], p[1], p[2], p[3], c.reg_address, c.legal_address,
           "1" if c.deleted else "", "1" if c.marketplace else ""]
    for p in c.persons[1:]:
        yield [c.id, "", "", "", "", "", "", "", "", "", p[0], p[1], p[2], p[3], "", "", "", ""]


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def address_xml(w, tag, text):
    if text:
        w("\t\t\t<%s>\n\t\t\t\t<Представление>%s</Представление>\n\t\t\t</%s>\n"
          % (tag, esc(text), tag))


def contacts_xml(w, indent, emails, phones):
    if not emails and not phones:
        return
    w(indent + "<Контакты>\n")
    for t, vs in (("Электронная почта", emails), ("Телефон рабочий", phones)):
        for v in vs:
            w("%s\t<Контакт>\n%s\t\t<Тип>%s</Тип>\n%s\t\t<Значение>%s</Значение>\n%s\t</Контакт>\n"
              % (indent, indent, t, indent, esc(v), indent))
    w(indent + "</Контакты>\n")


def card_xml(w, c):
    w("\t\t<Контрагент>\n\t\t\t<Ид>%s</Ид>\n\t\t\t<ПометкаУдаления>%s</ПометкаУдаления>\n"
      "\t\t\t<Наименование>%s</Наименование>\n"
      % (c.id, "true" if c.deleted else "false", esc(c.name)))
    if c.kind == "person":
        w("\t\t\t<ПолноеНаименование>%s</ПолноеНаименование>\n" % esc(c.full_name))
    else:
        w("\t\t\t<ОфициальноеНаименование>%s</ОфициальноеНаименование>\n" % esc(c.full_name))
    w("\t\t\t<Роль>Покупатель</Роль>\n")
    w("\t\t\t<ИНН>%s</ИНН>\n" % c.inn if c.inn else "\t\t\t<ИНН/>\n")
    w("\t\t\t<КПП>%s</КПП>\n" % c.kpp if c.kpp else "\t\t\t<КПП/>\n")
    if c.okpo:
        w("\t\t\t<КодПоОКПО>%s</КодПоОКПО>\n" % c.okpo)
    address_xml(w, "ЮридическийАдрес", c.legal_address)
    address_xml(w, "АдресРегистрации", c.reg_address)
    contacts_xml(w, "\t\t\t", c.emails, [c.phone])
    if c.persons:
        w("\t\t\t<Представители>\n")
        for pid, name, email, ph in c.persons:
            w("\t\t\t\t<Представитель>\n\t\t\t\t\t<Отношение>Контактное лицо</Отношение>\n"
              "\t\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t\t<Наименование>%s</Наименование>\n"
              % (pid, esc(name)))
            contacts_xml(w, "\t\t\t\t\t", [email], [ph])
            w("\t\t\t\t</Представитель>\n")
        w("\t\t\t</Представители>\n")
    w("\t\t</Контрагент>\n")


def generate(n, seed, fmt, out, quiet=False):
    tmp = out + ".tmp"
    start = time.monotonic()
    rows = persons = branches = dups = 0
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        if fmt == "csv":
            import csv
            cw = csv.writer(f, lineterminator="\n")
            cw.writerow(COLUMNS)
        else:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n<КоммерческаяИнформация '
                    'xmlns="urn:1C.ru:commerceml_2" ВерсияСхемы="2.08" '
                    'ДатаФормирования="2026-11-20T08:15:00">\n'
                    '\t<Контрагенты СодержитТолькоИзменения="false">\n')
            parts = []
            w = parts.append
        for i in range(n):
            c = card(seed, i)
            persons += len(c.persons)
            branches += c.role == "branch"
            dups += c.role == "dup"
            if fmt == "csv":
                for row in csv_rows(c):
                    cw.writerow(row)
                    rows += 1
            else:
                card_xml(w, c)
                if len(parts) > 5000:
                    f.write("".join(parts))
                    parts.clear()
            if not quiet and (i + 1) % 200000 == 0:
                print("gen-register: %d of %d cards, %.0f s" % (i + 1, n, time.monotonic() - start),
                      file=sys.stderr)
        if fmt != "csv":
            w("\t</Контрагенты>\n</КоммерческаяИнформация>\n")
            f.write("".join(parts))
    os.replace(tmp, out)
    if not quiet:
        print("gen-register: %d cards (%d contact persons, %d branches, %d planted duplicates)%s, "
              "%.1f MiB in %s, %.1f s"
              % (n, persons, branches, dups, ", %d rows" % rows if fmt == "csv" else "",
                 os.path.getsize(out) / 1048576, out, time.monotonic() - start), file=sys.stderr)


def main():
    p = argparse.ArgumentParser(prog="gen-register.py",
                                description="A counterparty register of N cards (see bench/README.md).")
    p.add_argument("--cards", type=int, required=True, help="how many cards")
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--format", choices=("csv", "xml"), default="csv",
                   help="csv (cmlkit-csv(5)) or xml (a CommerceML 2.08 counterparty package)")
    p.add_argument("--out", required=True, help="the file to write")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args()
    if args.cards < 0:
        p.error("--cards must not be negative")
    generate(args.cards, args.seed, args.format, args.out, args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
