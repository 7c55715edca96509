/*
 * doccodec.c: the stored and the canonical form of a document.
 *
 * One description (the shapes below) lists every member of every struct
 * a document holds, in a fixed order; encoding, decoding, the canonical
 * form and the list of what changed all walk it. The stored form is in
 * every ledger revision (cmlkit-db(5)): the order of the fields, the
 * value encoding and the table of common strings never change within a
 * format version (the first byte); a new member of model.h goes at the
 * end of its shape with a new format version (its field's "since"), and
 * the decoder keeps reading the old ones (a member newer than the bytes
 * is left empty).
 *
 * Stored form, format 2 (format 1 is the same without a representative's
 * contacts):
 *
 *     doc    = 0x01 object(document)
 *     object = the fields of its shape, in order, each as
 *              string:  varint v: 0 NULL; 2k+1 the k-th common string;
 *                       2(len+1) then len bytes
 *              bool, tristate: one byte (0/1; 0 unset, 1 false, 2 true)
 *              unsigned: varint
 *              array:   varint count, then count objects
 *              struct:  its object inline
 *     varint = 7 bits a byte, low first, high bit set on all but the last
 *
 * Canonical form: 'C' 0x01, then the same walk without the fields that
 * are not content, each string trimmed (ASCII whitespace and U+00A0),
 * NULL and "" alike, numbers as cml_num_canon gives them (a value that
 * is no number stays text), each as varint length and bytes; booleans
 * and tristates one byte; arrays a varint count. Every field of format 1
 * is always written, so the form is unambiguous.
 *
 * A member added after fingerprints were stored (since > 1: a
 * representative's contacts) is not in that walk, or every stored order
 * would look changed once. When a document carries any of them, a
 * trailer follows: the same walk again writing only those members (whole,
 * as above), in document order, the counts of the arrays around them
 * known from the first walk and not repeated. A document without them
 * keeps its form; one with them cannot be confused with one without
 * (the trailer is extra bytes after a walk whose end is known).
 */
#include <stdint.h>
#include <string.h>

#include "doccodec.h"

#define FORMAT 2       /* of the stored form */
#define CANON_FORMAT 1 /* of the canonical form: never changes */
#define NUM_MAX 128 /* a canonical number longer than this is kept as text */

enum fkind { F_STR, F_NUM, F_BOOL, F_TRI, F_UINT, F_ARR, F_SUB };

struct shape;

struct field {
	enum fkind kind;
	bool content;              /* part of the canonical form */
	size_t off;                /* the member; F_ARR: its pointer */
	size_t count_off;          /* F_ARR: its size_t count */
	const struct shape *shape; /* F_ARR, F_SUB */
	const char *name;          /* the element, for what changed */
	unsigned since;            /* the stored format that added it */
};

struct shape {
	const char *type;
	size_t size;
	size_t n;
	const struct field *f;
};

#define STR(T, m, nm) { F_STR, true, offsetof(T, m), 0, NULL, nm, 1 }
#define NUM(T, m, nm) { F_NUM, true, offsetof(T, m), 0, NULL, nm, 1 }
#define BOOL(T, m, nm) { F_BOOL, true, offsetof(T, m), 0, NULL, nm, 1 }
#define TRI(T, m, nm) { F_TRI, true, offsetof(T, m), 0, NULL, nm, 1 }
#define ARR(T, m, c, sh, nm) { F_ARR, true, offsetof(T, m), offsetof(T, c), &sh, nm, 1 }
#define SUB(T, m, sh, nm) { F_SUB, true, offsetof(T, m), 0, &sh, nm, 1 }
/* a member added by a later format, at the end of its shape */
#define ARR_SINCE(T, m, c, sh, nm, v) \
	{ F_ARR, true, offsetof(T, m), offsetof(T, c), &sh, nm, v }
