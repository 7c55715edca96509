"""cmlorders: the orders of a test shop, and the query answer a 1C-Bitrix site writes for them.

Shared by the test site (cmlsite.py: its sale side) and the order benchmark
(bench/gen-orders.py), so that both write the same documents.  Standard
library only.

An order is a pure function of (seed, order number, version): order k of a
shop with seed S at version v always has the same content, so a test can
rebuild any state the site was in.  What it looks like follows
shared/reference/COMMERCEML.md section 6.1-6.2 and PROTOCOL.md section 10
(Sale): Bitrix's ID as Ид and ACCOUNT_NUMBER (with the shop prefix) as
Номер; the buyer a person or a company, with Адрес and Контакты directly
under Контрагент and, for a company, one "Контактное лицо" representative
whose Ид is the md5 of the name; contact types by schema version ("Почта",
"ТелефонРабочий" at 2.05, "Электронная почта", "Телефон рабочий" above);
about five lines, the delivery as the ORDER_DELIVERY line; the document
requisites Bitrix writes; from 2.10 on a payment document and a shipment
document beside each order (Основание = the order's Ид, Bitrix 16.0.13);
from 3 on each order and its documents in a Контейнер.

Each change of an order (Order.change) raises its version by one and
changes what a manager or a buyer would: the status, payment, delivery
permission, a quantity, a new line, the comment, or a cancellation.
"""

import datetime
import hashlib
import random

SHOP_PREFIX = "ИМ-"  # 1C_SALE_ACCOUNT_NUMBER_SHOP_PREFIX: Номер = prefix + account number
SITE_NAME = "[s1] Интернет-магазин «Ромашка»"
CATALOG_KEY = 0xC47A
BASE_DATE = datetime.datetime(2026, 11, 20, 9, 0, 0)
ROOT_ATTRS = ('ФорматДаты="ДФ=yyyy-MM-dd; ДЛФ=DT" ФорматВремени="ДФ=ЧЧ:мм:сс; ДЛФ=T" '
              'РазделительДатаВремя="T" ФорматСуммы="ЧЦ=18; ЧДЦ=2; ЧРД=." '
              'ФорматКоличества="ЧЦ=18; ЧДЦ=2; ЧРД=."')

MASK64 = (1 << 64) - 1


