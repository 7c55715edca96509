"""cmlimport: what the test site does with the order documents 1C sends it.

A 1C-Bitrix site applies the CommerceML order documents uploaded with
type=sale (mode=file for old clients, mode=import for new ones) through
CSaleOrderLoader (modules/sale/general/order_loader.php).  This module does
the same to the test site's shop (cmlorders.Shop), following
/work/prompts/SITE_FACTS.md, which was read in that source:

- the root's ВерсияСхемы picks the code: below 2.1 every Документ goes to
  the old path (oldSaveOrder), from 2.1 (and inside a Контейнер) to the
  partial-version path;
- only ХозОперация "Заказ товара" is an order document; from 2.1 also the
  payment (Выплата безналичных денег, Выплата наличных денег, Эквайринговая
  операция) and shipment (Отпуск товара) documents, found by Основание;
- the order is found by Номер (ID, ID_1C, account number, the account number
  without the shop prefix), then by Ид = ID_1C, then (old path) by
  Номер1С = ID_1C; an order not found is ignored (IMPORT_NEW_ORDERS=N);
- old path: with a НомерВерсии other than the stored VERSION_1C the basket is
  synchronised (basket lines missing from the document are DELETED) unless
  the order is paid, delivery-allowed or final, which appends "Заказ №ID не
  может быть изменен (...)"; then, whatever that step did, cancel/un-cancel,
  "Дата оплаты по 1С" (paid), "Дата отгрузки по 1С" (delivery allowed, the
  final status), and "Статуса заказа ИД" only with --change-status-from-1c;
- an order the document changed gets UPDATED_1C=Y: it is not in the next
  query (the site marks it confirmed at its new version).

Standard library only.
"""

import datetime
import re
import xml.etree.ElementTree as ET

import cmlorders

PARTIAL_VERSION = 2.1  # CSaleOrderLoader::PARTIAL_VERSION

ORDER_OP = "Заказ товара"
PAYMENT_OPS = ("Выплата безналичных денег", "Выплата наличных денег", "Эквайринговая операция")
SHIPMENT_OP = "Отпуск товара"

# sale.export.1c lang/ru/component.php
MSG_FINAL_NOT_EDIT = ("Заказ №{} не может быть изменен (находится в финальном статусе, оплачен "
                      "или разрешена доставка).")
MSG_DOCUMENT = "Документ с Ид - {}."
MSG_NO_XML_ID = ("Для документа со стороны 1С не передан уникальный идентификатор - 'Ид'. "
                 "Документ не может быть обработан. ")
MSG_PAY_NO_ORDER = "Документ с Ид - {}. Заказ основание для оплаты на сайте не найден"
MSG_PAY_FINAL = ("Документ с Ид - {}. Оплата для заказа №{} не может быть создана/изменена т.к. "
                 "документ основание имеет финальный статус")
MSG_PAY_CANCELLED = ("Документ с Ид - {}. Оплата для заказа №{} не может быть создана/изменена "
                     "т.к. документ основание отменен")
MSG_SHIP_FINAL = ("Документ с Ид - {}. Доставка для заказа основания №{} не может быть "
                  "создана/изменена т.к. документ основание имеет финальный статус")

NUMERIC = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")  # PHP is_numeric


class Doc:
    """The parts of one Документ the loader reads (collectDocumentInfo)."""

    def __init__(self, el):
        def text(tag):
            return (el.findtext(tag) or "").strip()

        self.xml_id = text("Ид")
        self.number = text("Номер")
        self.number_1c = text("Номер1С")
        self.version = text("НомерВерсии")
        self.op = text("ХозОперация")
        self.base = text("Основание")
        self.date_1c = text("Дата1С")
        self.comment = text("Комментарий")
        self.mark = text("ПометкаУдаления")  # the element (arOrder["CANCELED"])
        self.traits = {}
        for r in el.findall("ЗначенияРеквизитов/ЗначениеРеквизита"):
            self.traits[(r.findtext("Наименование") or "").strip()] = (
                r.findtext("Значение") or "").strip()
        self.items = []  # [(Ид, name, price kop, quantity, type)] in document order
        for t in el.findall("Товары/Товар"):
            price = to_kop(t.findtext("ЦенаЗаЕдиницу"))
            if price <= 0:
                price = to_kop(t.findtext("Цена"))
            kind = ""
            for r in t.findall("ЗначенияРеквизитов/ЗначениеРеквизита"):
                if (r.findtext("Наименование") or "").strip() == "ТипНоменклатуры":
                    kind = (r.findtext("Значение") or "").strip()
            count = to_float(t.findtext("Количество"))
            if count > 0:
                self.items.append(((t.findtext("Ид") or "").strip(),
                                   (t.findtext("Наименование") or "").strip(), price, count, kind))

    def trait(self, name):
        return self.traits.get(name, "")