#define SHAPE(name, T, fields) \
	static const struct shape name = { #T, sizeof(T), CML_ARRAY_LEN(fields), fields }

static const struct field pair_f[] = {
	STR(cml_pair, name, "Наименование"),
	STR(cml_pair, value, "Значение"),
};
SHAPE(pair_s, cml_pair, pair_f);

static const struct field conv_f[] = {
	STR(cml_unit_conv, unit, "Единица"),
	NUM(cml_unit_conv, coefficient, "Коэффициент"),
};
SHAPE(conv_s, cml_unit_conv, conv_f);

static const struct field unit_f[] = {
	STR(cml_unit_ref, code, "Код"),
	STR(cml_unit_ref, name, "Наименование"),
	STR(cml_unit_ref, full_name, "НаименованиеПолное"),
	STR(cml_unit_ref, intl, "МеждународноеСокращение"),
	ARR(cml_unit_ref, conversions, n_conversions, conv_s, "Пересчет"),
};
SHAPE(unit_s, cml_unit_ref, unit_f);

static const struct field tax_f[] = {
	STR(cml_tax, name, "Наименование"),
	NUM(cml_tax, rate, "Ставка"), /* free text; a number compares as one */
	NUM(cml_tax, sum, "Сумма"),
	TRI(cml_tax, in_sum, "УчтеноВСумме"),
};
SHAPE(tax_s, cml_tax, tax_f);

static const struct field discount_f[] = {
	STR(cml_discount, name, "Наименование"),
	NUM(cml_discount, sum, "Сумма"),
	NUM(cml_discount, percent, "Процент"),
	TRI(cml_discount, in_sum, "УчтеноВСумме"),
};
SHAPE(discount_s, cml_discount, discount_f);

static const struct field rep_f[] = {
	STR(cml_representative, relation, "Отношение"),
	STR(cml_representative, id, "Ид"),
	STR(cml_representative, name, "Наименование"),
	ARR_SINCE(cml_representative, contacts, n_contacts, pair_s, "Контакты", 2),
};
SHAPE(rep_s, cml_representative, rep_f);

static const struct field account_f[] = {
	STR(cml_bank_account, number, "НомерСчета"),
	STR(cml_bank_account, bank_name, "Банк"),
	STR(cml_bank_account, bank_bik, "БИК"),
	STR(cml_bank_account, bank_corr_account, "СчетКорреспондентский"),
	STR(cml_bank_account, bank_address, "Адрес"),
};
SHAPE(account_s, cml_bank_account, account_f);

static const struct field address_f[] = {
	STR(cml_address, presentation, "Представление"),
	ARR(cml_address, fields, n_fields, pair_s, "АдресноеПоле"),
};
SHAPE(address_s, cml_address, address_f);

/* A list of strings is a list of one-string objects. */
struct str1 {
	const char *s;
};
static const struct field str1_f[] = {
	{ F_STR, true, offsetof(struct str1, s), 0, NULL, "Ид", 1 },
};
SHAPE(str1_s, struct str1, str1_f);

static const struct field warehouse_f[] = {
	STR(cml_doc_warehouse, id, "Ид"),
	STR(cml_doc_warehouse, name, "Наименование"),
};
SHAPE(warehouse_s, cml_doc_warehouse, warehouse_f);

static const struct field party_f[] = {
	STR(cml_counterparty, id, "Ид"),
	STR(cml_counterparty, version, "НомерВерсии"),
	BOOL(cml_counterparty, deleted, "ПометкаУдаления"),
	STR(cml_counterparty, name, "Наименование"),
	STR(cml_counterparty, official_name, "ОфициальноеНаименование"),
	STR(cml_counterparty, full_name, "ПолноеНаименование"),
	STR(cml_counterparty, last_name, "Фамилия"),
	STR(cml_counterparty, first_name, "Имя"),
	STR(cml_counterparty, middle_name, "Отчество"),
	STR(cml_counterparty, role, "Роль"),
	STR(cml_counterparty, inn, "ИНН"),
	STR(cml_counterparty, kpp, "КПП"),
	STR(cml_counterparty, okpo, "ОКПО"),
	SUB(cml_counterparty, reg_address, address_s, "АдресРегистрации"),
	SUB(cml_counterparty, legal_address, address_s, "ЮридическийАдрес"),
	SUB(cml_counterparty, address, address_s, "Адрес"),
	ARR(cml_counterparty, contacts, n_contacts, pair_s, "Контакты"),
	ARR(cml_counterparty, representatives, n_representatives, rep_s, "Представители"),
	ARR(cml_counterparty, accounts, n_accounts, account_s, "РасчетныеСчета"),
	/* the flag of a Контрагенты package, not of an order */
	{ F_TRI, false, offsetof(cml_counterparty, only_changes), 0, NULL,
	  "СодержитТолькоИзменения", 1 },
};
SHAPE(party_s, cml_counterparty, party_f);

static const struct field line_f[] = {
	STR(cml_doc_line, id, "Ид"),
	STR(cml_doc_line, catalog_id, "ИдКаталога"),
	STR(cml_doc_line, article, "Артикул"),
	STR(cml_doc_line, name, "Наименование"),
	SUB(cml_doc_line, unit, unit_s, "БазоваяЕдиница"),
	SUB(cml_doc_line, line_unit, unit_s, "Единица"),
	NUM(cml_doc_line, price, "ЦенаЗаЕдиницу"),
	NUM(cml_doc_line, quantity, "Количество"),
	NUM(cml_doc_line, sum, "Сумма"),
	NUM(cml_doc_line, coefficient, "Коэффициент"),
	ARR(cml_doc_line, characteristics, n_characteristics, pair_s, "ХарактеристикиТовара"),
	ARR(cml_doc_line, requisites, n_requisites, pair_s, "ЗначенияРеквизитов"),
	ARR(cml_doc_line, taxes, n_taxes, tax_s, "Налоги"),
	ARR(cml_doc_line, tax_rates, n_tax_rates, tax_s, "СтавкиНалогов"),
	ARR(cml_doc_line, discounts, n_discounts, discount_s, "Скидки"),
	ARR(cml_doc_line, groups, n_groups, str1_s, "Группы"),
};
SHAPE(line_s, cml_doc_line, line_f);

static const struct field payment_f[] = {
	STR(cml_payment, number, "Номер"),
	STR(cml_payment, transaction, "НомерТранзакции"),
	STR(cml_payment, date, "Дата"),
	NUM(cml_payment, sum, "Сумма"),
	STR(cml_payment, method, "СпособОплаты"),
	STR(cml_payment, method_id, "ИдСпособаОплаты"),
};
SHAPE(payment_s, cml_payment, payment_f);

/* The names are what "what changed" says of a document. */
static const struct field doc_f[] = {
	STR(cml_document, id, "Ид"),
	STR(cml_document, number, "Номер"),
	STR(cml_document, date, "Дата"),
	STR(cml_document, time, "Время"),
	STR(cml_document, operation, "ХозОперация"),
	STR(cml_document, role, "Роль"),
	STR(cml_document, currency, "Валюта"),
	NUM(cml_document, rate, "Курс"),
	NUM(cml_document, sum, "Сумма"),
	STR(cml_document, comment, "Комментарий"),
	STR(cml_document, version, "НомерВерсии"),
	STR(cml_document, number_1c, "Номер1С"),
	STR(cml_document, date_1c, "Дата1С"),
	STR(cml_document, due_date, "СрокПлатежа"),
	STR(cml_document, basis, "Основание"),
	BOOL(cml_document, deleted, "ПометкаУдаления"),
	/* where the order stood in a 3.1 file, not what it says */
	{ F_UINT, false, offsetof(cml_document, container), 0, NULL, "Контейнер", 1 },
	ARR(cml_document, counterparties, n_counterparties, party_s, "Контрагенты"),
	ARR(cml_document, lines, n_lines, line_s, "Товары"),
	ARR(cml_document, taxes, n_taxes, tax_s, "Налоги"),
	ARR(cml_document, discounts, n_discounts, discount_s, "Скидки"),
	ARR(cml_document, requisites, n_requisites, pair_s, "ЗначенияРеквизитов"),
	ARR(cml_document, payments, n_payments, payment_s, "Оплаты"),
	ARR(cml_document, warehouses, n_warehouses, warehouse_s, "Склады"),
};
SHAPE(doc_s, cml_document, doc_f);

/*
 * Common strings of order documents (Bitrix's requisite names and
 * values, units, contact types, roles), stored as one or two bytes. The
 * stored form refers to them by position: this table belongs to format
 * 1 and never changes. Sorted by bytes (strcmp), for the binary search.
 */
static const char *const common[] = {
	"0",
	"1",
	"10",
	"18",
	"20",
	"643",
	"796",
	"F",
	"N",
	"ORDER_DELIVERY",
	"P",
	"PCE",
	"RUB",
	"RUR",
	"false",
	"true",
	"Адрес доставки",
	"Банковский перевод",
	"Без налога",
	"ВидНоменклатуры",
	"Выплата безналичных денег",
	"Выплата наличных денег",
	"Город",
	"Дата изменения статуса",
	"Дата оплаты",
	"Дата отгрузки",
	"Дата отмены заказа",
	"Дата по 1С",
	"Дата последнего разрешения по доставке",
	"Дата разрешения доставки",
	"Дом",
	"Доставка",
	"Доставка заказа",
	"Доставка курьером",
	"Доставка разрешена",
	"Заказ оплачен",
	"Заказ товара",
	"Идентификатор отправления",
	"Квартира",
	"Комментарии покупателя",
	"Контактное лицо",
	"Корпус",
	"Курьер",
	"Метод доставки ИД",
	"Метод оплаты",
	"Метод оплаты ИД",
	"НДС",
	"Наличный расчет",
	"Населенный пункт",
	"Номер платежного документа",
	"Номер по 1С",
	"Номер1С",
	"НомерВерсии",
	"НомерПозицииКорзины",
	"Оплата картой",
	"Оплачен",
	"Оплачено",
	"Отгружен",
	"Отгружено",
	"Отменен",
	"Отпуск товара",
	"Покупатель",
	"Получатель",
	"ПометкаУдаления",
	"Почта",
	"Почтовый индекс",
	"Причина отмены",
	"Проведен",
	"Продавец",
	"Район",
	"Регион",
	"Резервирование",
	"Россия",
	"Рубль",
	"Сайт",
	"Самовывоз",
	"СвойствоКорзины#CATALOG.XML_ID",
	"СвойствоКорзины#PRODUCT.XML_ID",
	"Скидка на заказ",
	"Способ доставки",
	"Статус заказа",
	"Статус отгрузки",
	"Статуса заказа ИД",
	"Страна",
	"Сумма доставки",
	"Телефон",
	"Телефон рабочий",
	"ТелефонРабочий",
	"ТипНоменклатуры",
	"Товар",
	"Улица",
	"Услуга",
	"Физическое лицо",
	"Финальный статус",
	"Штука",
	"Эквайринговая операция",
	"Электронная почта",
	"Электронные деньги",
	"Юридическое лицо",
	"руб",
	"шт",
};

/* ---- member access ---- */

static const char *
get_str(const void *obj, size_t off)
{
	const char *p;

	memcpy(&p, (const char *)obj + off, sizeof(p));
	return p;
}

static const void *
get_ptr(const void *obj, size_t off)
{
	const void *p;

	memcpy(&p, (const char *)obj + off, sizeof(p));
	return p;
}

static size_t
get_size(const void *obj, size_t off)
{
	size_t n;

	memcpy(&n, (const char *)obj + off, sizeof(n));
	return n;
}

/* ---- bytes ---- */

static bool
put_byte(cml_buf *b, unsigned char c)
{
	return cml_buf_append(b, (const char *)&c, 1);
}

static bool
put_varint(cml_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		tmp[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			tmp[n] |= 0x80;
		n++;
	} while (v != 0);
	return cml_buf_append(b, (const char *)tmp, n);
}

static int
common_find(const char *s)
{
	size_t lo = 0, hi = CML_ARRAY_LEN(common);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s, common[mid]);

		if (c == 0)
			return (int)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static bool
put_stored_str(cml_buf *b, const char *s)
{
	if (s == NULL)
		return put_byte(b, 0);
	size_t len = strlen(s);
	/* the table's strings are all short: skip the search for long ones */
	int k = len <= 80 ? common_find(s) : -1;
	if (k >= 0)
		return put_varint(b, 2 * (uint64_t)k + 1);
	return put_varint(b, 2 * ((uint64_t)len + 1)) && cml_buf_append(b, s, len);
}

static bool
is_space_at(const char *s, size_t n, size_t i, size_t *w)
{
	unsigned char c = (unsigned char)s[i];

	if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
		*w = 1;
		return true;
	}
	if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0xa0) {
		*w = 2;
		return true;
	}
	return false;
}

