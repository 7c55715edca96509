#!/usr/bin/env python3
"""Generate a synthetic CommerceML 2.05 single-file catalog (import.xml + offers.xml).

    gen-catalog.py --products N [--seed S] --out DIR
    gen-catalog.py --products N [--seed S] --change-percent P [--change-seed C] --out DIR2

The first form writes the base catalog.  The second form writes the *changed*
state of the same catalog (same N and seed) into another directory: about P% of
the items are touched (price-only, stock-only and card-only changes, plus a few
new and a few deleted products), and DIR2/changes.tsv lists every change so a
delta test can check what a delta exporter found.  Both forms are pure functions
of their arguments: running them again gives byte-identical files.

Files are UTF-8 with a byte-order mark, tab-indented, like 1C writes them.
Only the Python standard library is used; output is produced with large
buffered writes (no DOM), so a million products take well under two minutes.
"""

import argparse
import os
import random
import sys
import time

MASK64 = (1 << 64) - 1

# ---------------------------------------------------------------------------
# deterministic ids

def _mix64(x):
    """splitmix64 finaliser: a fast, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


class Ids:
    """GUIDs that depend only on (seed, kind, index): product i has the same Ид
    in the base catalog and in every changed copy of it."""

    def __init__(self, seed):
        self.key = _mix64(seed * 0x100000001B3 + 12345)

    def guid(self, kind, i):
        h1 = _mix64(self.key ^ (kind << 56) ^ i)
        h2 = _mix64(h1 ^ 0x5851F42D4C957F2D)
        s = '%016x%016x' % (h1, h2)
        # shape like a 1C GUID (version-1 layout, as 1C produces)
        return '%s-%s-1%s-%s-%s' % (s[0:8], s[8:12], s[13:16], s[16:20], s[20:32])


K_PRODUCT, K_CHAR, K_GROUP, K_PROP, K_VALUE, K_PRICE, K_STORE, K_MISC = range(1, 9)

# ---------------------------------------------------------------------------
# word pools (Cyrillic, realistic-looking)

ADJ = ['Стальной', 'Пластиковый', 'Деревянный', 'Медный', 'Латунный', 'Алюминиевый', 'Усиленный',
       'Компактный', 'Универсальный', 'Профессиональный', 'Бытовой', 'Складной', 'Оцинкованный',
       'Хромированный', 'Влагостойкий', 'Морозостойкий', 'Термостойкий', 'Облегчённый', 'Двусторонний',
       'Регулируемый', 'Садовый', 'Монтажный', 'Строительный', 'Декоративный']
NOUN = ['ключ', 'молоток', 'уровень', 'шуруповёрт', 'перфоратор', 'светильник', 'кабель', 'удлинитель',
        'смеситель', 'кран', 'фитинг', 'хомут', 'анкер', 'дюбель', 'саморез', 'болт', 'шланг', 'насос',
        'фильтр', 'замок', 'петля', 'кронштейн', 'профиль', 'уголок', 'герметик', 'клей', 'валик',
        'шпатель', 'секатор', 'лом', 'рулетка', 'отвёртка', 'ножовка', 'стремянка', 'тачка']
BRAND = ['Зубр', 'Энкор', 'Калибр', 'Интерскол', 'Сибртех', 'Вихрь', 'Ресанта', 'Стайер', 'Фиолент',
         'Кедр', 'Бригадир', 'Мастер', 'Технорм', 'Урал', 'Прогресс', 'ACME &quot;Pro&quot;']
SENT = ['Изделие предназначено для бытового и профессионального применения.',
        'Корпус выполнен из ударопрочного материала, устойчивого к перепадам температур.',
        'Прорезиненная рукоятка не скользит в руке и снижает вибрацию.',
        'Поставляется в индивидуальной упаковке с инструкцией на русском языке.',
        'Гарантия производителя — 12 месяцев с даты продажи.',
        'Подходит для работы в условиях повышенной влажности.',
        'Соответствует требованиям ГОСТ и техническим регламентам Таможенного союза.',
        'Рабочая поверхность обработана антикоррозийным составом.',
        'Рекомендуется хранить в сухом месте при температуре от −20 до +40 °C.',
        'Комплектация: изделие, паспорт, упаковка.',
        'Масса и габариты указаны без учёта упаковки.',
        'Цвет изделия может незначительно отличаться от изображения на сайте.',
        'Допускается эксплуатация на открытом воздухе под навесом.',
        'Не содержит вредных примесей, безопасно для здоровья.',
        'Замена расходных частей выполняется без специального инструмента.',
        'Модель обновлена: улучшена эргономика и увеличен ресурс.',
        'Применяется в строительстве, ремонте и на садовом участке.',
        'Сертифицировано для продажи на территории РФ, Казахстана и Беларуси.']
COLORS = ['Белый', 'Чёрный', 'Красный', 'Синий', 'Зелёный', 'Серый', 'Жёлтый', 'Оранжевый']
SIZES = ['XS', 'S', 'M', 'L', 'XL', 'XXL', '10 мм', '12 мм', '14 мм', '16 мм', '20 мм']
COUNTRIES = ['Россия', 'Китай', 'Беларусь', 'Германия', 'Польша', 'Турция', 'Италия', 'Вьетнам']
MATERIALS = ['Сталь', 'Нержавеющая сталь', 'Пластик ABS', 'Полипропилен', 'Латунь', 'Алюминий',
             'Дуб', 'Бук', 'Резина', 'Стеклопластик']
NOMKIND = ['Товар', 'Материал', 'Инструмент', 'Хозтовар']
TAX = ['20', '20', '20', '10', 'Без налога']

SCHEMA = '2.05'
DATE_BASE = '2024-01-15T10:00:00'
DATE_CHANGED = '2024-01-16T10:00:00'


def esc(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')


# ---------------------------------------------------------------------------
# classifier

class Classifier:
    def __init__(self, seed):
        ids = Ids(seed)
        r = random.Random(seed * 7 + 1)
        self.ids = ids
        self.classifier_id = ids.guid(K_MISC, 1)
        self.catalog_id = ids.guid(K_MISC, 2)
        self.owner_id = ids.guid(K_MISC, 3)

        # ~200 groups: 8 top, 5 children each, 4 grandchildren each = 8 + 40 + 160 = 208
        self.groups = []          # (id, name, children) tree
        self.leaves = []
        n = 0
        tops = ['Инструмент', 'Электрика', 'Сантехника', 'Крепёж', 'Сад и огород', 'Отделка',
                'Хозтовары', 'Освещение']
        for t in tops:
            gid = ids.guid(K_GROUP, n); n += 1
            kids = []
            for j in range(5):
                cid = ids.guid(K_GROUP, n); n += 1
                cname = '%s: %s %d' % (t, r.choice(NOUN).capitalize(), j + 1)
                grand = []
                for k in range(4):
                    lid = ids.guid(K_GROUP, n); n += 1
                    lname = '%s %s, серия %d' % (r.choice(ADJ), r.choice(NOUN), k + 1)
                    grand.append((lid, lname, []))
                    self.leaves.append(lid)
                kids.append((cid, cname, grand))
            self.groups.append((gid, t, kids))
        self.n_groups = n

        # 20 properties: (id, name, type, variants[(id, value)])
        specs = [('Цвет', 'Справочник', COLORS), ('Материал', 'Справочник', MATERIALS),
                 ('Страна происхождения', 'Справочник', COUNTRIES),
                 ('Бренд', 'Справочник', BRAND), ('Тип питания', 'Справочник',
                                                  ['Сеть 220 В', 'Аккумулятор', 'Бензин', 'Без питания']),
                 ('Класс защиты', 'Справочник', ['IP20', 'IP44', 'IP54', 'IP65', 'IP67']),
                 ('Вес, кг', 'Число', None), ('Длина, мм', 'Число', None), ('Ширина, мм', 'Число', None),
                 ('Высота, мм', 'Число', None), ('Мощность, Вт', 'Число', None),
                 ('Напряжение, В', 'Число', None), ('Гарантия, мес', 'Число', None),
                 ('Количество в упаковке', 'Число', None),
                 ('Модель', 'Строка', None), ('Серия', 'Строка', None), ('Код производителя', 'Строка', None),
                 ('Комплектация', 'Строка', None), ('Примечание', 'Строка', None),
                 ('Дата выпуска', 'Время', None)]
        self.props = []
        vn = 0
        for pi, (name, typ, variants) in enumerate(specs):
            pid = ids.guid(K_PROP, pi)
            vs = None
            if variants is not None:
                vs = []
                for v in variants:
                    vs.append((ids.guid(K_VALUE, vn), v)); vn += 1
            self.props.append((pid, name, typ, vs))

        self.price_types = [(ids.guid(K_PRICE, 0), 'Розничная', 100),
                            (ids.guid(K_PRICE, 1), 'Оптовая', 85),
                            (ids.guid(K_PRICE, 2), 'Закупочная', 62)]
        self.stores = [(ids.guid(K_STORE, 0), 'Основной склад'),
                       (ids.guid(K_STORE, 1), 'Склад Москва, ул. Складская, 1'),
                       (ids.guid(K_STORE, 2), 'Склад Екатеринбург')]

    def xml(self, out):
        w = out.append
        w('\t<Классификатор>\n\t\t<Ид>%s</Ид>\n\t\t<Наименование>Классификатор (Основной каталог товаров)</Наименование>\n'
          % self.classifier_id)
        w('\t\t<Владелец>\n\t\t\t<Ид>%s</Ид>\n\t\t\t<Наименование>ООО &quot;Инструмент-Снаб&quot;</Наименование>\n'
          '\t\t\t<ОфициальноеНаименование>Общество с ограниченной ответственностью &quot;Инструмент-Снаб&quot;'
          '</ОфициальноеНаименование>\n\t\t\t<ИНН>7701234567</ИНН>\n\t\t\t<КПП>770101001</КПП>\n\t\t</Владелец>\n'
          % self.owner_id)

        def groups(gs, ind):
            w(ind + '<Группы>\n')
            for gid, name, kids in gs:
                w('%s\t<Группа>\n%s\t\t<Ид>%s</Ид>\n%s\t\t<Наименование>%s</Наименование>\n'
                  % (ind, ind, gid, ind, esc(name)))
                if kids:
                    groups(kids, ind + '\t\t')
                w(ind + '\t</Группа>\n')
            w(ind + '</Группы>\n')
        groups(self.groups, '\t\t')

        w('\t\t<Свойства>\n')
        for pid, name, typ, vs in self.props:
            w('\t\t\t<Свойство>\n\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t<Наименование>%s</Наименование>\n'
              '\t\t\t\t<ТипЗначений>%s</ТипЗначений>\n' % (pid, esc(name), typ))
            if vs:
                w('\t\t\t\t<ВариантыЗначений>\n')
                for vid, v in vs:
                    w('\t\t\t\t\t<Справочник>\n\t\t\t\t\t\t<ИдЗначения>%s</ИдЗначения>\n'
                      '\t\t\t\t\t\t<Значение>%s</Значение>\n\t\t\t\t\t</Справочник>\n' % (vid, v))
                w('\t\t\t\t</ВариантыЗначений>\n')
            w('\t\t\t</Свойство>\n')
        w('\t\t</Свойства>\n\t</Классификатор>\n')


# ---------------------------------------------------------------------------
# products and offers

def ean13(n):
    d = '46%010d' % (n % 10000000000)
    s = sum(int(c) * (3 if k % 2 else 1) for k, c in enumerate(d))
    return d + str((10 - s % 10) % 10)


class Gen:
    """Draws one product (card + offer) from an RNG.  gen(i, r) consumes the same
    number of random draws for every product, so the main stream stays aligned
    between the base catalog and a changed copy."""

    def __init__(self, cl, seed):
        self.cl = cl
        self.ids = cl.ids
        pr = random.Random(seed * 31 + 7)
        # pre-built descriptions (200-400 chars), property subsets and name parts
        self.descs = []
        while len(self.descs) < 2048:
            d = []
            ln = 0
            target = pr.randint(200, 400)
            while ln < target:
                s = pr.choice(SENT)
                if ln + len(s) + 1 > 400 and ln >= 200:
                    break
                if ln + len(s) + 1 > 400:
                    s = s[:400 - ln - 1]
                d.append(s)
                ln += len(s) + 1
            self.descs.append(' '.join(d))
        nprops = len(cl.props)
        self.subsets = [sorted(pr.sample(range(nprops), pr.randint(3, 6))) for _ in range(512)]

    def product(self, i, r):
        """Return a dict of the product's data (all strings ready for XML)."""
        rnd = r.random
        cl = self.cl
        p = {}
        p['id'] = self.ids.guid(K_PRODUCT, i)
        p['art'] = ('%s-%06d' % ('АРТ' if i % 3 else 'KS', i)) if rnd() > 0.05 else ''
        p['bar'] = ean13(i * 7919 + 13)
        brand = BRAND[int(rnd() * len(BRAND))]
        p['name'] = '%s %s %s %d' % (ADJ[int(rnd() * len(ADJ))], NOUN[int(rnd() * len(NOUN))],
                                      brand, 100 + i % 9000)
        p['group'] = cl.leaves[int(rnd() * len(cl.leaves))]
        p['desc_i'] = di = int(rnd() * len(self.descs))
        p['desc'] = self.descs[di]
        sub = self.subsets[int(rnd() * len(self.subsets))]
        vals = []
        for k in sub:
            pid, pname, typ, vs = cl.props[k]
            x = rnd()
            if vs:
                v = vs[int(x * len(vs))][0]
            elif typ == 'Число':
                v = '%d' % (1 + int(x * 5000))
            elif typ == 'Время':
                v = '20%02d-%02d-01T00:00:00' % (10 + int(x * 14), 1 + int(x * 120) % 12)
            else:
                v = '%s-%d' % (pname[:3].upper(), int(x * 100000))
            vals.append((pid, v))
        p['props'] = vals
        p['tax'] = TAX[int(rnd() * len(TAX))]
        p['kind'] = NOMKIND[int(rnd() * len(NOMKIND))]
        p['weight'] = '%.3f' % (0.05 + rnd() * 30)
        # offer
        p['has_char'] = rnd() < 0.2
        x = rnd()
        if p['has_char']:
            color = COLORS[int(x * len(COLORS))]
            size = SIZES[int(x * 1000) % len(SIZES)]
            p['oid'] = p['id'] + '#' + self.ids.guid(K_CHAR, i)
            p['chars'] = (('Цвет', color), ('Размер', size))
            p['oname'] = '%s (%s, %s)' % (p['name'], color, size)
        else:
            p['oid'] = p['id']
            p['oname'] = p['name']
        base = 5000 + int(rnd() * 4995000)           # kopecks: 50.00 .. 50000.00
        p['base'] = base
        st = []
        for _ in range(3):
            a = rnd(); b = rnd()
            st.append(int(a * 200) if b > 0.15 else 0)   # ~15% of warehouse stocks are 0
        p['stock'] = st
        return p