def _mix64(x):
    """splitmix64 finaliser (as bench/gen-catalog.py): ids from (seed, kind, i)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def guid(seed, kind, i):
    h1 = _mix64(_mix64(seed * 0x100000001B3 + 777) ^ (kind << 56) ^ i)
    h2 = _mix64(h1 ^ 0x5851F42D4C957F2D)
    s = "%016x%016x" % (h1, h2)
    return "%s-%s-1%s-%s-%s" % (s[0:8], s[8:12], s[13:16], s[16:20], s[20:32])


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def money(kop, places=2):
    """Kopecks as a decimal string with `places` fraction digits (2 or 4)."""
    s = "%d.%02d" % (kop // 100, kop % 100)
    return s + "00" if places == 4 else s


def qty(n):
    return "%d.0000" % n


def version_number(v):
    """A schema version string as a number: "2.10" -> 2.1, "3.1" -> 3.1."""
    try:
        return float(str(v).replace(",", "."))
    except ValueError:
        return 0.0


# -- the shop's assortment ----------------------------------------------------

GOODS = [
    ("Футболка мужская базовая", 89000, True), ("Футболка женская оверсайз", 99000, True),
    ("Джинсы прямые", 349000, True), ("Свитер шерстяной", 459000, True),
    ("Носки хлопковые, 3 пары", 29900, False), ("Куртка демисезонная", 899000, True),
    ("Полотенце махровое 50x90", 59000, True), ("Полотенце махровое 70x140", 79000, False),
    ("Плед флисовый 130x170", 149000, True), ("Подушка 50x70", 119000, False),
    ("Комплект постельного белья «Ромашка» 1,5-спальный", 263000, False),
    ("Средство для мытья посуды 500 мл", 18990, False), ("Губки для посуды, 10 шт.", 9900, False),
    ("Кружка керамическая 350 мл", 34900, True), ("Набор ножей, 5 предметов", 219000, False),
    ("Сковорода 26 см", 189000, False), ("Кастрюля 3 л", 159000, False),
    ("Контейнер для продуктов 1 л", 24900, True), ("Вешалки деревянные, 5 шт.", 39900, False),
    ("Корзина для белья", 99000, True), ("Зонт складной", 129000, True),
    ("Шарф вязаный", 79000, True), ("Шапка зимняя", 69000, True), ("Перчатки кожаные", 189000, True),
]
VARIANTS = ["S, Синий", "M, Синий", "L, Серый", "XL, Чёрный", "Белый", "Бежевый", "Красный"]
UNITS = [("796", "Штука", "PCE", "шт"), ("839", "Комплект", "SET", "компл")]

LAST = ["Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов", "Волков", "Соколов",
        "Лебедев", "Козлов", "Новиков", "Морозов"]
FIRST = ["Иван", "Пётр", "Алексей", "Сергей", "Андрей", "Дмитрий", "Михаил", "Николай"]
FIRST_F = ["Анна", "Мария", "Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана"]
MIDDLE = ["Иванович", "Петрович", "Алексеевич", "Сергеевич", "Андреевич", "Дмитриевич", ""]
MIDDLE_F = ["Ивановна", "Петровна", "Алексеевна", "Сергеевна", "Андреевна", ""]
CITIES = [("170001", "Тверь"), ("150000", "Ярославль"), ("153000", "Иваново"),
          ("600000", "Владимир"), ("214000", "Смоленск"), ("248000", "Калуга")]
STREETS = ["ул. Советская", "пр-т Калинина", "ул. Ленина", "ул. Мира", "наб. Степана Разина",
           "ул. Садовая", "пер. Свободный"]
COMPANIES = ["ООО \"Уютный дом\"", "ООО \"Текстиль-Центр\"", "ИП Соколова Т. А.",
             "АО \"Северный двор\"", "ООО \"Хозторг\" & К", "ООО \"Ромашка-Опт\""]
PAY = [("1", "Наличными курьеру", "Выплата наличных денег"),
       ("2", "Банковской картой на сайте", "Эквайринговая операция"),
       ("3", "Счёт для юридических лиц", "Выплата безналичных денег")]
DELIVERY = [("2", "Самовывоз", 0), ("3", "Курьер по городу", 30000),
            ("5", "Почта России", 45000)]
STATUS = {"N": "Принят, ожидается оплата", "P": "Оплачен, формируется к отправке",
          "F": "Выполнен"}
COMMENTS = ["", "", "Позвонить за час до доставки", "Оставить у консьержа",
            "Счёт выставить на организацию, оригиналы документов — с грузом",
            "Нужна подарочная упаковка <без ценника>"]
CANCEL_REASONS = ["Покупатель передумал", "Нет в наличии", "Дубль заказа"]


def inn10(r):
    """A legal entity's 10-digit ИНН with a valid check digit."""
    d = [r.randint(0, 9) for _ in range(9)]
    d[0] = r.randint(1, 9)
    w = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    d.append(sum(a * b for a, b in zip(d, w)) % 11 % 10)
    return "".join(map(str, d))


class Product:
    """Goods number `base`; with characteristics, its variant v as product#char."""

    def __init__(self, seed, base, v=0):
        name, price, has_chars = GOODS[base]
        self.guid = guid(seed, 1, base)
        self.name = name
        if has_chars:
            self.guid += "#" + guid(seed, 2, base * 16 + v)
            self.name = "%s (%s)" % (name, VARIANTS[(base * 3 + v * 2 + seed) % len(VARIANTS)])
        self.price = price
        self.unit = UNITS[1] if "Комплект" in name else UNITS[0]