/* The trimmed bytes of s: *len of them from the return value. */
static const char *
trimmed(const char *s, size_t *len)
{
	size_t n, w;

	if (s == NULL) {
		*len = 0;
		return "";
	}
	n = strlen(s);
	while (n > 0 && is_space_at(s, n, 0, &w)) {
		s += w;
		n -= w;
	}
	for (;;) {
		if (n >= 1 && is_space_at(s, n, n - 1, &w)) {
			n--;
			continue;
		}
		if (n >= 2 && (unsigned char)s[n - 2] == 0xc2 && (unsigned char)s[n - 1] == 0xa0) {
			n -= 2;
			continue;
		}
		break;
	}
	*len = n;
	return s;
}

static bool
put_canon_str(cml_buf *b, const char *s, bool number)
{
	char num[NUM_MAX];
	size_t len;

	if (number && s != NULL && cml_num_canon(s, num, sizeof(num))) {
		len = strlen(num);
		return put_varint(b, len) && cml_buf_append(b, num, len);
	}
	s = trimmed(s, &len);
	return put_varint(b, len) && cml_buf_append(b, s, len);
}

/* ---- the walk ---- */

/* The walks: the stored form, the canonical form's format-1 members,
 * its trailer of the members added since. */
enum walk { W_STORED, W_CANON, W_LATE };

