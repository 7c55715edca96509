#!/usr/bin/env python3
# check_orderfmt.py MODE FILE: what test_orderfmt.c wrote, parsed by
# Python's own csv and json modules; an assertion that fails exits 1.
import csv
import json
import sys

mode, path = sys.argv[1], sys.argv[2]
raw = open(path, 'rb').read()
text = raw.decode('utf-8')  # strict: a byte that is no UTF-8 fails here

COMMENT_133 = 'строка 1\nстрока 2, "цитата"\x01 \ufffd конец'


def check_csv():
    assert raw.endswith(b'\r\n'), 'rows end in CRLF'
    rows = list(csv.reader(text.splitlines(keepends=True), strict=True))
    head = rows[0]
    assert head[:4] == ['site', 'revision', 'change', 'order_id'], head
    assert len(head) == 46 and len(set(head)) == 46, head
    body = [dict(zip(head, r)) for r in rows[1:]]
    assert all(len(r) == 46 for r in rows), [len(r) for r in rows]
    assert [r['order_id'] for r in body] == ['132', '132', '133', '134', '134'], body
    a, b, c, d, e = body
    assert a['site'] == 'shop' and a['revision'] == '3' and a['change'] == 'changed', a
    assert a['line'] == '1' and b['line'] == '2', (a, b)
    assert a['product_id'] == 'p1#c1' and a['article'] == 'A-1', a
    assert a['name'] == 'Футболка "Лето", хлопок', a
    assert a['unit'] == '796' and a['unit_name'] == 'шт', a
    assert (a['price'], a['quantity'], a['sum'], a['discount']) == ('100', '2', '180', '20'), a
    assert (a['tax_name'], a['tax_rate'], a['tax_sum']) == ('НДС', '20', '30'), a
    assert a['characteristics'] == 'Цвет=Красный; Размер=L', a
    assert b['product_id'] == 'ORDER_DELIVERY' and b['discount'] == '', b
    # the order's columns repeat on every line
    for k in ('number', 'date', 'time', 'currency', 'order_sum', 'buyer_id', 'comment'):
        assert a[k] == b[k], k
    assert a['comment'] == 'Позвонить, "после 18"', a
    assert a['buyer_id'] == '38#ivan#Иванов Иван' and a['buyer_name'] == 'Иванов Иван', a
    assert a['buyer_inn'] == '500100732259' and a['buyer_kpp'] == '', a
    assert a['buyer_email'] == 'ivan@example.com', a
    assert a['buyer_phone'] == '+7 495 000-00-00', a
    assert a['buyer_address'] == '101000, Москва, ул. Ленина, д. 1', a
    assert a['status_id'] == 'N' and a['status'] == '[N] Принят, ожидается оплата', a
    assert (a['paid'], a['delivery_allowed'], a['cancelled'], a['final_status']) == \
        ('false', 'false', 'false', 'false'), a
    assert a['payment_method'] == 'Наличный расчет' and a['delivery_method'] == 'Курьер', a
    assert a['delivery_address'] == 'Москва, ул. Ленина, д. 1, кв. 2', a
    assert a['operation'] == 'Заказ товара' and a['deleted'] == '', a
    # an order without lines: one row, its line columns empty; no meta
    assert c['line'] == '' and c['product_id'] == '' and c['sum'] == '', c
    assert c['site'] == '' and c['revision'] == '' and c['change'] == '', c
    assert c['comment'] == COMMENT_133, repr(c['comment'])
    assert d['change'] == 'new' and d['revision'] == '1' and d['comment'] == '', d


def check_jsonl():
    lines = text.split('\n')
    assert lines[-1] == '', 'ends with a newline'
    objs = [json.loads(l) for l in lines[:-1]]
    assert [o['id'] for o in objs] == ['132', '133', '134'], objs
    a, b, c = objs
    assert (a['site'], a['revision'], a['change'], a['changed']) == \
        ('shop', 3, 'changed', 'sum, lines'), a
    assert a['kind'] == 'document' and a['number'] == '132', a
    assert a['lines'][0]['characteristics'] == [
        {'name': 'Цвет', 'value': 'Красный'}, {'name': 'Размер', 'value': 'L'}], a
    assert a['lines'][0]['discounts'] == [{'name': 'Скидка', 'sum': '20'}], a
    assert a['lines'][0]['taxes'][0]['in_sum'] is True, a
    assert a['lines'][0]['unit'] == {'code': '796', 'name': 'шт'}, a
    assert a['counterparties'][0]['contacts'][1]['value'] == '+7 495 000-00-00', a
    assert a['counterparties'][0]['representatives'] == [{
        'relation': 'Контактное лицо', 'id': 'rep-1', 'name': 'Петров Пётр',
        'contacts': [{'name': 'Электронная почта', 'value': 'petr@example.com'},
                     {'name': 'Телефон рабочий', 'value': '+7 912 345-67-89'}]}], a
    assert a['requisites'][8] == {'name': 'Адрес доставки',
                                  'value': 'Москва, ул. Ленина, д. 1, кв. 2'}, a
    assert len(a['attachments']) == 1, a
    att = a['attachments'][0]
    assert att['id'] == 'pay-132' and att['basis'] == '132', att
    assert att['operation'] == 'Выплата безналичных денег', att
    assert 'site' not in b and 'revision' not in b and 'attachments' not in b, b
    assert 'lines' not in b, b
    assert b['comment'] == COMMENT_133, repr(b['comment'])
    # control characters escaped, not raw, in the bytes
    assert b'\x01' not in raw and b'\\u0001' in raw, 'control character escaped'
    assert c['attachments'][0]['operation'] == 'Отпуск товара', c
    assert c['change'] == 'new' and 'changed' not in c, c


{'csv': check_csv, 'jsonl': check_jsonl}[mode]()