class Catalog:
    """Every goods once, and a second variant (another size or colour) of
    those with characteristics: no two products with the same Ид or name."""

    def __init__(self, seed):
        self.id = guid(seed, 3, CATALOG_KEY)
        self.products = [Product(seed, b) for b in range(len(GOODS))]
        self.products += [Product(seed, b, 1) for b in range(len(GOODS)) if GOODS[b][2]]


class Line:
    def __init__(self, product, count, pos):
        self.product = product
        self.count = count
        self.pos = pos  # НомерПозицииКорзины

    @property
    def sum(self):
        return self.product.price * self.count


class Order:
    """One order of the shop: number k (Bitrix ID = 1000 + k), at a version."""

    def __init__(self, shop, k):
        r = random.Random("%d:order:%d" % (shop.seed, k))
        self.shop = shop
        self.k = k
        self.id = str(1000 + k)
        self.number = SHOP_PREFIX + str(1000 + k)
        self.created = BASE_DATE + datetime.timedelta(seconds=k * 397 + r.randint(0, 300))
        self.version = 1
        self.changed = self.created
        self.company = r.random() < 0.35
        user = 10 + k
        last = r.choice(LAST)
        female = r.random() < 0.5
        first = r.choice(FIRST_F if female else FIRST)
        middle = r.choice(MIDDLE_F if female else MIDDLE)
        if female:
            last += "а"
        self.person = " ".join(x for x in (last, first, middle) if x)
        login = "user%d" % user
        # Bitrix: USER_ID#LOGIN#LAST NAME SECOND_NAME cut to 40 characters,
        # the trailing space of an empty SECOND_NAME included
        self.buyer_id = ("%d#%s#%s %s %s" % (user, login, last, first, middle))[:40]
        self.last, self.first, self.middle = last, first, middle
        self.email = "%s.%d@example.ru" % (login, k % 97)
        self.phone = "+7 9%02d %03d-%02d-%02d" % (r.randint(0, 99), r.randint(0, 999),
                                                  r.randint(0, 99), r.randint(0, 99))
        zip_, city = r.choice(CITIES)
        street = "%s, %d, кв. %d" % (r.choice(STREETS), r.randint(1, 120), r.randint(1, 200))
        self.address = (zip_, city, street)
        if self.company:
            self.org = r.choice(COMPANIES)
            self.inn = inn10(r)
            self.kpp = self.inn[:4] + "01001"
            self.okpo = "%08d" % r.randint(10000000, 99999999)
            self.account = "40702810%012d" % r.randint(0, 10 ** 12 - 1)
        catalog = shop.catalog
        picks = r.sample(range(len(catalog.products)), r.randint(3, 5))
        self.lines = [Line(catalog.products[p], r.randint(1, 4), 1000 + k * 10 + n)
                      for n, p in enumerate(picks)]
        self.delivery = r.choice(DELIVERY)
        self.pay = PAY[2] if self.company else r.choice(PAY[:2])
        self.comment = r.choice(COMMENTS)
        self.status = "N"
        self.status_date = self.created
        self.paid = False
        self.paid_date = None
        self.allowed = False
        self.allowed_date = None
        self.cancelled = False
        self.cancel_reason = ""
        # what 1C's order documents set (cmlimport.py); none of it is in the
        # generated orders until a document arrives
        self.id_1c = ""  # ID_1C
        self.version_1c = ""  # VERSION_1C
        self.comments_1c = ""  # COMMENTS (the manager's comment)
        self.pay_date = ""  # PAY_VOUCHER_DATE
        self.pay_num = ""  # PAY_VOUCHER_NUM
        self.paid_by_1c = False  # paid by a payment 1C made (2.1 path)
        self.delivery_date = ""  # DELIVERY_DOC_DATE
        self.delivery_num = ""  # DELIVERY_DOC_NUM
        self.deducted = False  # DEDUCTED: shipped (2.1 path shipment documents)
        self.marked = False  # MARKED by a shipment date without shipped shipments

    # -- changes -----------------------------------------------------------

    def change(self):
        """One step of the order's life (deterministic per version): version + 1."""
        r = random.Random("%d:change:%d:%d" % (self.shop.seed, self.k, self.version))
        self.version += 1
        self.changed = self.changed + datetime.timedelta(hours=r.randint(1, 30),
                                                         seconds=r.randint(0, 3599))
        kinds = ["comment"]
        if not self.cancelled and self.status != "F":
            kinds += ["qty", "qty", "line", "cancel"]
            kinds += ["pay"] if not self.paid else ["status"]
            kinds += ["allow"] if not self.allowed else []
        kind = r.choice(kinds)
        if kind == "qty":
            line = r.choice(self.lines)
            line.count = line.count % 5 + 1
        elif kind == "line":
            # a product not in the basket yet (Bitrix adds to an existing line instead)
            have = {line.product.guid for line in self.lines}
            free = [p for p in self.shop.catalog.products if p.guid not in have]
            if free:
                p = free[r.randrange(len(free))]
                self.lines.append(Line(p, r.randint(1, 3), 1000 + self.k * 10 + len(self.lines)))
            else:
                self.lines[0].count = self.lines[0].count % 5 + 1
        elif kind == "cancel":
            self.cancelled = True
            self.cancel_reason = r.choice(CANCEL_REASONS)
            self.status_date = self.changed
        elif kind == "pay":
            self.paid = True
            self.paid_date = self.changed
            self.status = "P"
            self.status_date = self.changed
        elif kind == "allow":
            self.allowed = True
            self.allowed_date = self.changed
        elif kind == "status":
            self.status = "F"
            self.allowed = True
            self.allowed_date = self.allowed_date or self.changed
            self.status_date = self.changed
        else:
            self.comment = "Изменение %d: %s" % (self.version, r.choice(COMMENTS[2:]))
        self.kind = kind
        return kind

    # -- what it is worth ---------------------------------------------------

    def delivery_price(self):
        return self.delivery[2]

    def total(self):
        return sum(line.sum for line in self.lines) + self.delivery_price()

    # -- XML -----------------------------------------------------------------

    def xml(self, w, ver):
        """The order as Bitrix writes it at schema version ver (a number)."""
        c = self.created
        w("<Документ>\n")
        w("<Ид>%s</Ид>\n" % self.id)
        if ver >= 2.1:
            w("<НомерВерсии>%d</НомерВерсии>\n" % self.version)
        w("<Номер>%s</Номер>\n" % esc(self.number))
        w("<Дата>%s</Дата>\n" % c.strftime("%Y-%m-%d"))
        w("<ХозОперация>Заказ товара</ХозОперация>\n<Роль>Продавец</Роль>\n")
        w("<Валюта>RUB</Валюта>\n<Курс>1</Курс>\n")
        w("<Сумма>%s</Сумма>\n" % money(self.total(), 4))
        self.buyer_xml(w, ver)
        w("<Время>%s</Время>\n" % c.strftime("%H:%M:%S"))
        w("<Комментарий>%s</Комментарий>\n" % esc(self.comment))
        w("<Товары>\n")
        for line in self.lines:
            p = line.product
            w("<Товар>\n<Ид>%s</Ид>\n<ИдКаталога>%s</ИдКаталога>\n<Наименование>%s</Наименование>\n"
              % (p.guid, self.shop.catalog.id, esc(p.name)))
            unit_xml(w, ver, p.unit)
            w("<ЦенаЗаЕдиницу>%s</ЦенаЗаЕдиницу>\n<Количество>%s</Количество>\n<Сумма>%s</Сумма>\n"
              % (money(p.price, 4), qty(line.count), money(line.sum)))
            requisites_xml(w, [("ВидНоменклатуры", "Товар"), ("ТипНоменклатуры", "Товар"),
                               ("НомерПозицииКорзины", str(line.pos)),
                               ("СвойствоКорзины#CATALOG.XML_ID", self.shop.catalog.id),
                               ("СвойствоКорзины#PRODUCT.XML_ID", p.guid)])
            w("</Товар>\n")
        if self.delivery_price() > 0:
            w("<Товар>\n<Ид>ORDER_DELIVERY</Ид>\n<Наименование>Доставка заказа</Наименование>\n")
            unit_xml(w, ver, UNITS[0])
            d = self.delivery_price()
            w("<ЦенаЗаЕдиницу>%s</ЦенаЗаЕдиницу>\n<Количество>1</Количество>\n<Сумма>%s</Сумма>\n"
              % (money(d, 4), money(d)))
            requisites_xml(w, [("ВидНоменклатуры", "Услуга"), ("ТипНоменклатуры", "Услуга")])
            w("</Товар>\n")
        w("</Товары>\n")
        requisites_xml(w, self.requisites())
        w("</Документ>\n")

    def requisites(self):
        loc = "%d.%m.%Y %H:%M:%S"  # the site's locale, as Bitrix writes these dates
        iso = "%Y-%m-%d %H:%M:%S"
        req = [("Метод оплаты ИД", self.pay[0]), ("Метод оплаты", self.pay[1]),
               ("Заказ оплачен", "true" if self.paid else "false")]
        if self.paid:
            req += [("Дата оплаты", self.paid_date.strftime(iso)),
                    ("Номер платежного документа",
                     self.pay_num or "П-%s-%d" % (self.id, self.version))]
        req += [("Доставка разрешена", "true" if self.allowed else "false")]
        if self.allowed:
            req += [("Дата разрешения доставки", self.allowed_date.strftime(iso))]
        req += [("Способ доставки", self.delivery[1]), ("Метод доставки ИД", self.delivery[0]),
                ("Отменен", "true" if self.cancelled else "false")]
        if self.cancelled:
            req += [("Дата отмены заказа", self.status_date.strftime(iso)),
                    ("Причина отмены", self.cancel_reason)]
        req += [("Финальный статус", "true" if self.status == "F" else "false"),
                ("Статус заказа", "[%s] %s" % (self.status, STATUS.get(self.status, self.status))),
                ("Статуса заказа ИД", self.status),
                ("Дата изменения статуса", self.status_date.strftime(loc))]
        if self.comment:
            req += [("Комментарии покупателя", self.comment)]
        req += [("Сайт", SITE_NAME)]
        if self.delivery[0] != "2":
            req += [("Адрес доставки", self.address_text())]
        return req

    def address_text(self):
        return "%s, %s, %s" % self.address

    def address_xml(self, w, tag):
        zip_, city, street = self.address
        w("<%s>\n<Представление>%s</Представление>\n" % (tag, esc(self.address_text())))
        for t, v in (("Почтовый индекс", zip_), ("Город", city), ("Улица", street)):
            w("<АдресноеПоле>\n<Тип>%s</Тип>\n<Значение>%s</Значение>\n</АдресноеПоле>\n"
              % (t, esc(v)))
        w("</%s>\n" % tag)

    def buyer_xml(self, w, ver):
        w("<Контрагенты>\n<Контрагент>\n<Ид>%s</Ид>\n" % esc(self.buyer_id))
        if self.company:
            w("<Наименование>%s</Наименование>\n<ОфициальноеНаименование>%s</ОфициальноеНаименование>\n"
              % (esc(self.org), esc(self.org)))
            self.address_xml(w, "ЮридическийАдрес")
            w("<ИНН>%s</ИНН>\n<КПП>%s</КПП>\n<ОКПО>%s</ОКПО>\n" % (self.inn, self.kpp, self.okpo))
            w("<РасчетныеСчета>\n<РасчетныйСчет>\n<НомерСчета>%s</НомерСчета>\n<Банк>\n"
              "<Наименование>ПАО Сбербанк</Наименование>\n"
              "<СчетКорреспондентский>30101810400000000225</СчетКорреспондентский>\n"
              "<БИК>044525225</БИК>\n</Банк>\n</РасчетныйСчет>\n</РасчетныеСчета>\n" % self.account)
        else:
            w("<Наименование>%s</Наименование>\n<ПолноеНаименование>%s</ПолноеНаименование>\n"
              % (esc(self.person), esc(self.person)))
            w("<Фамилия>%s</Фамилия>\n<Имя>%s</Имя>\n" % (esc(self.last), esc(self.first)))
            if self.middle:
                w("<Отчество>%s</Отчество>\n" % esc(self.middle))
            self.address_xml(w, "АдресРегистрации")
        self.address_xml(w, "Адрес")
        mail, phone = (("Почта", "ТелефонРабочий") if ver <= 2.05
                       else ("Электронная почта", "Телефон рабочий"))
        w("<Контакты>\n<Контакт>\n<Тип>%s</Тип>\n<Значение>%s</Значение>\n</Контакт>\n"
          "<Контакт>\n<Тип>%s</Тип>\n<Значение>%s</Значение>\n</Контакт>\n</Контакты>\n"
          % (mail, esc(self.email), phone, esc(self.phone)))
        if self.company:
            rep_id = hashlib.md5(self.person.encode("utf-8")).hexdigest()
            w("<Представители>\n<Представитель>\n<Контрагент>\n<Отношение>Контактное лицо</Отношение>\n"
              "<Ид>%s</Ид>\n<Наименование>%s</Наименование>\n</Контрагент>\n</Представитель>\n"
              "</Представители>\n" % (rep_id, esc(self.person)))
        w("<Роль>Покупатель</Роль>\n</Контрагент>\n</Контрагенты>\n")

    def payment_xml(self, w, ver):
        """The order's payment (2.10+): paid or not, Bitrix exports it."""
        c = self.created
        w("<Документ>\n<Ид>%d</Ид>\n<Номер>%s/1</Номер>\n<Дата>%s</Дата>\n"
          "<ХозОперация>%s</ХозОперация>\n<Роль>Продавец</Роль>\n<Валюта>RUB</Валюта>\n"
          "<Курс>1</Курс>\n<Сумма>%s</Сумма>\n"
          % (100000 + self.k * 10 + 1, esc(self.number), c.strftime("%Y-%m-%d"), self.pay[2],
             money(self.total(), 4)))
        self.buyer_xml(w, ver)
        w("<Время>%s</Время>\n<Основание>%s</Основание>\n" % (c.strftime("%H:%M:%S"), self.id))
        req = [("Метод оплаты ИД", self.pay[0]), ("Метод оплаты", self.pay[1]),
               ("Оплачен", "true" if self.paid else "false"),
               ("Отменен", "true" if self.cancelled else "false")]
        if self.paid:
            req += [("Дата оплаты", self.paid_date.strftime("%Y-%m-%d %H:%M:%S"))]
        req += [("Сайт", SITE_NAME)]
        requisites_xml(w, req)
        w("</Документ>\n")

    def shipment_xml(self, w, ver):
        """The order's shipment (2.10+), with the goods it carries."""
        c = self.created
        d = self.delivery_price()
        w("<Документ>\n<Ид>%d</Ид>\n<Номер>%s/2</Номер>\n<Дата>%s</Дата>\n"
          "<ХозОперация>Отпуск товара</ХозОперация>\n<Роль>Продавец</Роль>\n<Валюта>RUB</Валюта>\n"
          "<Курс>1</Курс>\n<Сумма>%s</Сумма>\n"
          % (100000 + self.k * 10 + 2, esc(self.number), c.strftime("%Y-%m-%d"),
             money(self.total(), 4)))
        self.buyer_xml(w, ver)
        w("<Время>%s</Время>\n<Основание>%s</Основание>\n<Товары>\n"
          % (c.strftime("%H:%M:%S"), self.id))
        for line in self.lines:
            p = line.product
            w("<Товар>\n<Ид>%s</Ид>\n<Наименование>%s</Наименование>\n" % (p.guid, esc(p.name)))
            unit_xml(w, ver, p.unit)
            w("<ЦенаЗаЕдиницу>%s</ЦенаЗаЕдиницу>\n<Количество>%s</Количество>\n<Сумма>%s</Сумма>\n"
              "</Товар>\n" % (money(p.price, 4), qty(line.count), money(line.sum)))
        if d > 0:
            w("<Товар>\n<Ид>ORDER_DELIVERY</Ид>\n<Наименование>Доставка заказа</Наименование>\n")
            unit_xml(w, ver, UNITS[0])
            w("<ЦенаЗаЕдиницу>%s</ЦенаЗаЕдиницу>\n<Количество>1</Количество>\n<Сумма>%s</Сумма>\n"
              "</Товар>\n" % (money(d, 4), money(d)))
        w("</Товары>\n")
        req = [("Способ доставки", self.delivery[1]), ("Метод доставки ИД", self.delivery[0]),
               ("Доставка разрешена", "true" if self.allowed else "false"),
               ("Отгружен", "true" if self.status == "F" else "false"),
               ("Статус отгрузки", "[DF] Отгружен" if self.status == "F"
                else "[DN] Ожидает обработки"),
               ("Сайт", SITE_NAME)]
        requisites_xml(w, req)
        w("</Документ>\n")

    def documents_xml(self, w, ver):
        """The order with what goes beside it at this version."""
        if ver >= 3:
            w("<Контейнер>\n")
        self.xml(w, ver)
        if ver >= 2.1:
            self.payment_xml(w, ver)
            self.shipment_xml(w, ver)
        if ver >= 3:
            w("</Контейнер>\n")