static bool encode_obj(cml_buf *b, const struct shape *sh, const void *obj, enum walk w);

static bool
encode_field(cml_buf *b, const struct field *f, const void *obj, enum walk w)
{
	const char *p = (const char *)obj + f->off;

	if (w == W_LATE) {
		const char *a;
		size_t n;

		/* a later member whole; around it, only the way down */
		if (f->since > 1)
			return encode_field(b, f, obj, W_CANON);
		switch (f->kind) {
		case F_ARR:
			a = get_ptr(obj, f->off);
			n = a == NULL ? 0 : get_size(obj, f->count_off);
			for (size_t i = 0; i < n; i++)
				if (!encode_obj(b, f->shape, a + i * f->shape->size, W_LATE))
					return false;
			return true;
		case F_SUB:
			return encode_obj(b, f->shape, p, W_LATE);
		default:
			return true;
		}
	}
	switch (f->kind) {
	case F_STR:
	case F_NUM:
		if (w == W_CANON)
			return put_canon_str(b, get_str(obj, f->off), f->kind == F_NUM);
		return put_stored_str(b, get_str(obj, f->off));
	case F_BOOL: {
		bool v;
		memcpy(&v, p, sizeof(v));
		return put_byte(b, v ? 1 : 0);
	}
	case F_TRI: {
		cml_tristate v;
		memcpy(&v, p, sizeof(v));
		return put_byte(b, v == CML_TRUE ? 2 : v == CML_FALSE ? 1 : 0);
	}
	case F_UINT: {
		unsigned v;
		memcpy(&v, p, sizeof(v));
		return put_varint(b, v);
	}
	case F_ARR: {
		const char *a = get_ptr(obj, f->off);
		size_t n = get_size(obj, f->count_off);

		if (a == NULL)
			n = 0;
		if (!put_varint(b, n))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!encode_obj(b, f->shape, a + i * f->shape->size, w))
				return false;
		return true;
	}
	case F_SUB:
		return encode_obj(b, f->shape, p, w);
	}
	return false;
}