def product_xml(p, w):
    props = ''.join('\t\t\t\t\t<ЗначенияСвойства>\n\t\t\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t\t\t<Значение>%s</Значение>\n'
                    '\t\t\t\t\t</ЗначенияСвойства>\n' % pv for pv in p['props'])
    art = '\t\t\t\t<Артикул>%s</Артикул>\n' % p['art'] if p['art'] else '\t\t\t\t<Артикул/>\n'
    w('\t\t\t<Товар>\n\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t<Штрихкод>%s</Штрихкод>\n%s'
      '\t\t\t\t<Наименование>%s</Наименование>\n'
      '\t\t\t\t<БазоваяЕдиница Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>\n'
      '\t\t\t\t<Группы>\n\t\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t</Группы>\n'
      '\t\t\t\t<Описание>%s</Описание>\n'
      '\t\t\t\t<ЗначенияСвойств>\n%s\t\t\t\t</ЗначенияСвойств>\n'
      '\t\t\t\t<СтавкиНалогов>\n\t\t\t\t\t<СтавкаНалога>\n\t\t\t\t\t\t<Наименование>НДС</Наименование>\n'
      '\t\t\t\t\t\t<Ставка>%s</Ставка>\n\t\t\t\t\t</СтавкаНалога>\n\t\t\t\t</СтавкиНалогов>\n'
      '\t\t\t\t<ЗначенияРеквизитов>\n'
      '\t\t\t\t\t<ЗначениеРеквизита>\n\t\t\t\t\t\t<Наименование>ВидНоменклатуры</Наименование>\n'
      '\t\t\t\t\t\t<Значение>%s</Значение>\n\t\t\t\t\t</ЗначениеРеквизита>\n'
      '\t\t\t\t\t<ЗначениеРеквизита>\n\t\t\t\t\t\t<Наименование>ТипНоменклатуры</Наименование>\n'
      '\t\t\t\t\t\t<Значение>Запас</Значение>\n\t\t\t\t\t</ЗначениеРеквизита>\n'
      '\t\t\t\t\t<ЗначениеРеквизита>\n\t\t\t\t\t\t<Наименование>Вес</Наименование>\n'
      '\t\t\t\t\t\t<Значение>%s</Значение>\n\t\t\t\t\t</ЗначениеРеквизита>\n'
      '\t\t\t\t</ЗначенияРеквизитов>\n\t\t\t</Товар>\n'
      % (p['id'], p['bar'], art, p['name'], p['group'], p['desc'], props, p['tax'], p['kind'], p['weight']))