def to_float(s):
    """Bitrix's ToFloat: spaces out, a comma is a decimal point."""
    s = (s or "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return 0.0


def to_kop(s):
    return int(round(to_float(s) * 100))


def date_of(value):
    """A requisite date as the site stores it: "T" replaced by a space."""
    return value.replace("T", " ").strip()


class Goods:
    """A basket line's product when 1C sets its own price or adds a line."""

    def __init__(self, guid, name, price, unit=cmlorders.UNITS[0]):
        self.guid = guid
        self.name = name
        self.price = price
        self.unit = unit


class Result:
    """What one document did: for the answer and applied.log."""

    def __init__(self, path, doc):
        self.path = path
        self.doc = doc
        self.order = None
        self.changes = []
        self.errors = []
        self.touched = False  # the loader saved the order (UPDATED_1C=Y)

    def change(self, what):
        self.changes.append(what)
        self.touched = True


class Importer:
    """Applies order documents to a shop; `confirmed` is the site's per-order
    confirmed version (the order's UPDATED_1C: confirmed == version)."""

    def __init__(self, shop, confirmed, change_status=False, final_status="F"):
        self.shop = shop
        self.confirmed = confirmed
        self.change_status = change_status
        self.final_status = final_status

    # -- finding the order ---------------------------------------------------

    def by_id(self, code):
        try:
            k = int(code) - 1000
        except ValueError:
            return None
        if 1 <= k <= len(self.shop.orders):
            return self.shop.orders[k - 1]
        return None

    def by_1c(self, code):
        """The newest order whose ID_1C is code."""
        for o in reversed(self.shop.orders):
            if code and o.id_1c == code:
                return o
        return None

    def by_account(self, code):
        # ACCOUNT_NUMBER is the ID on this site (Bitrix's default template)
        return self.by_id(code) if code.isdigit() else None

    def by_code(self, code):
        """getOrderIdByDocument: the order a Номер (or Основание) names."""
        prefix = cmlorders.SHOP_PREFIX
        if not code:
            return None
        if NUMERIC.match(code):
            o = self.by_id(code.strip()) or self.by_1c(code) or self.by_account(code)
            if o is None and code.startswith(prefix):
                o = self.by_id(code[len(prefix):])
            return o
        o = self.by_1c(code) or self.by_account(code)
        if o is None and code.startswith(prefix):
            rest = code[len(prefix):]
            o = self.by_id(rest) or self.by_account(rest)
        return o

    def find(self, doc, old):
        o = self.by_code(doc.number)
        if o is None and doc.xml_id:
            o = self.by_1c(doc.xml_id)
        if o is None and old and doc.number_1c:
            o = self.by_1c(doc.number_1c)
        return o

    # -- a file --------------------------------------------------------------

    def apply_file(self, path):
        """Every complete Документ of the file, as CXMLFileStream finds them
        (a file cut short: the documents before the cut).  Returns the list
        of Results; the answer's error text is their errors, each after a
        newline."""
        parser = ET.XMLPullParser(("start", "end"))
        results = []
        state = {"depth": 0, "schema": cmlorders.version_number("2.05"), "container": 0}

        def events():
            for ev, el in parser.read_events():
                if ev == "start":
                    # names without their namespace, as CXMLFileStream matches them
                    # (1C and cml_orderfmt write xmlns="urn:1C.ru:commerceml_2")
                    if "}" in el.tag:
                        el.tag = el.tag.split("}", 1)[1]
                    state["depth"] += 1
                    if state["depth"] == 1:
                        v = el.get("ВерсияСхемы")
                        state["schema"] = cmlorders.version_number(v) if v else 2.05
                    elif state["depth"] == 2 and el.tag == "Контейнер":
                        state["container"] = 1
                    continue
                state["depth"] -= 1
                top = state["depth"] == 1 or (state["container"] and state["depth"] == 2)
                if el.tag == "Документ" and top:
                    old = state["schema"] < PARTIAL_VERSION and not state["container"]
                    results.append(self.apply(Doc(el), old))
                    el.clear()
                elif el.tag == "Контейнер" and state["depth"] == 1:
                    state["container"] = 0
                    el.clear()

        try:
            with open(path, "rb") as f:
                while True:
                    data = f.read(1 << 16)
                    if not data:
                        break
                    parser.feed(data)
                    events()
            parser.close()
            events()
        except ET.ParseError:
            events()  # what was complete before the damage stays applied
        return results

    # -- one document -----------------------------------------------------

    def apply(self, doc, old):
        r = Result("old" if old else "2.1", doc)
        if old:
            if doc.op == ORDER_OP:
                self.old_order(doc, r)
        elif doc.op == ORDER_OP:
            self.new_order(doc, r)
        elif doc.op in PAYMENT_OPS:
            self.new_payment(doc, r)
        elif doc.op == SHIPMENT_OP:
            self.new_shipment(doc, r)
        o = r.order
        if o is not None and r.touched:
            if any(not c.startswith(("version_1c", "id_1c")) for c in r.changes):
                o.version += 1  # Bitrix's VERSION: the order was saved with changes
            self.confirmed[o.k] = o.version  # UPDATED_1C=Y: not in the next query
        return r

    def basket(self, o, doc, cancels, r, old=True):
        """Synchronise the basket with the document's lines (old and 2.1
        path alike): lines with the same product Ид take the document's
        quantity and price, lines the document leaves out are deleted
        (unless the document cancels or the order is cancelled), new goods
        are added, the service line sets the delivery price."""
        items = {}
        for it in doc.items:
            items[it[0]] = it  # keyed by product Ид: the last one wins
        cart = []
        need = False
        matched = set()
        removed = changed = 0
        for line in o.lines:
            it = items.get(line.product.guid)
            if it is None:
                if not cancels and not o.cancelled:
                    need = True
                removed += 1
                continue
            # DISCOUNT_PRICE "" vs "0.00" compares unequal in PHP: always updated
            need = True
            matched.add(it[0])
            count = int(round(it[3]))
            if count != line.count or it[2] != line.product.price:
                changed += 1
                if it[2] != line.product.price:
                    line.product = Goods(line.product.guid, line.product.name, it[2],
                                         line.product.unit)
                line.count = count
            cart.append(line)
        added = []
        delivery = None
        price_delivery = 0
        for guid, name, price, count, kind in doc.items:
            if guid in matched:
                continue
            if kind == "Товар":
                added.append(cmlorders.Line(Goods(guid, name, price), int(round(count)),
                                            1000 + o.k * 10 + len(o.lines) + len(added)))
                need = True
            elif kind == "Услуга":
                price_delivery = price
            # old path: compared after every unmatched line (a new line before
            # the delivery line sets the delivery price to 0 first, and that stays)
            if (old or kind == "Услуга") and price_delivery != o.delivery[2] and delivery is None:
                delivery = price_delivery
        if need:
            if removed or added or changed:
                r.change("lines:+%d-%d~%d" % (len(added), removed, changed))
            o.lines = cart + added
            r.touched = True
        if delivery is not None and delivery != o.delivery[2]:
            o.delivery = (o.delivery[0], o.delivery[1], delivery)
            r.change("delivery_price")

    def set_status(self, o, code, r):
        o.status = code
        o.status_date = now()
        r.change("status=" + code)

    def cancel(self, o, reason, r):
        o.cancelled = True
        o.cancel_reason = reason
        o.status_date = now()
        r.change("canceled")

    def uncancel(self, o, r):
        o.cancelled = False
        o.cancel_reason = ""
        r.change("uncanceled")

    def old_order(self, doc, r):
        """CSaleOrderLoader::oldSaveOrder for a found order."""
        o = r.order = self.find(doc, True)
        if o is None:
            return  # IMPORT_NEW_ORDERS=N: ignored, and the answer is still success
        t = doc.trait
        status_before = o.status
        cancels = doc.mark == "true" or t("ПометкаУдаления") == "true" or t("Отменен") == "true"
        if doc.version != o.version_1c or not o.version_1c or not doc.version:
            if not (o.paid or o.allowed or o.status == "F"):
                self.basket(o, doc, cancels, r)
                if doc.comment and doc.comment != o.comments_1c:
                    o.comments_1c = doc.comment
                    r.change("comments")
                if doc.number_1c != o.id_1c:
                    o.id_1c = doc.number_1c
                    r.change("id_1c")
                if doc.version != o.version_1c:
                    r.change("version_1c")
                o.version_1c = doc.version
                r.touched = True
            else:
                r.errors.append(MSG_FINAL_NOT_EDIT.format(o.id))
        if cancels:
            if not o.cancelled:
                self.cancel(o, doc.comment, r)
        else:
            if t("ПометкаУдаления") != "true" and o.cancelled:
                self.uncancel(o, r)
            pay_date = t("Дата оплаты по 1С")
            if len(pay_date) > 1:
                if not o.paid:
                    o.paid = True
                    o.paid_date = now()
                    r.change("paid")
                self.pay_voucher(o, date_of(pay_date), t("Номер оплаты по 1С"), r)
            ship_date = t("Дата отгрузки по 1С")
            if len(ship_date) > 1:
                if not o.allowed:
                    o.allowed = True
                    r.change("allow_delivery")
                d = date_of(ship_date)
                o.allowed_date = parse_date(d) or o.allowed_date or now()
                if o.delivery_date != d:
                    o.delivery_date = d
                    r.change("delivery_date")
                final = self.final_status
                if final and status_before != "F" and status_before != final:
                    self.set_status(o, final, r)
                if t("Номер отгрузки по 1С") and t("Номер отгрузки по 1С") != o.delivery_num:
                    o.delivery_num = t("Номер отгрузки по 1С")
                    r.change("delivery_number")
                r.touched = True
        self.status_from_1c(o, doc, status_before, r)

    def pay_voucher(self, o, date, number, r):
        if o.pay_date != date:
            o.pay_date = date
            r.change("pay_date")
        if number and number != o.pay_num:
            o.pay_num = number
            r.change("pay_number")
        r.touched = True

    def status_from_1c(self, o, doc, status_before, r):
        code = doc.trait("Статуса заказа ИД")
        if self.change_status and code and code != status_before:
            self.set_status(o, code, r)

    # -- the 2.1 path ------------------------------------------------------

    def new_order(self, doc, r):
        """The partial-version order document (updateOrderWithoutShipmentsPayments
        and updateEntityCompatible1C)."""
        if not doc.xml_id:
            r.errors.append(MSG_NO_XML_ID)
            return
        o = r.order = self.find(doc, False)
        if o is None:
            return  # Bitrix would create the order here (1C_IMPORT_NEW_ORDERS=Y); see tests/README
        t = doc.trait
        status_before = o.status
        cancels = doc.mark == "true" or t("Отменен") == "true"
        refused = False
        differs = doc.version != o.version_1c or not o.version_1c or not doc.version
        if differs:
            if (not o.paid or o.paid_by_1c) and o.status != "F":
                self.basket(o, doc, cancels, r, old=False)
                if doc.comment and doc.comment != o.comments_1c:
                    o.comments_1c = doc.comment
                    r.change("comments")
                r.touched = True
            else:
                refused = True
                r.errors.append(MSG_DOCUMENT.format(doc.xml_id)
                                + MSG_FINAL_NOT_EDIT.format(o.id))
        if cancels:
            if not o.cancelled:
                self.cancel(o, doc.comment, r)
        elif o.cancelled:
            self.uncancel(o, r)
        self.status_from_1c(o, doc, status_before, r)
        if refused:
            return
        if differs:
            pay_date = t("Дата оплаты по 1С")
            if pay_date:
                if not o.cancelled and not o.paid:
                    o.paid = o.paid_by_1c = True
                    o.paid_date = now()
                    r.change("paid")
                self.pay_voucher(o, date_of(pay_date), "", r)
            elif not o.cancelled and o.paid_by_1c:
                o.paid = o.paid_by_1c = False  # the 1C payment is deleted
                r.change("unpaid")
            if t("Дата отгрузки по 1С"):
                if not o.deducted and not o.marked:
                    o.marked = True  # "получен статус полной отгрузки ... не были получены все документы"
                    r.change("marked")
                elif o.marked and o.deducted:
                    o.marked = False
                    r.change("unmarked")
            elif o.marked:
                o.marked = False
                r.change("unmarked")
        if doc.version != o.version_1c:
            r.change("version_1c")
        o.version_1c = doc.version
        if doc.xml_id != o.id_1c:
            o.id_1c = doc.xml_id
            r.change("id_1c")
        r.touched = True

    def new_payment(self, doc, r):
        if not doc.xml_id:
            r.errors.append(MSG_NO_XML_ID)
            return
        o = r.order = self.by_code(doc.base)
        if o is None:
            r.errors.append(MSG_PAY_NO_ORDER.format(doc.xml_id))
            return
        if o.cancelled:
            r.errors.append(MSG_PAY_CANCELLED.format(doc.xml_id, o.id))
            return
        if o.status == "F":
            r.errors.append(MSG_PAY_FINAL.format(doc.xml_id, o.id))
            return
        t = doc.trait
        if doc.mark == "true":
            if o.paid:
                o.paid = o.paid_by_1c = False
                r.change("unpaid")
        elif t("Оплачен") == "true" and doc.mark != "true" and t("Отменен") != "true":
            if not o.paid:
                o.paid = True
                o.paid_date = now()
                r.change("paid")
            if t("Дата оплаты по 1С"):
                self.pay_voucher(o, date_of(t("Дата оплаты по 1С")), t("Номер оплаты по 1С"), r)
        r.touched = True

    def new_shipment(self, doc, r):
        if not doc.xml_id:
            r.errors.append(MSG_NO_XML_ID)
            return
        o = r.order = self.by_code(doc.base)
        if o is None:
            return  # Bitrix would create an order for it; see tests/README
        if o.status == "F":
            r.errors.append(MSG_SHIP_FINAL.format(doc.xml_id, o.id))
            return
        t = doc.trait
        if doc.mark == "true":
            if o.deducted:
                o.deducted = False
                r.change("undeducted")
        elif len(doc.date_1c) > 1:
            if t("Отгружен") == "true" and not o.deducted:
                o.allowed = o.deducted = True
                o.allowed_date = o.allowed_date or now()
                r.change("deducted")
            d = date_of(doc.date_1c)
            if o.delivery_date != d:
                o.delivery_date = d
                r.change("delivery_date")
            if t("Номер отгрузки по 1С") and t("Номер отгрузки по 1С") != o.delivery_num:
                o.delivery_num = t("Номер отгрузки по 1С")
                r.change("delivery_number")
            if o.marked and o.deducted:
                o.marked = False
                r.change("unmarked")
        if o.deducted and self.final_status and o.status not in ("F", self.final_status):
            self.set_status(o, self.final_status, r)
        r.touched = True


def now():
    return datetime.datetime.now().replace(microsecond=0)


def parse_date(s):
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(s, fmt)
        except ValueError:
            pass
    return None


def state_of(o, confirmed):
    """An order as the site shows it (the control request sale/orders)."""
    return {
        "id": o.id, "number": o.number, "status": o.status,
        "paid": o.paid, "pay_date": o.pay_date, "pay_number": o.pay_num,
        "allow_delivery": o.allowed, "deducted": o.deducted,
        "delivery_date": o.delivery_date, "delivery_number": o.delivery_num,
        "canceled": o.cancelled, "cancel_reason": o.cancel_reason, "marked": o.marked,
        "lines": [{"id": line.product.guid, "name": line.product.name, "quantity": line.count,
                   "price": cmlorders.money(line.product.price)} for line in o.lines],
        "delivery_price": cmlorders.money(o.delivery[2]), "sum": cmlorders.money(o.total()),
        "version": o.version, "version_1c": o.version_1c, "id_1c": o.id_1c,
        "comments": o.comments_1c, "updated_1c": confirmed.get(o.k) == o.version,
    }