static bool
encode_obj(cml_buf *b, const struct shape *sh, const void *obj, enum walk w)
{
	for (size_t i = 0; i < sh->n; i++) {
		if (w != W_STORED && !sh->f[i].content)
			continue;
		if (w == W_CANON && sh->f[i].since > 1)
			continue;
		if (!encode_field(b, &sh->f[i], obj, w))
			return false;
	}
	return true;
}

/* Whether obj carries a content member added after format 1 (the only
 * kind so far: an array, present when it has elements). */
static bool
has_late(const struct shape *sh, const void *obj)
{
	for (size_t i = 0; i < sh->n; i++) {
		const struct field *f = &sh->f[i];
		const char *a;
		size_t n;

		if (!f->content)
			continue;
		switch (f->kind) {
		case F_ARR:
			a = get_ptr(obj, f->off);
			n = a == NULL ? 0 : get_size(obj, f->count_off);
			if (f->since > 1 && n > 0)
				return true;
			for (size_t k = 0; f->since == 1 && k < n; k++)
				if (has_late(f->shape, a + k * f->shape->size))
					return true;
			break;
		case F_SUB:
			if (has_late(f->shape, (const char *)obj + f->off))
				return true;
			break;
		default:
			break;
		}
	}
	return false;
}

bool
doc_encode(cml_buf *b, const cml_document *doc)
{
	return put_byte(b, FORMAT) && encode_obj(b, &doc_s, doc, W_STORED);
}