def unit_xml(w, ver, unit):
    code, full, intl, short = unit
    if ver > 2.05:
        w("<Единица>\n<Код>%s</Код>\n<НаименованиеПолное>%s</НаименованиеПолное>\n</Единица>\n"
          "<Коэффициент>1</Коэффициент>\n" % (code, full))
    else:
        w('<БазоваяЕдиница Код="%s" НаименованиеПолное="%s" МеждународноеСокращение="%s">%s'
          "</БазоваяЕдиница>\n" % (code, full, intl, short))


def requisites_xml(w, pairs):
    w("<ЗначенияРеквизитов>\n")
    for name, value in pairs:
        w("<ЗначениеРеквизита>\n<Наименование>%s</Наименование>\n<Значение>%s</Значение>\n"
          "</ЗначениеРеквизита>\n" % (esc(name), esc(value)))
    w("</ЗначенияРеквизитов>\n")


def schema_of(version):
    """The ВерсияСхемы a session's version= gives, and its number."""
    if not version:
        return "2.05", 2.05
    v = version_number(version)
    if v <= 0:
        return "2.05", 2.05
    return str(version), v


def header(schema, encoding, when):
    """The XML declaration and the root's start tag, Bitrix style: the hour
    of ДатаФормирования is not zero-padded (date("G:i:s"))."""
    stamp = "%sT%d:%s" % (when.strftime("%Y-%m-%d"), when.hour, when.strftime("%M:%S"))
    return ('<?xml version="1.0" encoding="%s"?>\n<КоммерческаяИнформация ВерсияСхемы="%s" '
            'ДатаФормирования="%s" %s>\n' % (encoding, schema, stamp, ROOT_ATTRS))


FOOTER = "</КоммерческаяИнформация>\n"


class Shop:
    """The orders of one site: created, changed, in order of creation."""

    def __init__(self, seed):
        self.seed = seed
        self.catalog = Catalog(seed)
        self.orders = []

    def add(self):
        o = Order(self, len(self.orders) + 1)
        self.orders.append(o)
        return o

    def order(self, k):
        """Order k at version 1 without keeping it (the benchmark's generator)."""
        return Order(self, k)