def offer_xml(p, pts, stores, w):
    b = p['base']
    prices = ''.join(
        '\t\t\t\t\t<Цена>\n\t\t\t\t\t\t<Представление>%d.%02d руб. за шт</Представление>\n'
        '\t\t\t\t\t\t<ИдТипаЦены>%s</ИдТипаЦены>\n\t\t\t\t\t\t<ЦенаЗаЕдиницу>%d.%02d</ЦенаЗаЕдиницу>\n'
        '\t\t\t\t\t\t<Валюта>руб</Валюта>\n\t\t\t\t\t\t<Единица>шт</Единица>\n'
        '\t\t\t\t\t\t<Коэффициент>1</Коэффициент>\n\t\t\t\t\t</Цена>\n'
        % (v // 100, v % 100, ptid, v // 100, v % 100)
        for ptid, v in ((pt[0], b * pt[2] // 100) for pt in pts))
    st = p['stock']
    chars = ''
    if p['has_char']:
        chars = ('\t\t\t\t<ХарактеристикиТовара>\n' + ''.join(
            '\t\t\t\t\t<ХарактеристикаТовара>\n\t\t\t\t\t\t<Наименование>%s</Наименование>\n'
            '\t\t\t\t\t\t<Значение>%s</Значение>\n\t\t\t\t\t</ХарактеристикаТовара>\n' % c for c in p['chars'])
            + '\t\t\t\t</ХарактеристикиТовара>\n')
    art = '\t\t\t\t<Артикул>%s</Артикул>\n' % p['art'] if p['art'] else '\t\t\t\t<Артикул/>\n'
    w('\t\t\t<Предложение>\n\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t<Штрихкод>%s</Штрихкод>\n%s'
      '\t\t\t\t<Наименование>%s</Наименование>\n'
      '\t\t\t\t<БазоваяЕдиница Код="796" НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>\n'
      '%s\t\t\t\t<Цены>\n%s\t\t\t\t</Цены>\n\t\t\t\t<Количество>%d</Количество>\n'
      '\t\t\t\t<Склад ИдСклада="%s" КоличествоНаСкладе="%d"/>\n'
      '\t\t\t\t<Склад ИдСклада="%s" КоличествоНаСкладе="%d"/>\n'
      '\t\t\t\t<Склад ИдСклада="%s" КоличествоНаСкладе="%d"/>\n'
      '\t\t\t</Предложение>\n'
      % (p['oid'], p['bar'], art, p['oname'], chars, prices, st[0] + st[1] + st[2],
         stores[0][0], st[0], stores[1][0], st[1], stores[2][0], st[2]))


# ---------------------------------------------------------------------------
# change plan (for --change-percent)

def change_plan(n, percent, seed, change_seed):
    """Return (kinds: dict index->kind, n_new).  Kinds: price, stock, card, deleted.
    k = round(n*percent/100) changes in all; 5% of them (at least 1) deleted products,
    5% (at least 1) new products, the rest split price 45% / stock 33% / card 22%."""
    k = int(round(n * percent / 100.0))
    if k <= 0:
        return {}, 0
    n_del = max(1, k // 20)
    n_new = max(1, k // 20)
    rest = max(0, k - n_del - n_new)
    n_price = rest * 45 // 100
    n_stock = rest * 33 // 100
    n_card = rest - n_price - n_stock
    r = random.Random((seed << 20) ^ (change_seed * 0x9E3779B1) ^ 0xC0FFEE)
    touched = r.sample(range(n), min(n, n_del + n_price + n_stock + n_card))
    kinds = {}
    pos = 0
    for kind, cnt in (('deleted', n_del), ('price', n_price), ('stock', n_stock), ('card', n_card)):
        for idx in touched[pos:pos + cnt]:
            kinds[idx] = kind
        pos += cnt
    return kinds, n_new


# ---------------------------------------------------------------------------

def header(w, date):
    w('\ufeff<?xml version="1.0" encoding="UTF-8"?>\n'
      '<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_2" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ВерсияСхемы="%s" ДатаФормирования="%s">\n'
      % (SCHEMA, date))


def generate(n, seed, out, change_percent=None, change_seed=1, quiet=False):
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    cl = Classifier(seed)
    g = Gen(cl, seed)
    changed = change_percent is not None
    kinds, n_new = change_plan(n, change_percent, seed, change_seed) if changed else ({}, 0)
    date = DATE_CHANGED if changed else DATE_BASE
    rc = random.Random(seed * 1000003 + change_seed)  # draws for the changes only

    imp_path = os.path.join(out, 'import.xml')
    off_path = os.path.join(out, 'offers.xml')
    fi = open(imp_path + '.tmp', 'w', encoding='utf-8', newline='\n', buffering=1 << 22)
    fo = open(off_path + '.tmp', 'w', encoding='utf-8', newline='\n', buffering=1 << 22)
    manifest = []

    ib = []
    ob = []
    header(ib.append, date)
    cl.xml(ib)
    ib.append('\t<Каталог СодержитТолькоИзменения="false">\n\t\t<Ид>%s</Ид>\n\t\t<ИдКлассификатора>%s</ИдКлассификатора>\n'
              '\t\t<Наименование>Основной каталог товаров</Наименование>\n\t\t<Товары>\n'
              % (cl.catalog_id, cl.classifier_id))
    header(ob.append, date)
    ob.append('\t<ПакетПредложений СодержитТолькоИзменения="false">\n\t\t<Ид>%s</Ид>\n'
              '\t\t<Наименование>Пакет предложений (Основной каталог товаров)</Наименование>\n'
              '\t\t<ИдКаталога>%s</ИдКаталога>\n\t\t<ИдКлассификатора>%s</ИдКлассификатора>\n\t\t<ТипыЦен>\n'
              % (cl.catalog_id, cl.catalog_id, cl.classifier_id))
    for ptid, name, _ in cl.price_types:
        ob.append('\t\t\t<ТипЦены>\n\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t<Наименование>%s</Наименование>\n'
                  '\t\t\t\t<Валюта>руб</Валюта>\n\t\t\t\t<Налог>\n\t\t\t\t\t<Наименование>НДС</Наименование>\n'
                  '\t\t\t\t\t<УчтеноВСумме>true</УчтеноВСумме>\n\t\t\t\t</Налог>\n\t\t\t</ТипЦены>\n' % (ptid, name))
    ob.append('\t\t</ТипыЦен>\n\t\t<Склады>\n')
    for sid, name in cl.stores:
        ob.append('\t\t\t<Склад>\n\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t<Наименование>%s</Наименование>\n\t\t\t</Склад>\n'
                  % (sid, esc(name)))
    ob.append('\t\t</Склады>\n\t\t<Предложения>\n')

    r = random.Random(seed)
    pts = cl.price_types
    stores = cl.stores
    product = g.product
    iw = ib.append
    ow = ob.append
    descs = g.descs
    prop_variants = {pr[0]: pr[3] for pr in cl.props}
    fiw = fi.write
    fow = fo.write
    total = n + n_new
    for i in range(total):
        if i < n:
            p = product(i, r)
            kind = kinds.get(i) if changed else None
        else:
            p = product(i, rc)                      # new product: drawn from the change stream
            kind = 'new'
        if kind is not None:
            if kind == 'deleted':
                manifest.append('deleted\t%s\t%s\n' % (p['id'], p['oid']))
                continue
            elif kind == 'price':
                p['base'] = p['base'] + 100 + int(rc.random() * (p['base'] // 5 + 100))
            elif kind == 'stock':
                s = p['stock']
                j = int(rc.random() * 3)
                s[j] = s[j] + 1 + int(rc.random() * 50)
            elif kind == 'card':
                # another description and another value of the first property; the offer is untouched
                p['desc'] = descs[(p['desc_i'] + 1 + int(rc.random() * 100)) % len(descs)]
                pid, v = p['props'][0]
                vs = prop_variants[pid]
                if vs:
                    j = [x[0] for x in vs].index(v)
                    v = vs[(j + 1) % len(vs)][0]
                else:
                    v = v + '0'
                p['props'][0] = (pid, v)
            manifest.append('%s\t%s\t%s\n' % (kind, p['id'], p['oid']))
        product_xml(p, iw)
        offer_xml(p, pts, stores, ow)
        if len(ib) >= 2048:
            fiw(''.join(ib)); ib.clear()
            fow(''.join(ob)); ob.clear()
    ib.append('\t\t</Товары>\n\t</Каталог>\n</КоммерческаяИнформация>\n')
    ob.append('\t\t</Предложения>\n\t</ПакетПредложений>\n</КоммерческаяИнформация>\n')
    fiw(''.join(ib))
    fow(''.join(ob))
    fi.close()
    fo.close()
    os.replace(imp_path + '.tmp', imp_path)
    os.replace(off_path + '.tmp', off_path)
    man_path = os.path.join(out, 'changes.tsv')
    if changed:
        with open(man_path, 'w', encoding='utf-8', newline='\n') as f:
            f.write('# kind\tproduct_id\toffer_id   (base: --products %d --seed %d; --change-percent %s --change-seed %d)\n'
                    % (n, seed, change_percent, change_seed))
            f.writelines(manifest)
    elif os.path.exists(man_path):
        os.remove(man_path)
    dt = time.time() - t0
    if not quiet:
        sz = (os.path.getsize(imp_path) + os.path.getsize(off_path)) / 1048576.0
        msg = 'gen-catalog: %d products, %d offers, %.1f MiB in %s, %.1f s' % (
            n + n_new - sum(1 for v in kinds.values() if v == 'deleted'),
            n + n_new - sum(1 for v in kinds.values() if v == 'deleted'), sz, out, dt)
        if changed:
            cnt = {}
            for line in manifest:
                kk = line.split('\t', 1)[0]
                cnt[kk] = cnt.get(kk, 0) + 1
            msg += '; changes: ' + ', '.join('%s %d' % (kk, cnt.get(kk, 0))
                                             for kk in ('price', 'stock', 'card', 'new', 'deleted'))
        print(msg, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description='Generate a synthetic CommerceML 2.05 catalog '
                                 '(import.xml + offers.xml, UTF-8 with BOM).')
    ap.add_argument('--products', type=int, default=10000, metavar='N', help='number of products (default 10000)')
    ap.add_argument('--seed', type=int, default=1, metavar='S', help='seed (default 1)')
    ap.add_argument('--out', required=True, metavar='DIR', help='output directory (created if missing)')
    ap.add_argument('--change-percent', type=float, default=None, metavar='P',
                    help='write the changed state of the (N, S) catalog: P%% of items changed, '
                         'plus DIR/changes.tsv listing the changes')
    ap.add_argument('--change-seed', type=int, default=1, metavar='C',
                    help='which set of changes (default 1)')
    ap.add_argument('-q', '--quiet', action='store_true', help='no summary on stderr')
    a = ap.parse_args()
    if a.products < 1:
        ap.error('--products must be at least 1')
    if a.change_percent is not None and not (0 <= a.change_percent <= 100):
        ap.error('--change-percent must be between 0 and 100')
    generate(a.products, a.seed, a.out, a.change_percent, a.change_seed, a.quiet)


if __name__ == '__main__':
    main()