bool
doc_canon(cml_buf *b, const cml_document *doc)
{
	if (!put_byte(b, 'C') || !put_byte(b, CANON_FORMAT) ||
	    !encode_obj(b, &doc_s, doc, W_CANON))
		return false;
	return !has_late(&doc_s, doc) || encode_obj(b, &doc_s, doc, W_LATE);
}

/* ---- decoding ---- */

struct reader {
	const unsigned char *p, *end;
	cml_arena *a;
	cml_status st;
	unsigned format; /* of the bytes: members added later are left empty */
};

static bool
bad(struct reader *r)
{
	if (r->st == CML_OK)
		r->st = CML_ERR_FORMAT;
	return false;
}

static bool
get_varint(struct reader *r, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return bad(r);
		unsigned char c = *r->p++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if ((c & 0x80) == 0)
			return true;
	}
	return bad(r);
}

static bool
get_stored_str(struct reader *r, const char **out)
{
	uint64_t v;

	*out = NULL;
	if (!get_varint(r, &v))
		return false;
	if (v == 0)
		return true;
	if (v & 1) {
		if ((v >> 1) >= CML_ARRAY_LEN(common))
			return bad(r);
		*out = common[v >> 1];
		return true;
	}
	uint64_t len = (v >> 1) - 1;
	if (len > (uint64_t)(r->end - r->p) || memchr(r->p, '\0', (size_t)len) != NULL)
		return bad(r);
	char *s = cml_arena_strndup(r->a, (const char *)r->p, (size_t)len);
	if (s == NULL) {
		r->st = CML_ERR_NOMEM;
		return false;
	}
	r->p += len;
	*out = s;
	return true;
}

static bool decode_obj(struct reader *r, const struct shape *sh, void *obj);

static bool
decode_field(struct reader *r, const struct field *f, void *obj)
{
	char *p = (char *)obj + f->off;
	uint64_t v;

	switch (f->kind) {
	case F_STR:
	case F_NUM: {
		const char *s;
		if (!get_stored_str(r, &s))
			return false;
		memcpy(p, &s, sizeof(s));
		return true;
	}
	case F_BOOL: {
		if (r->p >= r->end || *r->p > 1)
			return bad(r);
		bool b = *r->p++ != 0;
		memcpy(p, &b, sizeof(b));
		return true;
	}
	case F_TRI: {
		if (r->p >= r->end || *r->p > 2)
			return bad(r);
		unsigned char c = *r->p++;
		cml_tristate t = c == 2 ? CML_TRUE : c == 1 ? CML_FALSE : CML_UNSET;
		memcpy(p, &t, sizeof(t));
		return true;
	}
	case F_UINT: {
		if (!get_varint(r, &v) || v > (unsigned)-1)
			return bad(r);
		unsigned u = (unsigned)v;
		memcpy(p, &u, sizeof(u));
		return true;
	}
	case F_ARR: {
		if (!get_varint(r, &v))
			return false;
		/* every element takes a byte at least: a count beyond the
		 * bytes left is a broken form, not a huge allocation */
		if (v > (uint64_t)(r->end - r->p))
			return bad(r);
		size_t n = (size_t)v;
		char *a = NULL;
		if (n > 0) {
			a = cml_arena_alloc(r->a, n * f->shape->size);
			if (a == NULL) {
				r->st = CML_ERR_NOMEM;
				return false;
			}
			memset(a, 0, n * f->shape->size);
			for (size_t i = 0; i < n; i++)
				if (!decode_obj(r, f->shape, a + i * f->shape->size))
					return false;
		}
		memcpy(p, &a, sizeof(a));
		memcpy((char *)obj + f->count_off, &n, sizeof(n));
		return true;
	}
	case F_SUB:
		return decode_obj(r, f->shape, p);
	}
	return bad(r);
}

static bool
decode_obj(struct reader *r, const struct shape *sh, void *obj)
{
	for (size_t i = 0; i < sh->n; i++)
		if (sh->f[i].since <= r->format && !decode_field(r, &sh->f[i], obj))
			return false;
	return true;
}

cml_status
doc_decode(cml_arena *a, const void *bytes, size_t len, cml_document **out)
{
	struct reader r = { bytes, (const unsigned char *)bytes + len, a, CML_OK, 0 };

	*out = NULL;
	if (bytes == NULL || len < 1 || r.p[0] < 1 || r.p[0] > FORMAT)
		return CML_ERR_FORMAT;
	r.format = *r.p++;
	cml_document *doc = cml_arena_alloc(a, sizeof(*doc));
	if (doc == NULL)
		return CML_ERR_NOMEM;
	memset(doc, 0, sizeof(*doc));
	if (!decode_obj(&r, &doc_s, doc))
		return r.st;
	if (r.p != r.end)
		return CML_ERR_FORMAT;
	*out = doc;
	return CML_OK;
}

/* ---- what changed ---- */

static bool
list_add(cml_buf *out, const char *name)
{
	if (out->len > 0 && !cml_buf_append(out, ", ", 2))
		return false;
	return cml_buf_append(out, name, strlen(name));
}

/* A member of the document as the canonical form has it: its format-1
 * walk, then whatever the trailer holds of it. */
static bool
canon_field(cml_buf *b, const struct field *f, const void *obj)
{
	cml_buf_clear(b);
	return encode_field(b, f, obj, W_CANON) && encode_field(b, f, obj, W_LATE);
}

static bool
same_text(const char *a, const char *b)
{
	size_t la, lb;

	a = trimmed(a, &la);
	b = trimmed(b, &lb);
	return la == lb && memcmp(a, b, la) == 0;
}

/* Whether the requisites named name have the same values, in order. */
static bool
same_requisite(const cml_document *x, const cml_document *y, const char *name)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < x->n_requisites && !same_text(x->requisites[i].name, name))
			i++;
		while (j < y->n_requisites && !same_text(y->requisites[j].name, name))
			j++;
		if (i == x->n_requisites || j == y->n_requisites)
			return i == x->n_requisites && j == y->n_requisites;
		if (!same_text(x->requisites[i].value, y->requisites[j].value))
			return false;
		i++;
		j++;
	}
}

/* The requisites whose values differ, each by its name once; when only
 * their order changed, ЗначенияРеквизитов. */
static bool
requisite_changes(const cml_document *old, const cml_document *new, cml_buf *out, bool *any)
{
	const cml_document *docs[2] = { new, old };

	*any = false;
	for (int d = 0; d < 2; d++) {
		const cml_document *x = docs[d];

		for (size_t i = 0; i < x->n_requisites; i++) {
			const char *name = x->requisites[i].name;
			bool seen = false;

			/* each name once: skip one met before, here or in new */
			for (size_t k = 0; k < i && !seen; k++)
				seen = same_text(x->requisites[k].name, name);
			for (size_t k = 0; d == 1 && k < new->n_requisites && !seen; k++)
				seen = same_text(new->requisites[k].name, name);
			if (seen || same_requisite(old, new, name))
				continue;
			size_t len;
			const char *t = trimmed(name, &len);
			if (out->len > 0 && !cml_buf_append(out, ", ", 2))
				return false;
			if (!cml_buf_append(out, len > 0 ? t : "ЗначенияРеквизитов",
			                    len > 0 ? len : strlen("ЗначенияРеквизитов")))
				return false;
			*any = true;
		}
	}
	return true;
}

bool
doc_changes(const cml_document *old, const cml_document *new, cml_buf *tmp1, cml_buf *tmp2,
            cml_buf *out)
{
	for (size_t i = 0; i < doc_s.n; i++) {
		const struct field *f = &doc_s.f[i];

		if (!f->content)
			continue;
		if (!canon_field(tmp1, f, old) || !canon_field(tmp2, f, new))
			return false;
		if (tmp1->len == tmp2->len && memcmp(tmp1->data, tmp2->data, tmp1->len) == 0)
			continue;
		if (f->off == offsetof(cml_document, requisites)) {
			bool any;
			if (!requisite_changes(old, new, out, &any))
				return false;
			if (any)
				continue;
		}
		if (!list_add(out, f->name))
			return false;
	}
	return true;
}

/* ---- the description's own check ---- */

static size_t
field_size(const struct field *f)
{
	switch (f->kind) {
	case F_STR:
	case F_NUM:
		return sizeof(const char *);
	case F_BOOL:
		return sizeof(bool);
	case F_TRI:
		return sizeof(cml_tristate);
	case F_UINT:
		return sizeof(unsigned);
	case F_ARR:
		return sizeof(void *);
	case F_SUB:
		return f->shape->size;
	}
	return 0;
}

/* Marks the bytes of each member; a byte marked twice or a run of
 * unmarked bytes longer than alignment padding is a member the
 * description does not know. */
static bool
shape_check(const struct shape *sh, char *err, size_t cap)
{
	unsigned char mark[512];

	if (sh->size > sizeof(mark)) {
		cml_msg_set(err, cap, "%s: too big to check", sh->type);
		return false;
	}
	memset(mark, 0, sh->size);
	for (size_t i = 0; i < sh->n; i++) {
		const struct field *f = &sh->f[i];
		size_t spans[2][2] = { { f->off, field_size(f) },
			               { f->count_off, sizeof(size_t) } };

		/* a later member: at the end, of a format that exists, and an
		 * array (what has_late knows how to see) */
		if (f->since < 1 || f->since > FORMAT || (i > 0 && f->since < sh->f[i - 1].since) ||
		    (f->since > 1 && f->kind != F_ARR)) {
			cml_msg_set(err, cap, "%s: member %s has a wrong format version", sh->type,
			            f->name);
			return false;
		}

		for (int k = 0; k < (f->kind == F_ARR ? 2 : 1); k++)
			for (size_t j = spans[k][0]; j < spans[k][0] + spans[k][1]; j++) {
				if (j >= sh->size || mark[j]) {
					cml_msg_set(err, cap, "%s: member %s overlaps another",
					            sh->type, f->name);
					return false;
				}
				mark[j] = 1;
			}
		if ((f->kind == F_ARR || f->kind == F_SUB) && !shape_check(f->shape, err, cap))
			return false;
	}
	size_t gap = 0;
	for (size_t j = 0; j < sh->size; j++) {
		gap = mark[j] ? 0 : gap + 1;
		if (gap >= sizeof(void *)) {
			cml_msg_set(err, cap,
			            "%s: bytes %zu.. belong to a member the codec does not know",
			            sh->type, j + 1 - gap);
			return false;
		}
	}
	return true;
}

bool
doc_shapes_check(char *err, size_t cap)
{
	for (size_t i = 1; i < CML_ARRAY_LEN(common); i++)
		if (strcmp(common[i - 1], common[i]) >= 0) {
			cml_msg_set(err, cap, "the common strings are not sorted at \"%s\"",
			            common[i]);
			return false;
		}
	return shape_check(&doc_s, err, cap);
}
