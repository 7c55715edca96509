/*
 * reader.c: the streaming CommerceML reader, on libxml2's xmlTextReader.
 *
 * The reader walks the document node by node and keeps, per open element,
 * a frame saying what that element is (the root, a Классификатор, a list
 * of products, ...). When it meets an element that is one item (a Товар,
 * a Предложение, a Документ, ...) it captures that element's subtree into
 * a small tree in the item arena, then maps the tree onto the model
 * struct. The arena is reset before the next item, so the memory in use
 * is that of the biggest item, whatever the size of the file.
 *
 * Element names are compared as pointers: libxml2 interns every name in
 * its dictionary, and the names we look for are interned in the same
 * dictionary when an input is opened. Namespaces are ignored: elements
 * match by local name (real files carry five different namespace states).
 *
 * Headers (Классификатор, Каталог, ПакетПредложений) come out as items of
 * their own, as soon as their first list (Группы, Товары, Предложения ...)
 * starts, or at their end. A Группа is emitted when its nested Группы
 * start or when it ends, so a parent always comes out before its children.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <iconv.h>

#include <libxml/xmlreader.h>

#include "cml/reader.h"
#include "cml_private.h"

/* ---- interned names ---- */

#define NAMES(X)                                                  \
	X(ROOT, "КоммерческаяИнформация")                         \
	X(CLASSIFIER, "Классификатор")                            \
	X(CATALOG, "Каталог")                                     \
	X(PACKAGE, "ПакетПредложений")                            \
	X(PACKAGE_CHANGES, "ИзмененияПакетаПредложений")          \
	X(DOCUMENT, "Документ")                                   \
	X(CONTAINER, "Контейнер")                                 \
	X(COUNTERPARTIES, "Контрагенты")                          \
	X(COUNTERPARTY, "Контрагент")                             \
	X(GROUPS, "Группы")                                       \
	X(GROUP, "Группа")                                        \
	X(PROPERTIES, "Свойства")                                 \
	X(PROPERTY, "Свойство")                                   \
	X(PRICE_TYPES, "ТипыЦен")                                 \
	X(PRICE_TYPE, "ТипЦены")                                  \
	X(WAREHOUSES, "Склады")                                   \
	X(WAREHOUSE, "Склад")                                     \
	X(UNITS, "ЕдиницыИзмерения")                              \
	X(UNIT, "ЕдиницаИзмерения")                               \
	X(PRODUCTS, "Товары")                                     \
	X(PRODUCT, "Товар")                                       \
	X(OFFERS, "Предложения")                                  \
	X(OFFER, "Предложение")                                   \
	X(ID, "Ид")                                               \
	X(NAME, "Наименование")                                   \
	X(FULL_NAME, "ПолноеНаименование")                        \
	X(OFFICIAL_NAME, "ОфициальноеНаименование")               \
	X(DESCRIPTION, "Описание")                                \
	X(VERSION_NO, "НомерВерсии")                              \
	X(DELETION_MARK, "ПометкаУдаления")                       \
	X(STATUS, "Статус")                                       \
	X(OWNER, "Владелец")                                      \
	X(CLASSIFIER_ID, "ИдКлассификатора")                      \
	X(CATALOG_ID, "ИдКаталога")                               \
	X(ONLY_CHANGES, "СодержитТолькоИзменения")                \
	X(SCHEMA_VERSION, "ВерсияСхемы")                          \
	X(GENERATED, "ДатаФормирования")                          \
	X(VALUE_TYPE, "ТипЗначений")                              \
	X(REQUIRED, "Обязательное")                               \
	X(MULTIPLE, "Множественное")                              \
	X(FOR_PRODUCTS, "ДляТоваров")                             \
	X(FOR_OFFERS, "ДляПредложений")                           \
	X(FOR_DOCUMENTS, "ДляДокументов")                         \
	X(VARIANTS, "ВариантыЗначений")                           \
	X(DIRECTORY, "Справочник")                                \
	X(VALUE_ID, "ИдЗначения")                                 \
	X(VALUE, "Значение")                                      \
	X(CURRENCY, "Валюта")                                     \
	X(TAX, "Налог")                                           \
	X(TAXES, "Налоги")                                        \
	X(IN_SUM, "УчтеноВСумме")                                 \
	X(EXCISE, "Акциз")                                        \
	X(ADDRESS, "Адрес")                                       \
	X(PRESENTATION, "Представление")                          \
	X(COMMENT, "Комментарий")                                 \
	X(CONTACTS, "Контакты")                                   \
	X(CONTACT, "Контакт")                                     \
	X(TYPE, "Тип")                                            \
	X(CODE, "Код")                                            \
	X(SHORT_NAME, "НаименованиеКраткое")                      \
	X(UNIT_FULL_NAME, "НаименованиеПолное")                   \
	X(INTL, "МеждународноеСокращение")                        \
	X(ARTICLE, "Артикул")                                     \
	X(BARCODE, "Штрихкод")                                    \
	X(BARCODE2, "ШтрихКод")                                   \
	X(BASE_UNIT, "БазоваяЕдиница")                            \
	X(PICTURE, "Картинка")                                    \
	X(MANUFACTURER, "Изготовитель")                           \
	X(COUNTRY, "Страна")                                      \
	X(CATEGORY, "Категория")                                  \
	X(WEIGHT, "Вес")                                          \
	X(COMPONENTS, "Комплектующие")                            \
	X(COMPONENT, "Комплектующее")                             \
	X(CONVERSION, "Пересчет")                                 \
	X(GEOTAG, "Геометка")                                     \
	X(PROP_VALUES, "ЗначенияСвойств")                         \
	X(PROP_VALUES1, "ЗначенияСвойства")                       \
	X(PROP_VALUE1, "ЗначениеСвойства")                        \
	X(TAX_RATES, "СтавкиНалогов")                             \
	X(TAX_RATE, "СтавкаНалога")                               \
	X(RATE, "Ставка")                                         \
	X(REQUISITES, "ЗначенияРеквизитов")                       \
	X(REQUISITE, "ЗначениеРеквизита")                         \
	X(CHARACTERISTICS, "ХарактеристикиТовара")                \
	X(CHARACTERISTIC, "ХарактеристикаТовара")                 \
	X(PRICES, "Цены")                                         \
	X(PRICE, "Цена")                                          \
	X(PRICE_TYPE_ID, "ИдТипаЦены")                            \
	X(PRICE_PER_UNIT, "ЦенаЗаЕдиницу")                        \
	X(UNIT_ELEM, "Единица")                                   \
	X(COEFFICIENT, "Коэффициент")                             \
	X(QUANTITY, "Количество")                                 \
	X(WAREHOUSE_ID, "ИдСклада")                               \
	X(QTY_IN_WAREHOUSE, "КоличествоНаСкладе")                 \
	X(RESTS, "Остатки")                                       \
	X(REST, "Остаток")                                        \
	X(NUMBER, "Номер")                                        \
	X(DATE, "Дата")                                           \
	X(TIME, "Время")                                          \
	X(OPERATION, "ХозОперация")                               \
	X(ROLE, "Роль")                                           \
	X(EXCH_RATE, "Курс")                                      \
	X(SUM, "Сумма")                                           \
	X(NUMBER_1C, "Номер1С")                                   \
	X(DATE_1C, "Дата1С")                                      \
	X(DUE_DATE, "СрокПлатежа")                                \
	X(BASIS, "Основание")                                     \
	X(DISCOUNTS, "Скидки")                                    \
	X(DISCOUNT, "Скидка")                                     \
	X(PERCENT, "Процент")                                     \
	X(PAYMENTS, "Оплаты")                                     \
	X(PAYMENT, "Оплата")                                      \
	X(DOC_NUMBER, "НомерДокумента")                           \
	X(TRANSACTION, "НомерТранзакции")                         \
	X(PAY_DATE, "ДатаОплаты")                                 \
	X(PAY_SUM, "СуммаОплаты")                                 \
	X(PAY_METHOD, "СпособОплаты")                             \
	X(PAY_METHOD_ID, "ИдСпособаОплаты")                       \
	X(PRICE_ALT, "Цена")                                      \
	X(LAST_NAME, "Фамилия")                                   \
	X(FIRST_NAME, "Имя")                                      \
	X(MIDDLE_NAME, "Отчество")                                \
	X(INN, "ИНН")                                             \
	X(KPP, "КПП")                                             \
	X(OKPO, "ОКПО")                                           \
	X(OKPO2, "КодПоОКПО")                                     \
	X(REG_ADDRESS, "АдресРегистрации")                        \
	X(LEGAL_ADDRESS, "ЮридическийАдрес")                      \
	X(ADDRESS_FIELD, "АдресноеПоле")                          \
	X(REPRESENTATIVES, "Представители")                       \
	X(REPRESENTATIVE, "Представитель")                        \
	X(RELATION, "Отношение")                                  \
	X(ACCOUNTS, "РасчетныеСчета")                             \
	X(ACCOUNT, "РасчетныйСчет")                               \
	X(ACCOUNT_NO, "НомерСчета")                               \
	X(BANK, "Банк")                                           \
	X(CORR_ACCOUNT, "СчетКорреспондентский")                  \
	X(BIK, "БИК")                                             \
	X(PHONE, "Телефон")                                       \
	X(EMAIL, "Email")                                         \
	X(IDENTIFIER, "Идентификатор")                            \
	X(CATEGORIES, "Категории")

enum name_id {
#define X(sym, str) N_##sym,
	NAMES(X)
#undef X
	N_COUNT
};

static const char *const name_strings[N_COUNT] = {
#define X(sym, str) str,
	NAMES(X)
#undef X
};

/* ---- the captured tree of one element ---- */

typedef struct cnode cnode;
typedef struct cattr cattr;

struct cattr {
	const xmlChar *name; /* interned */
	const char *value;   /* trimmed */
	cattr *next;
};

struct cnode {
	const xmlChar *name; /* interned local name */
	char *text;          /* concatenated direct text, untrimmed */
	size_t text_len;
	cattr *attrs;
	cnode *child, *last, *next;
	unsigned long line;
	bool used; /* its text, an attribute or it was looked up by a mapping */
};

/* ---- frames: what each open element is ---- */

enum role {
	R_OTHER = 0, /* an element we do not look into (skipped) */
	R_ROOT,
	R_CLASSIFIER,
	R_CATALOG,
	R_PACKAGE,
	R_COUNTERPARTIES,
	R_CONTAINER,
	R_GROUPS,
	R_GROUP,
	R_LIST, /* Свойства, ТипыЦен, Склады, ЕдиницыИзмерения, Товары, Предложения */
};

typedef struct frame {
	enum role role;
	const xmlChar *name;
	cnode *header;      /* R_CLASSIFIER/CATALOG/PACKAGE/GROUP: captured fields */
	bool emitted;       /* header or group already handed out */
	char *group_id;     /* R_GROUP: malloc'd id, parent of nested groups */
	cml_kind item_kind; /* R_LIST: the kind of its items */
	const xmlChar *item_name;
} frame;

enum src_kind { SRC_NONE, SRC_FD, SRC_MEM };

/*
 * The pre-scan: a cheap look at the markup of the bytes before libxml2
 * gets them, for the limits libxml2 would enforce too late or at a cost
 * that is not linear in the input (see scan()).
 */
enum scan_state {
	S_TEXT,   /* character data */
	S_LT,     /* after '<' */
	S_STAG,   /* in a start tag */
	S_QUOTE,  /* in an attribute value of a start tag */
	S_ETAG,   /* in an end tag */
	S_BANG,   /* after "<!": a comment, a CDATA section or a DOCTYPE */
	S_COMMENT,
	S_CDATA,
	S_PI,     /* <? ... ?> */
	S_OTHER,  /* any other markup, to its '>' */
};

typedef struct prescan {
	unsigned stride;     /* 1: ASCII-compatible bytes, 2: UTF-16 */
	bool big_endian;     /* UTF-16BE */
	bool odd;            /* a UTF-16 unit cut by the end of a buffer */
	unsigned char odd_byte;
	enum scan_state state;
	unsigned quote;
	/* Lines: UTF-16 counts them unit by unit; bytes count each buffer's
	 * newlines in one fast pass, and the line where the current text or
	 * markup began is worked out from its offset only when needed. */
	unsigned long line;       /* UTF-16: now; bytes: at the buffer's start */
	unsigned long start_line; /* where the current text or markup began */
	bool start_known;         /* start_line is worked out */
	uint64_t off;             /* offset of the buffer's start */
	uint64_t pos;             /* offset of the unit scan_unit() is given */
	uint64_t start_off;       /* offset where the current text or markup began */
	const unsigned char *buf; /* the buffer being scanned */
	size_t run;          /* bytes of the current text run or markup */
	unsigned long attrs; /* '=' outside quotes in the current start tag */
	unsigned prev1, prev2;
	char bang[8];        /* what follows "<!" */
	size_t bang_len;
	char name[96];       /* name of the last start tag, as UTF-8 (or raw bytes) */
	size_t name_len;
	bool in_name;
	/* bytes: the last start tag's name is copied only when a message
	 * needs it or its buffer ends (name_at: where it begins in buf) */
	const unsigned char *name_at;
	size_t buf_len;
} prescan;

struct cml_reader {
	cml_reader_opts opts;
	xmlTextReaderPtr xr;
	const xmlChar *names[N_COUNT];

	/* input */
	enum src_kind src;
	int fd;
	bool own_fd;
	const unsigned char *mem;
	size_t mem_len, mem_off;
	unsigned char *pre; /* sniffed bytes, served first */
	size_t pre_len, pre_off;
	bool src_eof;
	char *name;

	/* encoding watch: declared windows-1251 but maybe UTF-8 */
	bool watch_1251;
	bool enc_mismatch;
	char declared_enc[32];
	char real_enc[32];
	bool bom;

	/* state */
	cml_arena arena;
	cml_item item;
	frame *frames;
	size_t n_frames, cap_frames;
	bool replay;    /* process the current node again */
	int type;       /* the current node's type (xmlReaderTypes) */
	bool started;   /* root seen */
	bool finished;  /* END returned */
	bool file_item_pending;
	char *schema_version; /* malloc'd */
	bool v3;              /* schema 3.x: БазоваяЕдиница is a bare code */
	unsigned container_no;
	unsigned in_container;
	cml_tristate cp_only_changes;

	prescan ps;
	/* an error found while feeding libxml2 (read, encoding, pre-scan):
	 * kept apart from err until the parser stops on it */
	cml_status io_err;
	char io_msg[CML_ERRMSG_MAX];
	/* the node (and attribute) whose value an item error is about */
	const cnode *bad_node;
	const char *bad_attr;
	char bad_what[512];

	cml_status err;
	char errmsg[CML_ERRMSG_MAX];
	bool xml_err_set;
	cml_status xml_err_status;
	char xml_err[CML_ERRMSG_MAX];
	unsigned long warnings;
};

#define DEFAULT_MAX_DEPTH 64
#define DEFAULT_MAX_ITEM (64u * 1024 * 1024)
/* No CommerceML element has more than about ten attributes; libxml2
 * checks an element's attributes for duplicates pairwise (quadratic
 * time), so more than this is refused before libxml2 sees them. */
#define DEFAULT_MAX_ATTRS 64
#define SNIFF_BYTES (64 * 1024)

/* ---- errors ---- */

static const char *
in_name(const cml_reader *r)
{
	return r->name != NULL ? r->name : "(input)";
}

static cml_status
fail(cml_reader *r, cml_status st, unsigned long line, const char *fmt, ...)
	CML_PRINTF(4, 5);

/* "FILE:LINE: detail" (or "FILE: detail" without a line) into out. */
static void
msg_at(const cml_reader *r, char *out, size_t cap, unsigned long line, const char *fmt,
       va_list ap) CML_PRINTF(5, 0);

static void
msg_at(const cml_reader *r, char *out, size_t cap, unsigned long line, const char *fmt,
       va_list ap)
{
	char detail[CML_ERRMSG_MAX];

	cml_msg_vset(detail, sizeof(detail), fmt, ap);
	if (line > 0)
		cml_msg_set(out, cap, "%s:%lu: %s", in_name(r), line, detail);
	else
		cml_msg_set(out, cap, "%s: %s", in_name(r), detail);
}

static cml_status
fail(cml_reader *r, cml_status st, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_at(r, r->errmsg, sizeof(r->errmsg), line, fmt, ap);
	va_end(ap);
	r->err = st;
	return st;
}

static void
warn(cml_reader *r, unsigned long line, const char *fmt, ...) CML_PRINTF(3, 4);

static void
warn(cml_reader *r, unsigned long line, const char *fmt, ...)
{
	char msg[CML_ERRMSG_MAX];
	va_list ap;

	r->warnings++;
	if (r->opts.warn == NULL)
		return;
	va_start(ap, fmt);
	msg_at(r, msg, sizeof(msg), line, fmt, ap);
	va_end(ap);
	r->opts.warn(r->opts.warn_ud, msg);
}

static cml_status
nomem(cml_reader *r)
{
	return fail(r, CML_ERR_NOMEM, 0, "out of memory");
}

/* libxml2's structured error handler: keep the first error. */
static void
on_xml_error(void *ud, xmlErrorPtr e)
{
	cml_reader *r = ud;
	char msg[CML_ERRMSG_MAX];
	size_t n;

	if (e == NULL)
		return;
	cml_msg_set(msg, sizeof(msg), "%s", e->message ? e->message : "XML error");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (e->level == XML_ERR_WARNING) {
		warn(r, (unsigned long)(e->line > 0 ? e->line : 0), "%s", msg);
		return;
	}
	if (r->xml_err_set)
		return;
	r->xml_err_set = true;
	switch (e->code) {
	case XML_ERR_INVALID_CHAR:
	case XML_ERR_INVALID_ENCODING:
	case XML_ERR_UNSUPPORTED_ENCODING:
	case XML_ERR_UNKNOWN_ENCODING:
	case XML_I18N_CONV_FAILED:
	case XML_I18N_NO_HANDLER:
		r->xml_err_status = CML_ERR_ENCODING;
		break;
	case XML_ERR_ENTITY_LOOP:
	case XML_ERR_ENTITY_PE_INTERNAL:
	case XML_ERR_EXT_ENTITY_STANDALONE:
	case XML_ERR_ENTITY_BOUNDARY:
		r->xml_err_status = CML_ERR_HOSTILE;
		break;
	default:
		if (e->domain == XML_FROM_IO)
			r->xml_err_status = CML_ERR_IO;
		else if (strstr(msg, "Excessive depth") != NULL ||
		         strstr(msg, "amplification") != NULL ||
		         strstr(msg, "entity") != NULL)
			r->xml_err_status = CML_ERR_HOSTILE;
		else
			r->xml_err_status = CML_ERR_SYNTAX;
	}
	cml_msg_set(r->xml_err, sizeof(r->xml_err), "%s:%d: %s", in_name(r), e->line, msg);
}

/* ---- input ---- */

static bool
is_1251_name(const char *enc)
{
	return strcasecmp(enc, "windows-1251") == 0 || strcasecmp(enc, "cp1251") == 0 ||
	       strcasecmp(enc, "win-1251") == 0;
}

/*
 * Looks at bytes with the high bit set: returns the number of complete,
 * valid UTF-8 multi-byte sequences, or -1 as soon as one byte can't be
 * UTF-8. A sequence cut by the end of the buffer is not held against it.
 */
static long
utf8_evidence(const unsigned char *p, size_t n)
{
	long seqs = 0;
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4;
		else
			return -1;
		if (i + len > n)
			break;
		for (size_t k = 1; k < len; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				return -1;
		seqs++;
		i += len;
	}
	return seqs;
}

/* An error met while feeding libxml2: kept until the parser stops. */
static cml_status
io_fail(cml_reader *r, cml_status st, unsigned long line, const char *fmt, ...)
	CML_PRINTF(4, 5);

static cml_status
io_fail(cml_reader *r, cml_status st, unsigned long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_at(r, r->io_msg, sizeof(r->io_msg), line, fmt, ap);
	va_end(ap);
	r->io_err = st;
	return st;
}

/* ---- the pre-scan ----
 *
 * libxml2 checks the attributes of an element for duplicates pair by
 * pair, so one start tag with 200,000 attributes costs minutes; and it
 * holds a whole text node (or comment) in memory before the reader sees
 * any of it. So every byte handed to libxml2 goes through this small
 * state machine first: it counts the attributes of each start tag and
 * the length of each text run and each piece of markup, and refuses the
 * input before libxml2 is given the byte that breaks a limit. It also
 * refuses a DOCTYPE before libxml2 parses any of it. One pass, constant
 * state: linear in the input.
 */

#if defined(__SSE2__)
/* Newlines in p[0..n), sixteen bytes at a time (SSE2 is part of every
 * x86-64): counting them was the largest part of the pre-scan. */
static unsigned long
nl_count(const unsigned char *p, size_t n)
{
	const __m128i nl = _mm_set1_epi8('\n');
	unsigned long k = 0;
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const void *)(p + i));
		/* newlines are sparse: clearing the mask's bits one by one beats
		 * libgcc's popcount, which x86-64 without -mpopcnt calls */
		for (unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)); m != 0;
		     m &= m - 1)
			k++;
	}
	for (; i < n; i++)
		k += p[i] == '\n';
	return k;
}
#else
/* Newlines in p[0..n), eight bytes at a time. */
static unsigned long
nl_count(const unsigned char *p, size_t n)
{
	const uint64_t ones7 = 0x7F7F7F7F7F7F7F7FULL, high = 0x8080808080808080ULL;
	unsigned long k = 0;
	uint64_t acc = 0; /* eight byte-wide counters, folded before they overflow */
	unsigned words = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		w ^= 0x0A0A0A0A0A0A0A0AULL; /* a zero byte where a '\n' was */
		acc += (~(((w & ones7) + ones7) | w) & high) >> 7;
		if (++words == 31) {
			k += (unsigned long)((acc * 0x0101010101010101ULL) >> 56);
			acc = 0;
			words = 0;
		}
	}
	k += (unsigned long)((acc * 0x0101010101010101ULL) >> 56);
	for (; i < n; i++)
		k += p[i] == '\n';
	return k;
}
#endif

/* The first of a, b, c or d in p[i..n), or n: sixteen bytes at a time
 * where SSE2 is there (every x86-64), since every byte of the input goes
 * through here. */
static size_t
find4(const unsigned char *p, size_t i, size_t n, unsigned char a, unsigned char b,
      unsigned char c, unsigned char d)
{
#if defined(__SSE2__)
	const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);
	const __m128i vc = _mm_set1_epi8((char)c), vd = _mm_set1_epi8((char)d);

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const void *)(p + i));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
		                         _mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vd)));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);

		if (bits != 0)
			return i + (size_t)__builtin_ctz(bits);
	}
#endif
	for (; i < n; i++)
		if (p[i] == a || p[i] == b || p[i] == c || p[i] == d)
			return i;
	return n;
}

/* The bytes that end a tag's name in the pre-scan's fast loop. */
static const bool name_stop[256] = {
	[' '] = true, ['>'] = true, ['/'] = true, ['\n'] = true, ['\t'] = true,
	['\r'] = true, ['='] = true, ['"'] = true, ['\''] = true,
};

/* Copies the last start tag's name out of the buffer, if it is not yet:
 * a name cut by the buffer's end goes on in the next one (in_name). */
static void
scan_name_settle(prescan *ps)
{
	if (ps->name_at == NULL)
		return;
	const unsigned char *q = ps->name_at, *end = ps->buf + ps->buf_len;

	ps->name_len = 0;
	while (q < end && !name_stop[*q]) {
		if (ps->name_len + 1 < sizeof(ps->name))
			ps->name[ps->name_len++] = (char)*q;
		q++;
	}
	if (q == end && ps->state == S_STAG)
		ps->in_name = true;
	ps->name_at = NULL;
}

/* The current text or markup begins at the unit scan_unit() is given. */
static void
scan_mark(prescan *ps)
{
	if (ps->stride == 2) {
		ps->start_line = ps->line;
		ps->start_known = true;
	} else {
		ps->start_off = ps->pos;
		ps->start_known = false;
	}
}

/* The line where the current text or markup began. */
static unsigned long
scan_start_line(prescan *ps)
{
	if (!ps->start_known) {
		ps->start_line = ps->line + nl_count(ps->buf, (size_t)(ps->start_off - ps->off));
		ps->start_known = true;
	}
	return ps->start_line;
}

static void
scan_name_add(prescan *ps, unsigned u)
{
	if (ps->stride == 1 || u < 0x80) {
		if (ps->name_len + 1 < sizeof(ps->name))
			ps->name[ps->name_len++] = (char)u;
		return;
	}
	if (ps->name_len + 4 >= sizeof(ps->name))
		return;
	if (u >= 0xD800 && u <= 0xDFFF)
		u = '?';
	if (u < 0x800) {
		ps->name[ps->name_len++] = (char)(0xC0 | (u >> 6));
	} else {
		ps->name[ps->name_len++] = (char)(0xE0 | (u >> 12));
		ps->name[ps->name_len++] = (char)(0x80 | ((u >> 6) & 0x3F));
	}
	ps->name[ps->name_len++] = (char)(0x80 | (u & 0x3F));
}

/* The last start tag's name as UTF-8, for messages. */
static const char *
scan_name(cml_reader *r, char *out, size_t cap)
{
	prescan *ps = &r->ps;
	bool high = false;

	scan_name_settle(ps);
	for (size_t i = 0; i < ps->name_len; i++)
		if ((unsigned char)ps->name[i] >= 0x80)
			high = true;
	if (ps->stride == 1 && high && strcasecmp(r->real_enc, "UTF-8") != 0) {
		iconv_t cd = iconv_open("UTF-8", r->real_enc);

		if (cd != (iconv_t)-1) {
			char *in = ps->name, *o = out;
			size_t inl = ps->name_len, outl = cap - 1;

			(void)iconv(cd, &in, &inl, &o, &outl);
			iconv_close(cd);
			*o = '\0';
			return out;
		}
	}
	cml_msg_set(out, cap, "%.*s", (int)ps->name_len, ps->name);
	return out;
}

static cml_status
scan_too_long(cml_reader *r)
{
	prescan *ps = &r->ps;
	char name[sizeof(ps->name) * 2];
	size_t max = r->opts.max_item_bytes;

	switch (ps->state) {
	case S_TEXT:
		return io_fail(r, CML_ERR_HOSTILE, scan_start_line(ps),
		               "<%s>: text of more than %zu bytes: refused (the limit of one "
		               "item, see cmlkit(7))",
		               scan_name(r, name, sizeof(name)), max);
	case S_STAG:
	case S_QUOTE:
		return io_fail(r, CML_ERR_HOSTILE, scan_start_line(ps),
		               "<%s>: start tag of more than %zu bytes: refused (the limit of "
		               "one item, see cmlkit(7))",
		               scan_name(r, name, sizeof(name)), max);
	default:
		return io_fail(r, CML_ERR_HOSTILE, scan_start_line(ps),
		               "markup (a tag, comment, CDATA section or processing "
		               "instruction) of more than %zu bytes: refused (the limit of one "
		               "item, see cmlkit(7))",
		               max);
	}
}

static void
scan_to_text(prescan *ps)
{
	ps->state = S_TEXT;
	ps->run = 0;
	scan_mark(ps);
}

/* One character (byte or UTF-16 unit) of the input. */
static cml_status
scan_unit(cml_reader *r, unsigned u)
{
	prescan *ps = &r->ps;

	if (u == '\n' && ps->stride == 2)
		ps->line++;
	ps->run += ps->stride;
	if (ps->run > r->opts.max_item_bytes && !(ps->state == S_TEXT && u == '<'))
		return scan_too_long(r);
	switch (ps->state) {
	case S_TEXT:
		if (u == '<') {
			ps->state = S_LT;
			ps->run = ps->stride;
			scan_mark(ps);
		}
		break;
	case S_LT:
		if (u == '/') {
			ps->state = S_ETAG;
		} else if (u == '!') {
			ps->state = S_BANG;
			ps->bang_len = 0;
		} else if (u == '?') {
			ps->state = S_PI;
			ps->prev1 = ps->prev2 = 0;
		} else {
			ps->state = S_STAG;
			ps->attrs = 0;
			ps->name_len = 0;
			ps->name_at = NULL;
			ps->in_name = true;
			scan_name_add(ps, u);
		}
		break;
	case S_STAG:
		if (u == '"' || u == '\'') {
			ps->quote = u;
			ps->state = S_QUOTE;
			ps->in_name = false;
		} else if (u == '>') {
			scan_to_text(ps);
		} else if (u == '=') {
			ps->in_name = false;
			if (++ps->attrs > r->opts.max_attrs) {
				char name[sizeof(ps->name) * 2];

				return io_fail(r, CML_ERR_HOSTILE, scan_start_line(ps),
				               "<%s>: more than %u attributes: refused (no "
				               "CommerceML element has that many, see cmlkit(7))",
				               scan_name(r, name, sizeof(name)), r->opts.max_attrs);
			}
		} else if (ps->in_name) {
			if (u == ' ' || u == '\t' || u == '\r' || u == '\n' || u == '/')
				ps->in_name = false;
			else
				scan_name_add(ps, u);
		}
		break;
	case S_QUOTE:
		if (u == ps->quote)
			ps->state = S_STAG;
		break;
	case S_ETAG:
	case S_OTHER:
		if (u == '>')
			scan_to_text(ps);
		break;
	case S_BANG:
		if (u == '>') {
			scan_to_text(ps);
			break;
		}
		ps->bang[ps->bang_len++] = (char)(u < 0x80 ? u : '?');
		if (ps->bang[0] == '-') {
			if (ps->bang_len == 2)
				ps->state = ps->bang[1] == '-' ? S_COMMENT : S_OTHER;
			ps->prev1 = ps->prev2 = 0;
		} else if (ps->bang[0] == '[') {
			if (strncmp(ps->bang, "[CDATA[", ps->bang_len) != 0)
				ps->state = S_OTHER;
			else if (ps->bang_len == 7)
				ps->state = S_CDATA;
			ps->prev1 = ps->prev2 = 0;
		} else if (ps->bang[0] == 'D') {
			return io_fail(r, CML_ERR_HOSTILE, scan_start_line(ps),
			               "<!DOCTYPE>: DTDs and entity declarations are refused "
			               "(CommerceML has none)");
		} else {
			ps->state = S_OTHER;
		}
		break;
	case S_COMMENT:
	case S_CDATA:
	case S_PI: {
		unsigned c = ps->state == S_COMMENT ? '-' : ps->state == S_CDATA ? ']' : '?';

		if (u == '>' && ps->prev1 == c && (ps->state == S_PI || ps->prev2 == c))
			scan_to_text(ps);
		ps->prev2 = ps->prev1;
		ps->prev1 = u;
		break;
	}
	}
	return CML_OK;
}

static cml_status
scan(cml_reader *r, const unsigned char *p, size_t n)
{
	prescan *ps = &r->ps;
	size_t max = r->opts.max_item_bytes;
	cml_status st;
	size_t i = 0;

	if (ps->stride == 2) {
		if (ps->odd && n > 0) {
			unsigned u = ps->big_endian ? (unsigned)ps->odd_byte << 8 | p[0]
			                            : (unsigned)p[0] << 8 | ps->odd_byte;
			ps->odd = false;
			i = 1;
			if ((st = scan_unit(r, u)) != CML_OK)
				return st;
		}
		for (; i + 1 < n; i += 2) {
			unsigned u = ps->big_endian ? (unsigned)p[i] << 8 | p[i + 1]
			                            : (unsigned)p[i + 1] << 8 | p[i];
			if ((st = scan_unit(r, u)) != CML_OK)
				return st;
		}
		if (i < n) {
			ps->odd = true;
			ps->odd_byte = p[i];
		}
		return CML_OK;
	}
	/* Text, names and attribute values are most of a file: run through
	 * them here, and leave only the bytes that change the state (about
	 * four a tag) to scan_unit(). */
	ps->buf = p;
	ps->buf_len = n;
	while (i < n) {
		size_t j = i;

		switch (ps->state) {
		case S_TEXT:
			j = find4(p, i, n, '<', '<', '<', '<');
			break;
		case S_QUOTE:
			j = find4(p, i, n, (unsigned char)ps->quote, (unsigned char)ps->quote,
			          (unsigned char)ps->quote, (unsigned char)ps->quote);
			break;
		case S_STAG:
			if (ps->in_name) {
				/* a name begun in the last buffer */
				while (j < n && !name_stop[p[j]])
					j++;
				size_t room = sizeof(ps->name) - 1 - ps->name_len, k = j - i;
				memcpy(ps->name + ps->name_len, p + i, k < room ? k : room);
				ps->name_len += k < room ? k : room;
				if (j < n)
					ps->in_name = false;
			} else {
				j = find4(p, i, n, '=', '>', '"', '\'');
			}
			break;
		case S_ETAG:
			j = find4(p, i, n, '>', '>', '>', '>');
			break;
		default:
			break;
		}
		ps->run += j - i;
		if (ps->run > max)
			return scan_too_long(r);
		i = j;
		if (i == n)
			break;
		ps->pos = ps->off + i;
		/* the transitions of almost every tag, without scan_unit() */
		if (ps->state == S_TEXT && p[i] == '<' && i + 1 < n && p[i + 1] != '!' &&
		    p[i + 1] != '?') {
			scan_mark(ps);
			if (p[i + 1] == '/') {
				ps->state = S_ETAG;
				ps->run = 2;
				i += 2;
			} else {
				ps->state = S_STAG;
				ps->attrs = 0;
				ps->name_len = 0;
				ps->in_name = false;
				ps->name_at = p + i + 1;
				ps->run = 1;
				i += 1;
			}
			continue;
		}
		if ((ps->state == S_ETAG || ps->state == S_STAG) && p[i] == '>') {
			i++;
			scan_to_text(ps);
			continue;
		}
		if ((st = scan_unit(r, p[i++])) != CML_OK)
			return st;
	}
	/* the next buffer starts here: settle what depends on this one,
	 * counting each byte's newline once */
	scan_name_settle(ps);
	if (!ps->start_known) {
		size_t k = (size_t)(ps->start_off - ps->off);

		ps->start_line = ps->line + nl_count(p, k);
		ps->start_known = true;
		ps->line = ps->start_line + nl_count(p + k, n - k);
	} else {
		ps->line += nl_count(p, n);
	}
	ps->off += n;
	return CML_OK;
}

static ssize_t
src_read(cml_reader *r, unsigned char *buf, size_t len)
{
	if (r->src == SRC_MEM) {
		size_t n = r->mem_len - r->mem_off;

		if (n > len)
			n = len;
		memcpy(buf, r->mem + r->mem_off, n);
		r->mem_off += n;
		return (ssize_t)n;
	}
	for (;;) {
		ssize_t n = read(r->fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

/* libxml2's read callback. */
static int
io_read(void *ctx, char *buf, int len)
{
	cml_reader *r = ctx;
	size_t got = 0;

	if (len <= 0)
		return 0;
	if (r->io_err != CML_OK)
		return -1;
	if (r->pre_off < r->pre_len) {
		got = r->pre_len - r->pre_off;
		if (got > (size_t)len)
			got = (size_t)len;
		memcpy(buf, r->pre + r->pre_off, got);
		r->pre_off += got;
	} else if (!r->src_eof) {
		ssize_t n = src_read(r, (unsigned char *)buf, (size_t)len);

		if (n < 0) {
			io_fail(r, CML_ERR_IO, 0, "read: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			r->src_eof = true;
		got = (size_t)n;
	}
	if (r->watch_1251 && got > 0) {
		long ev = utf8_evidence((const unsigned char *)buf, got);

		if (ev < 0) {
			r->watch_1251 = false; /* real single-byte text: fine */
		} else if (ev >= 4) {
			r->enc_mismatch = true;
			io_fail(r, CML_ERR_ENCODING, 0,
			        "declares encoding windows-1251 but its bytes are UTF-8; "
			        "refusing to turn it into mojibake (fix the declaration)");
			return -1;
		}
	}
	if (got > 0 && scan(r, (const unsigned char *)buf, got) != CML_OK)
		return -1;
	return (int)got;
}

static int
io_close(void *ctx)
{
	(void)ctx;
	return 0;
}

/* Fills r->pre with the first bytes of the input. */
static cml_status
sniff(cml_reader *r)
{
	r->pre = cml_malloc(SNIFF_BYTES);
	if (r->pre == NULL)
		return nomem(r);
	r->pre_len = 0;
	while (r->pre_len < SNIFF_BYTES) {
		ssize_t n = src_read(r, r->pre + r->pre_len, SNIFF_BYTES - r->pre_len);

		if (n < 0)
			return fail(r, CML_ERR_IO, 0, "read: %s", strerror(errno));
		if (n == 0) {
			r->src_eof = true;
			break;
		}
		r->pre_len += (size_t)n;
	}
	return CML_OK;
}

/*
 * Reads the encoding the XML declaration names, from bytes that are
 * ASCII-compatible (stride 1) or UTF-16 (stride 2, low byte first or
 * second).
 */
static void
decl_encoding(const unsigned char *p, size_t n, size_t stride, size_t lo, char *out, size_t cap)
{
	char ascii[512];
	size_t k = 0;

	out[0] = '\0';
	for (size_t i = lo; i < n && k + 1 < sizeof(ascii); i += stride) {
		ascii[k++] = (char)p[i];
		if (p[i] == '>')
			break;
	}
	ascii[k] = '\0';
	if (strncmp(ascii, "<?xml", 5) != 0)
		return;
	const char *e = strstr(ascii, "encoding");
	if (e == NULL)
		return;
	e += 8;
	while (*e == ' ' || *e == '\t' || *e == '\r' || *e == '\n' || *e == '=')
		e++;
	if (*e != '"' && *e != '\'')
		return;
	char q = *e++;
	size_t m = 0;
	while (*e && *e != q && m + 1 < cap)
		out[m++] = *e++;
	out[m] = '\0';
}

static void
reset_state(cml_reader *r)
{
	if (r->xr != NULL) {
		xmlFreeTextReader(r->xr);
		r->xr = NULL;
	}
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->own_fd = false;
	r->src = SRC_NONE;
	r->mem = NULL;
	r->mem_len = r->mem_off = 0;
	cml_free(r->pre);
	r->pre = NULL;
	r->pre_len = r->pre_off = 0;
	r->src_eof = false;
	cml_free(r->name);
	r->name = NULL;
	r->watch_1251 = r->enc_mismatch = false;
	r->declared_enc[0] = r->real_enc[0] = '\0';
	r->bom = false;
	for (size_t i = 0; i < r->n_frames; i++)
		cml_free(r->frames[i].group_id);
	r->n_frames = 0;
	cml_arena_reset(&r->arena);
	r->replay = r->started = r->finished = false;
	r->file_item_pending = false;
	cml_free(r->schema_version);
	r->schema_version = NULL;
	r->v3 = false;
	r->container_no = r->in_container = 0;
	r->cp_only_changes = CML_UNSET;
	memset(&r->ps, 0, sizeof(r->ps));
	r->ps.stride = 1;
	r->ps.line = r->ps.start_line = 1;
	r->ps.start_known = true;
	r->io_err = CML_OK;
	r->io_msg[0] = '\0';
	r->bad_node = NULL;
	r->bad_attr = NULL;
	r->err = CML_OK;
	r->errmsg[0] = '\0';
	r->xml_err_set = false;
	r->xml_err[0] = '\0';
	r->warnings = 0;
}

cml_reader *
cml_reader_new(const cml_reader_opts *opts)
{
	cml_reader *r = cml_calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if (opts != NULL)
		r->opts = *opts;
	if (r->opts.max_depth == 0)
		r->opts.max_depth = DEFAULT_MAX_DEPTH;
	if (r->opts.max_item_bytes == 0)
		r->opts.max_item_bytes = DEFAULT_MAX_ITEM;
	if (r->opts.max_attrs == 0)
		r->opts.max_attrs = DEFAULT_MAX_ATTRS;
	r->fd = -1;
	cml_arena_init(&r->arena);
	return r;
}

void
cml_reader_free(cml_reader *r)
{
	if (r == NULL)
		return;
	reset_state(r);
	cml_arena_destroy(&r->arena);
	cml_free(r->frames);
	cml_free(r);
}

const char *
cml_reader_errmsg(const cml_reader *r)
{
	return r->errmsg;
}

unsigned long
cml_reader_warnings(const cml_reader *r)
{
	return r->warnings;
}

unsigned long
cml_reader_line(const cml_reader *r)
{
	if (r->xr == NULL)
		return 0;
	int line = xmlTextReaderGetParserLineNumber(r->xr);
	return line > 0 ? (unsigned long)line : 0;
}

/* Sets up the xmlTextReader once the source is in place. */
static cml_status
open_common(cml_reader *r)
{
	cml_status st = sniff(r);
	const char *force = NULL;
	/* XML_PARSE_HUGE lifts libxml2's own 10 MB text limit (refused with a
	 * message naming no element): the pre-scan enforces the documented
	 * max_item_bytes instead, and refuses DTDs before libxml2 parses
	 * them, so the entity limits HUGE relaxes are never reached. */
	int options = XML_PARSE_NONET | XML_PARSE_COMPACT | XML_PARSE_BIG_LINES | XML_PARSE_HUGE;

	if (st != CML_OK)
		return st;

	const unsigned char *p = r->pre;
	size_t n = r->pre_len;
	size_t ws = 0;
	while (ws < n && (p[ws] == ' ' || p[ws] == '\t' || p[ws] == '\r' || p[ws] == '\n'))
		ws++;
	if (ws == n && r->src_eof)
		return fail(r, CML_ERR_FORMAT, 0,
		            "the input is empty (%s): no CommerceML in it; was it written "
		            "completely? (check the program or transfer that wrote it)",
		            n == 0 ? "0 bytes" : "only white space");
	if (n >= 4 && ((p[0] == 0xFF && p[1] == 0xFE && p[2] == 0 && p[3] == 0) ||
	               (p[0] == 0 && p[1] == 0 && p[2] == 0xFE && p[3] == 0xFF) ||
	               (p[0] == '<' && p[1] == 0 && p[2] == 0 && p[3] == 0) ||
	               (p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == '<')))
		return fail(r, CML_ERR_ENCODING, 0,
		            "the input is UTF-32: CommerceML is read in UTF-8, windows-1251 or "
		            "UTF-16; convert it first (iconv -f UTF-32 -t UTF-8)");
	if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == '<' && p[1] == 0))) {
		r->ps.stride = 2;
	} else if (n >= 2 && ((p[0] == 0xFE && p[1] == 0xFF) || (p[0] == 0 && p[1] == '<'))) {
		r->ps.stride = 2;
		r->ps.big_endian = true;
	}
	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
		r->bom = true;
		cml_msg_set(r->real_enc, sizeof(r->real_enc), "UTF-8");
		decl_encoding(p + 3, n - 3, 1, 0, r->declared_enc, sizeof(r->declared_enc));
	} else if (n >= 2 && p[0] == 0xFF && p[1] == 0xFE) {
		r->bom = true;
		cml_msg_set(r->real_enc, sizeof(r->real_enc), "UTF-16LE");
		decl_encoding(p + 2, n - 2, 2, 0, r->declared_enc, sizeof(r->declared_enc));
	} else if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF) {
		r->bom = true;
		cml_msg_set(r->real_enc, sizeof(r->real_enc), "UTF-16BE");
		decl_encoding(p + 2, n - 2, 2, 1, r->declared_enc, sizeof(r->declared_enc));
	} else {
		decl_encoding(p, n, 1, 0, r->declared_enc, sizeof(r->declared_enc));
		if (r->declared_enc[0] != '\0')
			cml_msg_set(r->real_enc, sizeof(r->real_enc), "%s", r->declared_enc);
		else
			cml_msg_set(r->real_enc, sizeof(r->real_enc), "UTF-8");
	}

	if (!r->bom && r->declared_enc[0] != '\0' && is_1251_name(r->declared_enc)) {
		long ev = utf8_evidence(p, n);

		cml_msg_set(r->real_enc, sizeof(r->real_enc), "windows-1251");
		if (ev >= 2) {
			/* The Bitrix UTF-8 distribution writes such files. */
			force = "UTF-8";
			options |= XML_PARSE_IGNORE_ENC;
			cml_msg_set(r->real_enc, sizeof(r->real_enc), "UTF-8");
			warn(r, 1, "declares encoding windows-1251 but its bytes are UTF-8; "
			           "read as UTF-8");
		} else if (ev == 0) {
			r->watch_1251 = true; /* no evidence yet: keep looking */
		}
	}

	r->xr = xmlReaderForIO(io_read, io_close, r, NULL, force, options);
	if (r->xr == NULL)
		return nomem(r);
	xmlTextReaderSetStructuredErrorHandler(r->xr, on_xml_error, r);
	for (int i = 0; i < N_COUNT; i++) {
		r->names[i] = xmlTextReaderConstString(r->xr, (const xmlChar *)name_strings[i]);
		if (r->names[i] == NULL)
			return nomem(r);
	}
	r->file_item_pending = true;
	return CML_OK;
}

static cml_status
set_name(cml_reader *r, const char *name)
{
	r->name = cml_strdup(name != NULL ? name : "(input)");
	return r->name != NULL ? CML_OK : nomem(r);
}

cml_status
cml_reader_open_file(cml_reader *r, const char *path)
{
	reset_state(r);
	if (path == NULL)
		return fail(r, CML_ERR_USAGE, 0, "no file name");
	if (strcmp(path, "-") == 0)
		return cml_reader_open_fd(r, STDIN_FILENO, "(stdin)");
	if (set_name(r, path) != CML_OK)
		return r->err;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return fail(r, CML_ERR_IO, 0, "%s", strerror(errno));
	r->own_fd = true;
	r->src = SRC_FD;
	return open_common(r);
}

cml_status
cml_reader_open_fd(cml_reader *r, int fd, const char *name)
{
	reset_state(r);
	if (set_name(r, name) != CML_OK)
		return r->err;
	r->fd = fd;
	r->src = SRC_FD;
	return open_common(r);
}

cml_status
cml_reader_open_memory(cml_reader *r, const void *buf, size_t len, const char *name)
{
	reset_state(r);
	if (set_name(r, name) != CML_OK)
		return r->err;
	r->mem = buf;
	r->mem_len = len;
	r->src = SRC_MEM;
	return open_common(r);
}

/* ---- node helpers ---- */

static unsigned long
node_line(cml_reader *r)
{
	xmlNodePtr node = xmlTextReaderCurrentNode(r->xr);
	long line = node != NULL ? xmlGetLineNo(node) : -1;

	/* Element lines are kept in 16 bits by libxml2: past 65535 the
	 * parser's own position (a few lines ahead at most) is the best
	 * there is. */
	if (line <= 0 || line >= 65535)
		return cml_reader_line(r);
	return (unsigned long)line;
}

static bool
is(const cml_reader *r, const xmlChar *name, enum name_id id)
{
	return name == r->names[id];
}

static frame *
top(cml_reader *r)
{
	return r->n_frames ? &r->frames[r->n_frames - 1] : NULL;
}

static cml_status
push_frame_out(cml_reader *r, enum role role, const xmlChar *name, frame **out)
{
	if (r->n_frames == r->cap_frames) {
		size_t cap = r->cap_frames ? r->cap_frames * 2 : 16;
		frame *f = cml_realloc(r->frames, cap * sizeof(*f));

		if (f == NULL)
			return nomem(r);
		r->frames = f;
		r->cap_frames = cap;
	}
	frame *f = &r->frames[r->n_frames++];
	memset(f, 0, sizeof(*f));
	f->role = role;
	f->name = name;
	if (out != NULL)
		*out = f;
	return CML_OK;
}

static cml_status
push_frame(cml_reader *r, enum role role, const xmlChar *name)
{
	return push_frame_out(r, role, name, NULL);
}

static void
pop_frame(cml_reader *r)
{
	frame *f = top(r);

	if (f == NULL)
		return;
	cml_free(f->group_id);
	r->n_frames--;
}

static cnode *
new_node(cml_reader *r, const xmlChar *name, unsigned long line)
{
	cnode *n = cml_arena_alloc(&r->arena, sizeof(*n));

	if (n == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->line = line;
	return n;
}

static void
add_child(cnode *parent, cnode *child)
{
	if (parent->last != NULL)
		parent->last->next = child;
	else
		parent->child = child;
	parent->last = child;
}

static cml_status
add_text(cml_reader *r, cnode *n, const char *s, size_t len)
{
	if (len == 0)
		return CML_OK;
	if (n->text_len + len > r->opts.max_item_bytes)
		return fail(r, CML_ERR_HOSTILE, n->line, "<%s>: text larger than %zu bytes",
		            (const char *)n->name, r->opts.max_item_bytes);
	char *t = cml_arena_alloc(&r->arena, n->text_len + len + 1);
	if (t == NULL)
		return nomem(r);
	if (n->text_len)
		memcpy(t, n->text, n->text_len);
	memcpy(t + n->text_len, s, len + 1);
	n->text = t;
	n->text_len += len;
	return CML_OK;
}

/* An element's text is complete at its end tag: trim it once there. */
static void
seal(cnode *n)
{
	if (n->text == NULL)
		return;
	n->text = cml_trim(n->text);
	if (*n->text == '\0')
		n->text = NULL;
}

/* Only whitespace: the indentation between elements, which every value
 * would lose to trimming anyway. */
static bool
blank(const char *s)
{
	for (; *s; s++)
		if (*s != '\n' && *s != '\r' && *s != '\t' && *s != ' ')
			return false;
	return true;
}

/* Reads the attributes of the element the reader is on into n. */
static cml_status
read_attrs(cml_reader *r, cnode *n)
{
	if (xmlTextReaderHasAttributes(r->xr) != 1)
		return CML_OK;
	cattr **tail = &n->attrs;
	while (xmlTextReaderMoveToNextAttribute(r->xr) == 1) {
		const xmlChar *an = xmlTextReaderConstLocalName(r->xr);
		const xmlChar *prefix = xmlTextReaderConstPrefix(r->xr);
		const xmlChar *av = xmlTextReaderConstValue(r->xr);

		if (an == NULL || av == NULL)
			continue;
		if (xmlTextReaderIsNamespaceDecl(r->xr) == 1)
			continue;
		if (prefix != NULL && strcmp((const char *)prefix, "xsi") == 0)
			continue;
		cattr *a = cml_arena_alloc(&r->arena, sizeof(*a));
		char *v = cml_arena_strdup(&r->arena, (const char *)av);
		if (a == NULL || v == NULL)
			return nomem(r);
		a->name = an;
		a->value = cml_trim(v);
		a->next = NULL;
		*tail = a;
		tail = &a->next;
	}
	xmlTextReaderMoveToElement(r->xr);
	return CML_OK;
}

/* Reads the next node; CML_END at the end of the document. */
static cml_status
advance(cml_reader *r)
{
	if (r->replay) {
		r->replay = false;
		return CML_OK;
	}
	int rc = xmlTextReaderRead(r->xr);
	if (rc == 1) {
		/* xmlTextReaderNodeType() on a text node tests it for blanks and
		 * walks its ancestors for xml:space: costly on every indent of
		 * a pretty-printed file. Text is text to us (trimmed later), so
		 * only other nodes ask it. */
		xmlNodePtr node = xmlTextReaderCurrentNode(r->xr);
		if (node != NULL && (node->type == XML_TEXT_NODE ||
		                     node->type == XML_CDATA_SECTION_NODE)) {
			r->type = XML_READER_TYPE_TEXT;
			return CML_OK;
		}
		r->type = xmlTextReaderNodeType(r->xr);
		if (r->type != XML_READER_TYPE_ELEMENT)
			return CML_OK;
		int depth = xmlTextReaderDepth(r->xr);
		if (depth >= 0 && (unsigned)depth > r->opts.max_depth)
			return fail(r, CML_ERR_HOSTILE, node_line(r),
			            "elements nested deeper than %u levels: refused",
			            r->opts.max_depth);
		return CML_OK;
	}
	if (r->io_err != CML_OK) {
		/* the read callback stopped the parser: its reason, not libxml2's */
		cml_msg_set(r->errmsg, sizeof(r->errmsg), "%s", r->io_msg);
		r->err = r->io_err;
		return r->err;
	}
	if (rc == 0)
		return CML_END;
	if (r->xml_err_set) {
		cml_msg_set(r->errmsg, sizeof(r->errmsg), "%s", r->xml_err);
		r->err = r->xml_err_status;
		return r->err;
	}
	return fail(r, CML_ERR_SYNTAX, cml_reader_line(r), "XML parse error");
}

/* The item being captured passed max_item_bytes: refused, with its Ид
 * when its <Ид> came before the point it broke the limit. */
static cml_status
item_too_big(cml_reader *r, const cnode *root)
{
	const char *id = NULL;

	for (const cnode *c = root->child; c != NULL && id == NULL; c = c->next)
		if (c->name == r->names[N_ID] && c->text != NULL)
			id = c->text; /* sealed, so trimmed */
	return fail(r, CML_ERR_HOSTILE, root->line,
	            "<%s>%s%s%s: the item takes more than %zu bytes of memory: refused "
	            "(the limit of one item, see cmlkit(7))",
	            (const char *)root->name, id ? " Ид \"" : "", id ? id : "", id ? "\"" : "",
	            r->opts.max_item_bytes);
}

/*
 * Captures the subtree of the element the reader is on (its start tag)
 * into a tree. On return the reader is on the element's end (or on the
 * empty element itself).
 */
static cml_status
capture(cml_reader *r, cnode **out)
{
	cnode *stack[256];
	size_t sp = 0;
	cml_status st;

	cnode *root = new_node(r, xmlTextReaderConstLocalName(r->xr), node_line(r));
	if (root == NULL)
		return nomem(r);
	if ((st = read_attrs(r, root)) != CML_OK)
		return st;
	*out = root;
	if (xmlTextReaderIsEmptyElement(r->xr) == 1)
		return CML_OK;
	stack[sp++] = root;

	for (;;) {
		/* what the item costs: its nodes, attributes and text in the
		 * arena, not only its text (800,000 empty property values
		 * are 300 MB of nodes) */
		if (r->arena.used > r->opts.max_item_bytes)
			return item_too_big(r, root);
		if ((st = advance(r)) != CML_OK)
			return st == CML_END ? fail(r, CML_ERR_SYNTAX, cml_reader_line(r),
			                            "unexpected end of document")
			                     : st;
		switch (r->type) {
		case XML_READER_TYPE_ELEMENT: {
			cnode *n = new_node(r, xmlTextReaderConstLocalName(r->xr), node_line(r));
			if (n == NULL)
				return nomem(r);
			if ((st = read_attrs(r, n)) != CML_OK)
				return st;
			add_child(stack[sp - 1], n);
			if (xmlTextReaderIsEmptyElement(r->xr) != 1) {
				if (sp == CML_ARRAY_LEN(stack))
					return fail(r, CML_ERR_HOSTILE, n->line,
					            "item nested too deep");
				stack[sp++] = n;
			}
			break;
		}
		case XML_READER_TYPE_END_ELEMENT:
			/* the stack holds the open elements of the item, the
			 * item's own first: its end is the end of the capture */
			seal(stack[sp - 1]);
			if (sp == 1)
				return CML_OK;
			sp--;
			break;
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE: {
			const xmlChar *v = xmlTextReaderConstValue(r->xr);
			if (v != NULL && !blank((const char *)v)) {
				size_t len = strlen((const char *)v);
				if (len > r->opts.max_item_bytes - r->arena.used)
					return item_too_big(r, root);
				if ((st = add_text(r, stack[sp - 1], (const char *)v, len)) != CML_OK)
					return st;
			}
			break;
		}
		case XML_READER_TYPE_ENTITY_REFERENCE:
			return fail(r, CML_ERR_HOSTILE, node_line(r),
			            "entity reference &%s; refused",
			            (const char *)xmlTextReaderConstName(r->xr));
		default:
			break;
		}
	}
}

/* ---- tree accessors ---- */

/*
 * The accessors mark what a mapping looks at (nodes are the reader's own,
 * const only to the mappings), so that what no mapping looked at can be
 * reported as unmodeled rather than silently dropped.
 */
static void
mark(const cnode *n)
{
	/* through uintptr_t: every node is the reader's own, writable memory */
	if (n != NULL)
		((cnode *)(uintptr_t)n)->used = true;
}

/* n and everything below it: read on purpose and dropped (a duplicate). */
static void
mark_tree(const cnode *n)
{
	for (const cnode *c = n != NULL ? n->child : NULL; c != NULL; c = c->next)
		mark_tree(c);
	mark(n);
}

static cnode *
child(const cml_reader *r, const cnode *n, enum name_id id)
{
	if (n == NULL)
		return NULL;
	for (cnode *c = n->child; c != NULL; c = c->next)
		if (c->name == r->names[id]) {
			c->used = true;
			return c;
		}
	return NULL;
}

/* Trimmed text of n (sealed at its end tag), NULL when absent or empty. */
static const char *
ntext(const cnode *n)
{
	mark(n);
	return n != NULL ? n->text : NULL;
}

static const char *
ctext(const cml_reader *r, const cnode *n, enum name_id id)
{
	return ntext(child(r, n, id));
}

static const char *
attr(const cml_reader *r, const cnode *n, enum name_id id)
{
	if (n == NULL)
		return NULL;
	mark(n);
	for (cattr *a = n->attrs; a != NULL; a = a->next)
		if (a->name == r->names[id])
			return *a->value ? a->value : NULL;
	return NULL;
}

static size_t
count_children(const cml_reader *r, const cnode *n, enum name_id id)
{
	size_t k = 0;

	if (n == NULL)
		return 0;
	for (cnode *c = n->child; c != NULL; c = c->next)
		if (c->name == r->names[id])
			k++;
	return k;
}

static void *
alloc_array(cml_reader *r, size_t n, size_t size)
{
	if (n == 0)
		return NULL;
	void *p = cml_arena_alloc(&r->arena, n * size);
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

/* A value out of its domain: CML_ERR_VALUE, and the node it is in, so
 * that item_ready() can name the element's path in the item. */
static cml_status
bad_value(cml_reader *r, const cnode *n, const char *fmt, ...) CML_PRINTF(3, 4);

static cml_status
bad_value(cml_reader *r, const cnode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(r->bad_what, sizeof(r->bad_what), fmt, ap);
	va_end(ap);
	r->bad_node = n;
	return fail(r, CML_ERR_VALUE, n->line, "<%s>: %s", (const char *)n->name, r->bad_what);
}

static cml_tristate
parse_bool(const char *s)
{
	if (s == NULL)
		return CML_UNSET;
	if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcmp(s, "Да") == 0 ||
	    strcmp(s, "да") == 0)
		return CML_TRUE;
	if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0 || strcmp(s, "Нет") == 0 ||
	    strcmp(s, "нет") == 0)
		return CML_FALSE;
	/* Bitrix reads any other non-zero integer as true */
	char *end;
	long v = strtol(s, &end, 10);
	if (*end == '\0')
		return v != 0 ? CML_TRUE : CML_FALSE;
	return CML_UNSET;
}

static cml_tristate
cbool(const cml_reader *r, const cnode *n, enum name_id id)
{
	return parse_bool(ctext(r, n, id));
}

/*
 * A number field: canonical decimal, or an error naming the element.
 * Absent or empty stays NULL.
 */
static cml_status
num(cml_reader *r, const cnode *n, const char **out)
{
	const char *t = ntext(n);
	char buf[160];

	*out = NULL;
	if (t == NULL)
		return CML_OK;
	if (!cml_num_canon(t, buf, sizeof(buf)))
		return bad_value(r, n, "'%s' is not a number", t);
	*out = cml_arena_strdup(&r->arena, buf);
	return *out != NULL ? CML_OK : nomem(r);
}

static cml_status
cnum(cml_reader *r, const cnode *n, enum name_id id, const char **out)
{
	return num(r, child(r, n, id), out);
}

static cml_item_status
parse_status(const char *s)
{
	if (s == NULL)
		return CML_STATUS_NONE;
	if (strcmp(s, "Удален") == 0 || strcmp(s, "Удалён") == 0)
		return CML_STATUS_DELETED;
	if (strcmp(s, "Новый") == 0)
		return CML_STATUS_NEW;
	if (strcmp(s, "Изменен") == 0 || strcmp(s, "Изменён") == 0)
		return CML_STATUS_CHANGED;
	return CML_STATUS_NONE;
}

/* (Наименование|Тип, Значение) pairs of the children named item_id. */
static cml_status
pairs(cml_reader *r, const cnode *list, enum name_id item_id, enum name_id key_id,
      cml_pair **out, size_t *n_out)
{
	size_t n = count_children(r, list, item_id), k = 0;

	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return CML_OK;
	cml_pair *p = alloc_array(r, n, sizeof(*p));
	if (p == NULL)
		return nomem(r);
	for (cnode *c = list->child; c != NULL; c = c->next) {
		if (c->name != r->names[item_id])
			continue;
		p[k].name = ctext(r, c, key_id);
		if (p[k].name == NULL && key_id == N_TYPE)
			p[k].name = ctext(r, c, N_NAME);
		p[k].value = ctext(r, c, N_VALUE);
		if (p[k].name == NULL && p[k].value == NULL)
			continue;
		k++;
	}
	*out = p;
	*n_out = k;
	return CML_OK;
}

static const char *
owner_name(const cml_reader *r, const cnode *owner)
{
	const char *s = ctext(r, owner, N_NAME);
	return s != NULL ? s : ctext(r, owner, N_OFFICIAL_NAME);
}

static cml_status
unit_ref(cml_reader *r, const cnode *n, cml_unit_ref *u)
{
	memset(u, 0, sizeof(*u));
	if (n == NULL)
		return CML_OK;
	u->code = attr(r, n, N_CODE);
	u->full_name = attr(r, n, N_UNIT_FULL_NAME);
	u->intl = attr(r, n, N_INTL);
	const char *t = ntext(n);
	if (child(r, n, N_CODE) != NULL || child(r, n, N_SHORT_NAME) != NULL) {
		/* element form: <Единица><Код/><НаименованиеКраткое/>... */
		if (u->code == NULL)
			u->code = ctext(r, n, N_CODE);
		if (u->full_name == NULL)
			u->full_name = ctext(r, n, N_UNIT_FULL_NAME);
		if (u->intl == NULL)
			u->intl = ctext(r, n, N_INTL);
		u->name = ctext(r, n, N_SHORT_NAME);
	} else if (r->v3 && u->code == NULL) {
		u->code = t; /* 3.1: a bare code referring to ЕдиницыИзмерения */
	} else {
		u->name = t;
	}
	/* <Пересчет><Единица/><Коэффициент/></Пересчет>*, as mixed content
	 * beside the text of a 2.0x БазоваяЕдиница or inside a Единица */
	size_t nc = count_children(r, n, N_CONVERSION), k = 0;
	if (nc == 0)
		return CML_OK;
	u->conversions = alloc_array(r, nc, sizeof(*u->conversions));
	if (u->conversions == NULL)
		return nomem(r);
	for (cnode *c = n->child; c != NULL; c = c->next) {
		if (c->name != r->names[N_CONVERSION])
			continue;
		cml_unit_conv *v = &u->conversions[k];
		v->unit = ctext(r, c, N_UNIT_ELEM);
		cml_status st = cnum(r, c, N_COEFFICIENT, &v->coefficient);
		if (st != CML_OK)
			return st;
		if (v->unit != NULL || v->coefficient != NULL)
			k++;
	}
	u->n_conversions = k;
	return CML_OK;
}

/* Комплектующие/Комплектующее (Ид, Наименование, Количество). */
static cml_status
components(cml_reader *r, const cnode *list, cml_component **out, size_t *n_out)
{
	size_t n = count_children(r, list, N_COMPONENT), k = 0;

	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return CML_OK;
	cml_component *p = alloc_array(r, n, sizeof(*p));
	if (p == NULL)
		return nomem(r);
	for (cnode *c = list->child; c != NULL; c = c->next) {
		if (c->name != r->names[N_COMPONENT])
			continue;
		p[k].id = ctext(r, c, N_ID);
		p[k].name = ctext(r, c, N_NAME);
		cml_status st = cnum(r, c, N_QUANTITY, &p[k].quantity);
		if (st != CML_OK)
			return st;
		if (p[k].id != NULL || p[k].name != NULL || p[k].quantity != NULL)
			k++;
	}
	*out = p;
	*n_out = k;
	return CML_OK;
}

/* ЗначенияСвойств: one entry per value. */
static cml_status
prop_values(cml_reader *r, const cnode *list, cml_prop_value **out, size_t *n_out)
{
	size_t n = 0, k = 0;

	*out = NULL;
	*n_out = 0;
	if (list == NULL)
		return CML_OK;
	for (cnode *c = list->child; c != NULL; c = c->next) {
		if (c->name != r->names[N_PROP_VALUES1] && c->name != r->names[N_PROP_VALUE1])
			continue;
		size_t v = count_children(r, c, N_VALUE);
		if (v == 0)
			for (cnode *d = c->child; d != NULL; d = d->next)
				if (d->name == r->names[N_PROP_VALUE1])
					v += count_children(r, d, N_VALUE);
		n += v ? v : 1;
	}
	if (n == 0)
		return CML_OK;
	cml_prop_value *p = alloc_array(r, n, sizeof(*p));
	if (p == NULL)
		return nomem(r);
	for (cnode *c = list->child; c != NULL; c = c->next) {
		if (c->name != r->names[N_PROP_VALUES1] && c->name != r->names[N_PROP_VALUE1])
			continue;
		const char *id = ctext(r, c, N_ID);
		size_t before = k;
		/* Bitrix writes each value twice, as <Значение> and again in a
		 * <ЗначениеСвойства> beside it: the nested form counts only
		 * when it is the only one. */
		bool direct = child(r, c, N_VALUE) != NULL;
		for (cnode *d = c->child; d != NULL; d = d->next) {
			if (d->name == r->names[N_VALUE]) {
				p[k].id = id;
				p[k].value = ntext(d);
				k++;
			} else if (d->name == r->names[N_PROP_VALUE1] && direct) {
				mark_tree(d); /* the same value again */
			} else if (d->name == r->names[N_PROP_VALUE1]) {
				for (cnode *e = d->child; e != NULL; e = e->next)
					if (e->name == r->names[N_VALUE]) {
						p[k].id = id;
						p[k].value = ntext(e);
						k++;
					}
			}
		}
		if (k == before) {
			p[k].id = id;
			p[k].value = NULL;
			k++;
		}
	}
	*out = p;
	*n_out = k;
	return CML_OK;
}

static cml_status
taxes(cml_reader *r, const cnode *list, enum name_id item_id, cml_tax **out, size_t *n_out)
{
	size_t n = count_children(r, list, item_id), k = 0;
	cml_status st;

	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return CML_OK;
	cml_tax *t = alloc_array(r, n, sizeof(*t));
	if (t == NULL)
		return nomem(r);
	for (cnode *c = list->child; c != NULL; c = c->next) {
		if (c->name != r->names[item_id])
			continue;
		t[k].name = ctext(r, c, N_NAME);
		t[k].rate = ctext(r, c, N_RATE);
		if ((st = cnum(r, c, N_SUM, &t[k].sum)) != CML_OK)
			return st;
		t[k].in_sum = cbool(r, c, N_IN_SUM);
		k++;
	}
	*out = t;
	*n_out = k;
	return CML_OK;
}

static cml_status
discounts(cml_reader *r, const cnode *list, cml_discount **out, size_t *n_out)
{
	size_t n = count_children(r, list, N_DISCOUNT), k = 0;
	cml_status st;

	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return CML_OK;
	cml_discount *d = alloc_array(r, n, sizeof(*d));
	if (d == NULL)
		return nomem(r);
	for (cnode *c = list->child; c != NULL; c = c->next) {
		if (c->name != r->names[N_DISCOUNT])
			continue;
		d[k].name = ctext(r, c, N_NAME);
		if ((st = cnum(r, c, N_SUM, &d[k].sum)) != CML_OK)
			return st;
		if ((st = cnum(r, c, N_PERCENT, &d[k].percent)) != CML_OK)
			return st;
		d[k].in_sum = cbool(r, c, N_IN_SUM);
		k++;
	}
	*out = d;
	*n_out = k;
	return CML_OK;
}

static cml_status
strings(cml_reader *r, const cnode *list, enum name_id item_id, const char ***out,
        size_t *n_out)
{
	size_t n = count_children(r, list, item_id), k = 0;

	*out = NULL;
	*n_out = 0;
	if (n == 0)
		return CML_OK;
	const char **s = alloc_array(r, n, sizeof(*s));
	if (s == NULL)
		return nomem(r);
	for (cnode *c = list->child; c != NULL; c = c->next) {
		if (c->name != r->names[item_id])
			continue;
		const char *t = ntext(c);
		if (t != NULL)
			s[k++] = t;
	}
	*out = s;
	*n_out = k;
	return CML_OK;
}

/* Статус in its attribute and element forms, and ПометкаУдаления. */
static void
deletion(const cml_reader *r, const cnode *n, cml_item_status *status, bool *deleted)
{
	cml_item_status s = parse_status(attr(r, n, N_STATUS));

	if (s == CML_STATUS_NONE)
		s = parse_status(ctext(r, n, N_STATUS));
	*status = s;
	*deleted = s == CML_STATUS_DELETED || cbool(r, n, N_DELETION_MARK) == CML_TRUE ||
	           parse_bool(attr(r, n, N_DELETION_MARK)) == CML_TRUE;
}

/* ---- items ---- */

static cml_status
map_address(cml_reader *r, const cnode *n, cml_address *a)
{
	memset(a, 0, sizeof(*a));
	if (n == NULL)
		return CML_OK;
	a->presentation = ctext(r, n, N_PRESENTATION);
	return pairs(r, n, N_ADDRESS_FIELD, N_TYPE, &a->fields, &a->n_fields);
}

/*
 * The Контакты/Контакт (Тип, Значение or Представление) of a counterparty
 * or a representative, plus the invented <Телефон>/<Email> forms beside
 * them (typed "Телефон" and "Почта").
 */
static cml_status
map_contacts(cml_reader *r, const cnode *n, cml_pair **out, size_t *n_out)
{
	const cnode *contacts = child(r, n, N_CONTACTS);
	size_t nc = count_children(r, contacts, N_CONTACT) + count_children(r, n, N_PHONE) +
	            count_children(r, n, N_EMAIL);
	cml_pair *c;
	size_t k = 0;

	*out = NULL;
	*n_out = 0;
	if (nc == 0)
		return CML_OK;
	c = alloc_array(r, nc, sizeof(*c));
	if (c == NULL)
		return nomem(r);
	if (contacts != NULL)
		for (cnode *d = contacts->child; d != NULL; d = d->next) {
			if (d->name != r->names[N_CONTACT])
				continue;
			c[k].name = ctext(r, d, N_TYPE);
			c[k].value = ctext(r, d, N_VALUE);
			if (c[k].value == NULL)
				c[k].value = ctext(r, d, N_PRESENTATION);
			if (c[k].name || c[k].value)
				k++;
		}
	for (cnode *d = n->child; d != NULL; d = d->next) {
		const char *type;
		if (d->name == r->names[N_PHONE])
			type = "Телефон";
		else if (d->name == r->names[N_EMAIL])
			type = "Почта";
		else
			continue;
		const char *v = ctext(r, d, N_PRESENTATION);
		if (v == NULL)
			v = ntext(d);
		if (v == NULL)
			continue;
		c[k].name = type;
		c[k].value = v;
		k++;
	}
	*out = c;
	*n_out = k;
	return CML_OK;
}

static cml_status
map_counterparty(cml_reader *r, const cnode *n, cml_counterparty *c)
{
	cml_status st;

	memset(c, 0, sizeof(*c));
	c->id = ctext(r, n, N_ID);
	c->version = ctext(r, n, N_VERSION_NO);
	c->deleted = cbool(r, n, N_DELETION_MARK) == CML_TRUE;
	c->name = ctext(r, n, N_NAME);
	c->official_name = ctext(r, n, N_OFFICIAL_NAME);
	c->full_name = ctext(r, n, N_FULL_NAME);
	c->last_name = ctext(r, n, N_LAST_NAME);
	c->first_name = ctext(r, n, N_FIRST_NAME);
	c->middle_name = ctext(r, n, N_MIDDLE_NAME);
	c->role = ctext(r, n, N_ROLE);
	c->inn = ctext(r, n, N_INN);
	c->kpp = ctext(r, n, N_KPP);
	c->okpo = ctext(r, n, N_OKPO);
	if (c->okpo == NULL)
		c->okpo = ctext(r, n, N_OKPO2);
	/* a lone Адрес is the registration address; beside an
	 * АдресРегистрации (Bitrix writes both) it is an address of its own */
	const cnode *reg = child(r, n, N_REG_ADDRESS), *other = child(r, n, N_ADDRESS);
	if (reg == NULL) {
		reg = other;
		other = NULL;
	}
	if ((st = map_address(r, reg, &c->reg_address)) != CML_OK)
		return st;
	if ((st = map_address(r, other, &c->address)) != CML_OK)
		return st;
	if ((st = map_address(r, child(r, n, N_LEGAL_ADDRESS), &c->legal_address)) != CML_OK)
		return st;

	if ((st = map_contacts(r, n, &c->contacts, &c->n_contacts)) != CML_OK)
		return st;

	const cnode *reps = child(r, n, N_REPRESENTATIVES);
	size_t nr = count_children(r, reps, N_REPRESENTATIVE);
	if (nr > 0) {
		size_t k = 0;
		c->representatives = alloc_array(r, nr, sizeof(*c->representatives));
		if (c->representatives == NULL)
			return nomem(r);
		for (cnode *d = reps->child; d != NULL; d = d->next) {
			if (d->name != r->names[N_REPRESENTATIVE])
				continue;
			/* Bitrix nests a Контрагент; 1C puts the fields directly */
			const cnode *src = child(r, d, N_COUNTERPARTY);
			if (src == NULL)
				src = d;
			cml_representative *p = &c->representatives[k];
			p->relation = ctext(r, src, N_RELATION);
			p->id = ctext(r, src, N_ID);
			p->name = ctext(r, src, N_NAME);
			/* its own Контакты beside the fields, wherever they are;
			 * the Представитель's own when the nested one has none */
			if ((st = map_contacts(r, src, &p->contacts, &p->n_contacts)) != CML_OK)
				return st;
			if (p->n_contacts == 0 && src != d &&
			    (st = map_contacts(r, d, &p->contacts, &p->n_contacts)) != CML_OK)
				return st;
			if (p->relation || p->id || p->name || p->n_contacts > 0)
				k++;
		}
		c->n_representatives = k;
	}

	const cnode *accs = child(r, n, N_ACCOUNTS);
	size_t na = count_children(r, accs, N_ACCOUNT);
	if (na > 0) {
		size_t k = 0;
		c->accounts = alloc_array(r, na, sizeof(*c->accounts));
		if (c->accounts == NULL)
			return nomem(r);
		for (cnode *d = accs->child; d != NULL; d = d->next) {
			if (d->name != r->names[N_ACCOUNT])
				continue;
			cml_bank_account *b = &c->accounts[k++];
			const cnode *bank = child(r, d, N_BANK);
			b->number = ctext(r, d, N_ACCOUNT_NO);
			b->bank_name = ctext(r, bank, N_NAME);
			b->bank_bik = ctext(r, bank, N_BIK);
			b->bank_corr_account = ctext(r, bank, N_CORR_ACCOUNT);
			b->bank_address = ctext(r, child(r, bank, N_ADDRESS), N_PRESENTATION);
		}
		c->n_accounts = k;
	}
	return CML_OK;
}

static cml_status
map_group(cml_reader *r, const cnode *n, const char *parent, unsigned depth, cml_group *g)
{
	cml_item_status s;

	memset(g, 0, sizeof(*g));
	g->id = ctext(r, n, N_ID);
	g->parent_id = parent;
	g->name = ctext(r, n, N_NAME);
	g->description = ctext(r, n, N_DESCRIPTION);
	g->version = ctext(r, n, N_VERSION_NO);
	deletion(r, n, &s, &g->deleted);
	g->depth = depth;
	return CML_OK;
}

static cml_status
map_property(cml_reader *r, const cnode *n, cml_property *p)
{
	cml_item_status s;

	memset(p, 0, sizeof(*p));
	p->id = ctext(r, n, N_ID);
	p->name = ctext(r, n, N_NAME);
	p->value_type = ctext(r, n, N_VALUE_TYPE);
	p->type = ctext(r, n, N_TYPE); /* beside ТипЗначений, kept as given */
	p->version = ctext(r, n, N_VERSION_NO);
	deletion(r, n, &s, &p->deleted);
	p->required = cbool(r, n, N_REQUIRED);
	p->multiple = cbool(r, n, N_MULTIPLE);
	p->for_products = cbool(r, n, N_FOR_PRODUCTS);
	p->for_offers = cbool(r, n, N_FOR_OFFERS);
	p->for_documents = cbool(r, n, N_FOR_DOCUMENTS);

	const cnode *vars = child(r, n, N_VARIANTS);
	size_t nv = count_children(r, vars, N_DIRECTORY) + count_children(r, vars, N_VALUE);
	if (nv == 0)
		return CML_OK;
	size_t k = 0;
	p->variants = alloc_array(r, nv, sizeof(*p->variants));
	if (p->variants == NULL)
		return nomem(r);
	for (cnode *c = vars->child; c != NULL; c = c->next) {
		if (c->name == r->names[N_DIRECTORY]) {
			p->variants[k].id = ctext(r, c, N_VALUE_ID);
			p->variants[k].value = ctext(r, c, N_VALUE);
		} else if (c->name == r->names[N_VALUE]) {
			p->variants[k].id = NULL; /* a bare <Значение> list (Bitrix) */
			p->variants[k].value = ntext(c);
		} else {
			continue;
		}
		if (p->variants[k].id || p->variants[k].value)
			k++;
	}
	p->n_variants = k;
	return CML_OK;
}

static cml_status
map_price_type(cml_reader *r, const cnode *n, cml_price_type *p)
{
	memset(p, 0, sizeof(*p));
	p->id = ctext(r, n, N_ID);
	p->name = ctext(r, n, N_NAME);
	p->currency = ctext(r, n, N_CURRENCY);
	const cnode *tax = child(r, n, N_TAX);
	p->tax_name = ctext(r, tax, N_NAME);
	p->tax_in_sum = cbool(r, tax, N_IN_SUM);
	p->tax_excise = ctext(r, tax, N_EXCISE);
	return CML_OK;
}

static cml_status
map_warehouse(cml_reader *r, const cnode *n, cml_warehouse *w)
{
	memset(w, 0, sizeof(*w));
	w->id = ctext(r, n, N_ID);
	w->name = ctext(r, n, N_NAME);
	w->address = ctext(r, child(r, n, N_ADDRESS), N_PRESENTATION);
	w->comment = ctext(r, n, N_COMMENT);
	return pairs(r, child(r, n, N_CONTACTS), N_CONTACT, N_TYPE, &w->contacts,
	             &w->n_contacts);
}

static cml_status
map_unit(cml_reader *r, const cnode *n, cml_unit *u)
{
	memset(u, 0, sizeof(*u));
	u->id = ctext(r, n, N_ID);
	u->code = ctext(r, n, N_CODE);
	u->short_name = ctext(r, n, N_SHORT_NAME);
	u->full_name = ctext(r, n, N_UNIT_FULL_NAME);
	u->intl = ctext(r, n, N_INTL);
	return CML_OK;
}

static cml_status
map_product(cml_reader *r, const cnode *n, cml_product *p)
{
	cml_status st;

	memset(p, 0, sizeof(*p));
	p->id = ctext(r, n, N_ID);
	p->article = ctext(r, n, N_ARTICLE);
	p->barcode = ctext(r, n, N_BARCODE);
	if (p->barcode == NULL)
		p->barcode = ctext(r, n, N_BARCODE2);
	p->name = ctext(r, n, N_NAME);
	p->full_name = ctext(r, n, N_FULL_NAME);
	p->description = ctext(r, n, N_DESCRIPTION);
	p->version = ctext(r, n, N_VERSION_NO);
	if ((st = unit_ref(r, child(r, n, N_BASE_UNIT), &p->unit)) != CML_OK)
		return st;
	if ((st = strings(r, child(r, n, N_GROUPS), N_ID, &p->groups, &p->n_groups)) != CML_OK)
		return st;
	if ((st = strings(r, n, N_PICTURE, &p->pictures, &p->n_pictures)) != CML_OK)
		return st;
	const cnode *mf = child(r, n, N_MANUFACTURER);
	p->manufacturer_id = ctext(r, mf, N_ID);
	p->manufacturer_name = ctext(r, mf, N_NAME);
	p->country = ctext(r, n, N_COUNTRY);
	p->category = ctext(r, n, N_CATEGORY);
	if ((st = cnum(r, n, N_WEIGHT, &p->weight)) != CML_OK)
		return st;
	p->geotag = ctext(r, n, N_GEOTAG);
	if ((st = components(r, child(r, n, N_COMPONENTS), &p->components, &p->n_components)) !=
	    CML_OK)
		return st;
	if ((st = prop_values(r, child(r, n, N_PROP_VALUES), &p->props, &p->n_props)) != CML_OK)
		return st;
	if ((st = taxes(r, child(r, n, N_TAX_RATES), N_TAX_RATE, &p->taxes, &p->n_taxes)) !=
	    CML_OK)
		return st;
	if ((st = pairs(r, child(r, n, N_REQUISITES), N_REQUISITE, N_NAME, &p->requisites,
	                &p->n_requisites)) != CML_OK)
		return st;
	if ((st = pairs(r, child(r, n, N_CHARACTERISTICS), N_CHARACTERISTIC, N_NAME,
	                &p->characteristics, &p->n_characteristics)) != CML_OK)
		return st;
	deletion(r, n, &p->status, &p->deleted);
	return CML_OK;
}

static cml_status
add_stock(cml_reader *r, cml_offer *o, size_t cap, const char *wh, const cnode *qn,
          const char *qtext)
{
	char buf[160];

	if (o->n_stocks >= cap)
		return CML_OK;
	cml_stock *s = &o->stocks[o->n_stocks];
	s->warehouse_id = wh;
	if (qn != NULL) {
		cml_status st = num(r, qn, &s->quantity);
		if (st != CML_OK)
			return st;
	} else if (qtext != NULL) {
		if (!cml_num_canon(qtext, buf, sizeof(buf)))
			return fail(r, CML_ERR_VALUE, 0, "<Склад КоличествоНаСкладе>: '%s' is not a number",
			            qtext);
		s->quantity = cml_arena_strdup(&r->arena, buf);
		if (s->quantity == NULL)
			return nomem(r);
	}
	if (s->warehouse_id == NULL && s->quantity == NULL)
		return CML_OK;
	o->n_stocks++;
	return CML_OK;
}

static cml_status
map_offer(cml_reader *r, const cnode *n, cml_offer *o)
{
	cml_status st;

	memset(o, 0, sizeof(*o));
	o->id = ctext(r, n, N_ID);
	if (o->id != NULL) {
		const char *hash = strchr(o->id, '#');
		if (hash != NULL) {
			o->product_id = cml_arena_strndup(&r->arena, o->id, (size_t)(hash - o->id));
			if (o->product_id == NULL)
				return nomem(r);
			o->char_id = hash[1] ? hash + 1 : NULL;
			if (*o->product_id == '\0')
				o->product_id = NULL;
		} else {
			o->product_id = o->id;
		}
	}
	o->article = ctext(r, n, N_ARTICLE);
	o->barcode = ctext(r, n, N_BARCODE);
	if (o->barcode == NULL)
		o->barcode = ctext(r, n, N_BARCODE2);
	o->name = ctext(r, n, N_NAME);
	o->version = ctext(r, n, N_VERSION_NO);
	o->geotag = ctext(r, n, N_GEOTAG);
	if ((st = unit_ref(r, child(r, n, N_BASE_UNIT), &o->unit)) != CML_OK)
		return st;
	if ((st = pairs(r, child(r, n, N_CHARACTERISTICS), N_CHARACTERISTIC, N_NAME,
	                &o->characteristics, &o->n_characteristics)) != CML_OK)
		return st;
	if ((st = prop_values(r, child(r, n, N_PROP_VALUES), &o->props, &o->n_props)) != CML_OK)
		return st;

	const cnode *prices = child(r, n, N_PRICES);
	o->has_prices = prices != NULL;
	size_t np = count_children(r, prices, N_PRICE);
	if (np > 0) {
		o->prices = alloc_array(r, np, sizeof(*o->prices));
		if (o->prices == NULL)
			return nomem(r);
		for (cnode *c = prices->child; c != NULL; c = c->next) {
			if (c->name != r->names[N_PRICE])
				continue;
			cml_price *p = &o->prices[o->n_prices++];
			p->type_id = ctext(r, c, N_PRICE_TYPE_ID);
			p->presentation = ctext(r, c, N_PRESENTATION);
			if ((st = cnum(r, c, N_PRICE_PER_UNIT, &p->value)) != CML_OK)
				return st;
			p->currency = ctext(r, c, N_CURRENCY);
			const cnode *u = child(r, c, N_UNIT_ELEM);
			p->unit = ntext(u);
			if (p->unit == NULL && u != NULL)
				p->unit = ctext(r, u, N_SHORT_NAME);
			if (p->unit == NULL)
				p->unit = attr(r, u, N_CODE);
			if ((st = cnum(r, c, N_COEFFICIENT, &p->coefficient)) != CML_OK)
				return st;
			const cnode *tax = child(r, c, N_TAX); /* 3.1 */
			p->tax_name = ctext(r, tax, N_NAME);
			p->tax_in_sum = cbool(r, tax, N_IN_SUM);
		}
	}
	if ((st = components(r, child(r, n, N_COMPONENTS), &o->components, &o->n_components)) !=
	    CML_OK)
		return st;

	if ((st = cnum(r, n, N_QUANTITY, &o->quantity)) != CML_OK)
		return st;

	/* stock: <Склад ИдСклада КоличествоНаСкладе/>* and Остатки/Остаток */
	const cnode *rests = child(r, n, N_RESTS);
	size_t ns = count_children(r, n, N_WAREHOUSE);
	for (cnode *c = rests ? rests->child : NULL; c != NULL; c = c->next)
		if (c->name == r->names[N_REST])
			ns += 1 + count_children(r, c, N_WAREHOUSE);
	o->has_stocks = rests != NULL || count_children(r, n, N_WAREHOUSE) > 0;
	if (ns > 0) {
		o->stocks = alloc_array(r, ns, sizeof(*o->stocks));
		if (o->stocks == NULL)
			return nomem(r);
	}
	for (cnode *c = n->child; c != NULL; c = c->next) {
		if (c->name != r->names[N_WAREHOUSE])
			continue;
		const char *wh = attr(r, c, N_WAREHOUSE_ID);
		if (wh == NULL)
			wh = ctext(r, c, N_ID);
		if (attr(r, c, N_QTY_IN_WAREHOUSE) != NULL)
			st = add_stock(r, o, ns, wh, NULL, attr(r, c, N_QTY_IN_WAREHOUSE));
		else
			st = add_stock(r, o, ns, wh, child(r, c, N_QUANTITY), NULL);
		if (st != CML_OK)
			return st;
	}
	for (cnode *c = rests ? rests->child : NULL; c != NULL; c = c->next) {
		if (c->name != r->names[N_REST])
			continue;
		bool any = false;
		for (cnode *w = c->child; w != NULL; w = w->next) {
			if (w->name != r->names[N_WAREHOUSE])
				continue;
			any = true;
			if ((st = add_stock(r, o, ns, ctext(r, w, N_ID), child(r, w, N_QUANTITY),
			                    NULL)) != CML_OK)
				return st;
		}
		/* <Остаток><Количество> without a warehouse: the total */
		if (!any && o->quantity == NULL)
			if ((st = cnum(r, c, N_QUANTITY, &o->quantity)) != CML_OK)
				return st;
	}
	deletion(r, n, &o->status, &o->deleted);
	return CML_OK;
}

static cml_status
map_doc_line(cml_reader *r, const cnode *n, cml_doc_line *l)
{
	cml_status st;

	memset(l, 0, sizeof(*l));
	l->id = ctext(r, n, N_ID);
	l->catalog_id = ctext(r, n, N_CATALOG_ID);
	l->article = ctext(r, n, N_ARTICLE);
	l->name = ctext(r, n, N_NAME);
	const cnode *u = child(r, n, N_BASE_UNIT), *sold = child(r, n, N_UNIT_ELEM);
	if (u == NULL) {
		u = sold;
		sold = NULL;
	}
	if ((st = unit_ref(r, u, &l->unit)) != CML_OK)
		return st;
	if ((st = unit_ref(r, sold, &l->line_unit)) != CML_OK)
		return st;
	const cnode *price = child(r, n, N_PRICE_PER_UNIT);
	if (price == NULL)
		price = child(r, n, N_PRICE_ALT);
	if ((st = num(r, price, &l->price)) != CML_OK)
		return st;
	if ((st = cnum(r, n, N_QUANTITY, &l->quantity)) != CML_OK)
		return st;
	if ((st = cnum(r, n, N_SUM, &l->sum)) != CML_OK)
		return st;
	if ((st = cnum(r, n, N_COEFFICIENT, &l->coefficient)) != CML_OK)
		return st;
	if ((st = pairs(r, child(r, n, N_CHARACTERISTICS), N_CHARACTERISTIC, N_NAME,
	                &l->characteristics, &l->n_characteristics)) != CML_OK)
		return st;
	if ((st = pairs(r, child(r, n, N_REQUISITES), N_REQUISITE, N_NAME, &l->requisites,
	                &l->n_requisites)) != CML_OK)
		return st;

	/* Налоги/Налог (the tax charged) and СтавкиНалогов/СтавкаНалога (the
	 * rates) stay apart: one list would hold НДС twice */
	if ((st = taxes(r, child(r, n, N_TAXES), N_TAX, &l->taxes, &l->n_taxes)) != CML_OK)
		return st;
	if ((st = taxes(r, child(r, n, N_TAX_RATES), N_TAX_RATE, &l->tax_rates,
	                &l->n_tax_rates)) != CML_OK)
		return st;
	if ((st = strings(r, child(r, n, N_GROUPS), N_ID, &l->groups, &l->n_groups)) != CML_OK)
		return st;
	return discounts(r, child(r, n, N_DISCOUNTS), &l->discounts, &l->n_discounts);
}

/* Склады/Склад (Ид, Наименование), and the lone <Склад>name</Склад>
 * some 3.1 documents carry. */
static cml_status
doc_warehouses(cml_reader *r, const cnode *n, cml_document *d)
{
	const cnode *list = child(r, n, N_WAREHOUSES);
	size_t nw = count_children(r, list, N_WAREHOUSE) + count_children(r, n, N_WAREHOUSE);

	if (nw == 0)
		return CML_OK;
	d->warehouses = alloc_array(r, nw, sizeof(*d->warehouses));
	if (d->warehouses == NULL)
		return nomem(r);
	for (int pass = 0; pass < 2; pass++) {
		const cnode *parent = pass == 0 ? list : n;

		for (cnode *c = parent != NULL ? parent->child : NULL; c != NULL; c = c->next) {
			if (c->name != r->names[N_WAREHOUSE])
				continue;
			cml_doc_warehouse *w = &d->warehouses[d->n_warehouses];
			if (c->child != NULL) {
				w->id = ctext(r, c, N_ID);
				w->name = ctext(r, c, N_NAME);
			} else {
				w->name = ntext(c);
			}
			if (w->id != NULL || w->name != NULL)
				d->n_warehouses++;
		}
	}
	return CML_OK;
}

static cml_status
map_document(cml_reader *r, const cnode *n, cml_document *d)
{
	cml_status st;

	memset(d, 0, sizeof(*d));
	d->id = ctext(r, n, N_ID);
	d->number = ctext(r, n, N_NUMBER);
	d->date = ctext(r, n, N_DATE);
	d->time = ctext(r, n, N_TIME);
	d->operation = ctext(r, n, N_OPERATION);
	d->role = ctext(r, n, N_ROLE);
	d->currency = ctext(r, n, N_CURRENCY);
	if ((st = cnum(r, n, N_EXCH_RATE, &d->rate)) != CML_OK)
		return st;
	if ((st = cnum(r, n, N_SUM, &d->sum)) != CML_OK)
		return st;
	d->comment = ctext(r, n, N_COMMENT);
	d->version = ctext(r, n, N_VERSION_NO);
	d->number_1c = ctext(r, n, N_NUMBER_1C);
	d->date_1c = ctext(r, n, N_DATE_1C);
	d->due_date = ctext(r, n, N_DUE_DATE);
	d->basis = ctext(r, n, N_BASIS);
	d->deleted = cbool(r, n, N_DELETION_MARK) == CML_TRUE;
	d->container = r->in_container;

	const cnode *cps = child(r, n, N_COUNTERPARTIES);
	size_t nc = count_children(r, cps, N_COUNTERPARTY);
	if (nc > 0) {
		d->counterparties = alloc_array(r, nc, sizeof(*d->counterparties));
		if (d->counterparties == NULL)
			return nomem(r);
		for (cnode *c = cps->child; c != NULL; c = c->next) {
			if (c->name != r->names[N_COUNTERPARTY])
				continue;
			if ((st = map_counterparty(r, c, &d->counterparties[d->n_counterparties++])) !=
			    CML_OK)
				return st;
		}
	}
	const cnode *lines = child(r, n, N_PRODUCTS);
	size_t nl = count_children(r, lines, N_PRODUCT);
	if (nl > 0) {
		d->lines = alloc_array(r, nl, sizeof(*d->lines));
		if (d->lines == NULL)
			return nomem(r);
		for (cnode *c = lines->child; c != NULL; c = c->next) {
			if (c->name != r->names[N_PRODUCT])
				continue;
			if ((st = map_doc_line(r, c, &d->lines[d->n_lines++])) != CML_OK)
				return st;
		}
	}
	if ((st = taxes(r, child(r, n, N_TAXES), N_TAX, &d->taxes, &d->n_taxes)) != CML_OK)
		return st;
	if ((st = discounts(r, child(r, n, N_DISCOUNTS), &d->discounts, &d->n_discounts)) !=
	    CML_OK)
		return st;
	if ((st = pairs(r, child(r, n, N_REQUISITES), N_REQUISITE, N_NAME, &d->requisites,
	                &d->n_requisites)) != CML_OK)
		return st;

	const cnode *pays = child(r, n, N_PAYMENTS);
	size_t np = count_children(r, pays, N_PAYMENT);
	if (np > 0) {
		d->payments = alloc_array(r, np, sizeof(*d->payments));
		if (d->payments == NULL)
			return nomem(r);
		for (cnode *c = pays->child; c != NULL; c = c->next) {
			if (c->name != r->names[N_PAYMENT])
				continue;
			cml_payment *p = &d->payments[d->n_payments++];
			p->number = ctext(r, c, N_DOC_NUMBER);
			p->transaction = ctext(r, c, N_TRANSACTION);
			p->date = ctext(r, c, N_PAY_DATE);
			if ((st = cnum(r, c, N_PAY_SUM, &p->sum)) != CML_OK)
				return st;
			p->method = ctext(r, c, N_PAY_METHOD);
			p->method_id = ctext(r, c, N_PAY_METHOD_ID);
		}
	}
	return doc_warehouses(r, n, d);
}

/* ---- headers ---- */

static cml_tristate
only_changes(const cml_reader *r, const cnode *n)
{
	cml_tristate t = parse_bool(attr(r, n, N_ONLY_CHANGES));

	if (t == CML_UNSET)
		t = cbool(r, n, N_ONLY_CHANGES); /* 2.03 element form */
	return t;
}

static cml_status
emit_header(cml_reader *r, frame *f)
{
	const cnode *h = f->header;
	const cnode *owner = child(r, h, N_OWNER);

	f->emitted = true;
	memset(&r->item, 0, sizeof(r->item));
	r->item.origin.file = in_name(r);
	r->item.origin.line = h->line;
	switch (f->role) {
	case R_CLASSIFIER: {
		cml_classifier *c = &r->item.u.classifier;
		r->item.kind = CML_ITEM_CLASSIFIER;
		c->id = ctext(r, h, N_ID);
		c->name = ctext(r, h, N_NAME);
		c->owner_id = ctext(r, owner, N_ID);
		c->owner_name = owner_name(r, owner);
		c->only_changes = only_changes(r, h);
		break;
	}
	case R_CATALOG: {
		cml_catalog *c = &r->item.u.catalog;
		r->item.kind = CML_ITEM_CATALOG;
		c->id = ctext(r, h, N_ID);
		c->classifier_id = ctext(r, h, N_CLASSIFIER_ID);
		c->name = ctext(r, h, N_NAME);
		c->description = ctext(r, h, N_DESCRIPTION);
		c->owner_id = ctext(r, owner, N_ID);
		c->owner_name = owner_name(r, owner);
		c->only_changes = only_changes(r, h);
		break;
	}
	case R_PACKAGE: {
		cml_offers_package *p = &r->item.u.package;
		r->item.kind = CML_ITEM_OFFERS_PACKAGE;
		p->id = ctext(r, h, N_ID);
		p->name = ctext(r, h, N_NAME);
		p->catalog_id = ctext(r, h, N_CATALOG_ID);
		p->classifier_id = ctext(r, h, N_CLASSIFIER_ID);
		p->owner_id = ctext(r, owner, N_ID);
		p->owner_name = owner_name(r, owner);
		p->only_changes = only_changes(r, h);
		if (h->name == r->names[N_PACKAGE_CHANGES])
			p->only_changes = CML_TRUE;
		break;
	}
	default:
		return fail(r, CML_ERR_USAGE, 0, "internal: header of a non-container");
	}
	return CML_OK;
}

static cml_status
emit_group(cml_reader *r, frame *f)
{
	unsigned depth = 0;
	const char *parent = NULL;

	f->emitted = true;
	/* The parent is the nearest enclosing group frame. */
	for (size_t i = r->n_frames - 1; i-- > 0;) {
		if (r->frames[i].role == R_GROUP) {
			if (parent == NULL)
				parent = r->frames[i].group_id;
			depth++;
		}
	}
	memset(&r->item, 0, sizeof(r->item));
	r->item.kind = CML_ITEM_GROUP;
	r->item.origin.file = in_name(r);
	r->item.origin.line = f->header->line;
	cml_status st = map_group(r, f->header, parent, depth, &r->item.u.group);
	if (st != CML_OK)
		return st;
	const char *id = r->item.u.group.id;
	if (id == NULL)
		warn(r, f->header->line, "<Группа> without <Ид>");
	f->group_id = cml_strdup(id != NULL ? id : "");
	return f->group_id != NULL ? CML_OK : nomem(r);
}

/* Normalises ДатаФормирования: zero-pads the hour; keeps it otherwise. */
static const char *
norm_datetime(cml_reader *r, const char *s)
{
	int y, mo, d, h, mi, sec, n = 0;
	char buf[64];

	if (s == NULL)
		return NULL;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10) {
		const char *rest = s + 10;
		int m = 0;
		if (*rest == '\0')
			return s; /* date only */
		if ((*rest == 'T' || *rest == ' ') &&
		    sscanf(rest + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) == 3) {
			cml_msg_set(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d%s", y, mo, d,
			            h, mi, sec, rest + 1 + m);
			return cml_arena_strdup(&r->arena, buf);
		}
	}
	warn(r, 0, "ДатаФормирования '%s' is not a date and time", s);
	return s;
}

static cml_status
emit_file(cml_reader *r, const cnode *root)
{
	cml_file_info *fi = &r->item.u.file;

	memset(&r->item, 0, sizeof(r->item));
	r->item.kind = CML_ITEM_FILE;
	r->item.origin.file = in_name(r);
	r->item.origin.line = root->line;
	fi->schema_version = attr(r, root, N_SCHEMA_VERSION);
	fi->generated = norm_datetime(r, attr(r, root, N_GENERATED));
	fi->declared_encoding = r->declared_enc[0] ? r->declared_enc : NULL;
	fi->encoding = r->real_enc;
	fi->bom = r->bom;
	fi->root_id = attr(r, root, N_ID);
	const xmlChar *ns = xmlTextReaderConstNamespaceUri(r->xr);
	if (ns != NULL && *ns) {
		fi->namespace_uri = cml_arena_strdup(&r->arena, (const char *)ns);
		if (fi->namespace_uri == NULL)
			return nomem(r);
	}
	if (fi->schema_version != NULL) {
		r->schema_version = cml_strdup(fi->schema_version);
		if (r->schema_version == NULL)
			return nomem(r);
		r->v3 = fi->schema_version[0] == '3';
	}
	return CML_OK;
}

/* ---- the walk ---- */

static bool
is_list(const cml_reader *r, const xmlChar *name, cml_kind *kind, const xmlChar **item_name)
{
	static const struct {
		enum name_id list, item;
		cml_kind kind;
	} lists[] = {
		{ N_PROPERTIES, N_PROPERTY, CML_ITEM_PROPERTY },
		{ N_PRICE_TYPES, N_PRICE_TYPE, CML_ITEM_PRICE_TYPE },
		{ N_WAREHOUSES, N_WAREHOUSE, CML_ITEM_WAREHOUSE },
		{ N_UNITS, N_UNIT, CML_ITEM_UNIT },
		{ N_PRODUCTS, N_PRODUCT, CML_ITEM_PRODUCT },
		{ N_OFFERS, N_OFFER, CML_ITEM_OFFER },
	};
	for (size_t i = 0; i < CML_ARRAY_LEN(lists); i++)
		if (name == r->names[lists[i].list]) {
			*kind = lists[i].kind;
			*item_name = r->names[lists[i].item];
			return true;
		}
	return false;
}

static cml_status map_fields(cml_reader *r, cml_kind kind, const cnode *n);
static void report_unmodeled(cml_reader *r, const cnode *n, char *path, size_t len,
                             size_t cap);

/*
 * Appends "/name" (just "name" at len 0) to path[0..len): the new length,
 * or 0 when it does not fit. No printf: this runs for every element of
 * every item, and formatting was a measurable part of reading.
 */
static size_t
path_push(char *path, size_t len, size_t cap, const xmlChar *name)
{
	size_t k = strlen((const char *)name), sep = len > 0;

	if (len + sep + k + 1 > cap)
		return 0;
	if (sep)
		path[len] = '/';
	memcpy(path + len + sep, name, k + 1);
	return len + sep + k;
}

/* Maps a captured item tree by kind into r->item. */
static cml_status
map_item(cml_reader *r, cml_kind kind, const cnode *n)
{
	memset(&r->item, 0, sizeof(r->item));
	r->item.kind = kind;
	r->item.origin.file = in_name(r);
	r->item.origin.line = n->line;
	cml_status st = map_fields(r, kind, n);
	if (st == CML_OK && r->opts.unmodeled != NULL) {
		char path[1024];
		size_t len = path_push(path, 0, sizeof(path), n->name);
		if (len > 0)
			report_unmodeled(r, n, path, len, sizeof(path));
	}
	return st;
}

static cml_status
map_fields(cml_reader *r, cml_kind kind, const cnode *n)
{
	switch (kind) {
	case CML_ITEM_PROPERTY: return map_property(r, n, &r->item.u.property);
	case CML_ITEM_PRICE_TYPE: return map_price_type(r, n, &r->item.u.price_type);
	case CML_ITEM_WAREHOUSE: return map_warehouse(r, n, &r->item.u.warehouse);
	case CML_ITEM_UNIT: return map_unit(r, n, &r->item.u.unit);
	case CML_ITEM_PRODUCT: return map_product(r, n, &r->item.u.product);
	case CML_ITEM_OFFER: return map_offer(r, n, &r->item.u.offer);
	case CML_ITEM_DOCUMENT: return map_document(r, n, &r->item.u.document);
	case CML_ITEM_COUNTERPARTY: {
		cml_status st = map_counterparty(r, n, &r->item.u.counterparty);
		r->item.u.counterparty.only_changes = r->cp_only_changes;
		return st;
	}
	default:
		return fail(r, CML_ERR_USAGE, n->line, "internal: no mapping for kind %d", kind);
	}
}

/* True when an element below n was looked at. */
static bool
any_used(const cnode *n)
{
	for (const cnode *c = n->child; c != NULL; c = c->next)
		if (c->used || any_used(c))
			return true;
	return false;
}

/* True when n or an element below it holds text or an attribute. */
static bool
has_content(const cnode *n)
{
	if (n->text != NULL || n->attrs != NULL)
		return true;
	for (const cnode *c = n->child; c != NULL; c = c->next)
		if (has_content(c))
			return true;
	return false;
}

/* Tells opts.unmodeled of every element below n with content that no
 * mapping looked at (the topmost of such a subtree), by its path from
 * the item's element. */
static void
report_unmodeled(cml_reader *r, const cnode *n, char *path, size_t len, size_t cap)
{
	for (const cnode *c = n->child; c != NULL; c = c->next) {
		if (c->child == NULL && c->used)
			continue; /* a leaf that was read: nothing below it */
		if (!c->used && !any_used(c)) {
			if (!has_content(c))
				continue;
			size_t l = path_push(path, len, cap, c->name);
			if (l > 0)
				r->opts.unmodeled(r->opts.unmodeled_ud, path, in_name(r), c->line);
			path[len] = '\0';
			continue;
		}
		size_t l = path_push(path, len, cap, c->name);
		if (l > 0)
			report_unmodeled(r, c, path, l, cap);
		path[len] = '\0';
	}
}

/* CML_END, used inside as "an item is ready" */
#define READY CML_END

/* Appends the names from root down to target ("A/B/C") to path. */
static bool
node_path(const cnode *root, const cnode *target, char *path, size_t cap)
{
	size_t len = strlen(path);

	cml_msg_set(path + len, cap - len, "%s%s", len ? "/" : "", (const char *)root->name);
	if (root == target)
		return true;
	for (const cnode *c = root->child; c != NULL; c = c->next)
		if (node_path(c, target, path, cap))
			return true;
	path[len] = '\0';
	return false;
}

/*
 * Maps a captured item: READY, or CML_ERR_ITEM when a value in it is
 * out of its domain. The item is then skipped, not the input: the
 * message names the element's path in the item, the item's Ид and line,
 * and the error is not kept, so the next call reads the next item.
 */
static cml_status
item_ready(cml_reader *r, cml_kind kind, const cnode *n)
{
	char path[512] = "";
	cml_status st;

	r->bad_node = NULL;
	st = map_item(r, kind, n);
	if (st == CML_OK)
		return READY;
	if (st != CML_ERR_VALUE)
		return st;
	if (r->bad_node == NULL || !node_path(n, r->bad_node, path, sizeof(path)))
		cml_msg_set(path, sizeof(path), "%s", (const char *)n->name);
	const char *id = ctext(r, n, N_ID);
	unsigned long line = r->bad_node != NULL ? r->bad_node->line : n->line;
	const char *what = r->bad_node != NULL ? r->bad_what : NULL;
	char msg[CML_ERRMSG_MAX];

	if (what == NULL) {
		/* a message without a node: keep it whole, after "FILE: " */
		const char *m = r->errmsg, *colon = strstr(m, ": ");
		what = colon != NULL ? colon + 2 : m;
	}
	if (id != NULL)
		cml_msg_set(msg, sizeof(msg), "%s: %s (in <%s> Ид \"%s\" of line %lu)",
		            path, what, (const char *)n->name, id, n->line);
	else
		cml_msg_set(msg, sizeof(msg), "%s: %s (in <%s> of line %lu, no Ид)",
		            path, what, (const char *)n->name, n->line);
	fail(r, CML_ERR_ITEM, line, "%s", msg);
	r->err = CML_OK; /* not sticky: the next call goes on */
	return CML_ERR_ITEM;
}

/* Skips the subtree of the element the reader is on. */
static cml_status
skip(cml_reader *r)
{
	if (xmlTextReaderIsEmptyElement(r->xr) == 1)
		return CML_OK;
	int base = xmlTextReaderDepth(r->xr);
	cml_status st;

	for (;;) {
		if ((st = advance(r)) != CML_OK)
			return st == CML_END ? fail(r, CML_ERR_SYNTAX, cml_reader_line(r),
			                            "unexpected end of document")
			                     : st;
		if (r->type == XML_READER_TYPE_END_ELEMENT && xmlTextReaderDepth(r->xr) == base)
			return CML_OK;
		if (r->type == XML_READER_TYPE_ENTITY_REFERENCE)
			return fail(r, CML_ERR_HOSTILE, node_line(r), "entity reference refused");
	}
}

static bool
is_container_role(enum role role)
{
	return role == R_CLASSIFIER || role == R_CATALOG || role == R_PACKAGE;
}

/*
 * Handles an element start under a parent frame. Returns CML_OK when
 * nothing is ready, READY when an item is.
 */

static cml_status
on_start(cml_reader *r, const xmlChar *name)
{
	frame *p = top(r);
	bool empty = xmlTextReaderIsEmptyElement(r->xr) == 1;
	cml_status st;
	cml_kind kind = CML_ITEM_NONE;
	const xmlChar *item_name = NULL;

	if (p == NULL) {
		/* the root */
		if (!is(r, name, N_ROOT))
			return fail(r, CML_ERR_FORMAT, node_line(r),
			            "root element is <%s>, not <КоммерческаяИнформация>: "
			            "not a CommerceML 2 file",
			            (const char *)name);
		cnode *root = new_node(r, name, node_line(r));
		if (root == NULL)
			return nomem(r);
		if ((st = read_attrs(r, root)) != CML_OK)
			return st;
		if ((st = emit_file(r, root)) != CML_OK)
			return st;
		r->started = true;
		if (!empty && (st = push_frame(r, R_ROOT, name)) != CML_OK)
			return st;
		return READY;
	}

	switch (p->role) {
	case R_ROOT:
	case R_CONTAINER:
		if (is(r, name, N_CLASSIFIER) || is(r, name, N_CATALOG) || is(r, name, N_PACKAGE) ||
		    is(r, name, N_PACKAGE_CHANGES)) {
			enum role role = is(r, name, N_CLASSIFIER) ? R_CLASSIFIER
			                 : is(r, name, N_CATALOG)  ? R_CATALOG
			                                           : R_PACKAGE;
			cnode *h = new_node(r, name, node_line(r));
			if (h == NULL)
				return nomem(r);
			if ((st = read_attrs(r, h)) != CML_OK)
				return st;
			if (role == R_CATALOG && attr(r, h, N_IDENTIFIER) != NULL && r->schema_version == NULL)
				return fail(r, CML_ERR_FORMAT, h->line,
				            "<Каталог Идентификатор=...>: CommerceML 1.x "
				            "(1C 7.7 attribute form) is not supported");
			if (empty) {
				frame tmp = { .role = role, .name = name, .header = h };
				return emit_header(r, &tmp) == CML_OK ? READY : r->err;
			}
			frame *f;
			if ((st = push_frame_out(r, role, name, &f)) != CML_OK)
				return st;
			f->header = h;
			return CML_OK;
		}
		if (is(r, name, N_DOCUMENT)) {
			cnode *n;
			if ((st = capture(r, &n)) != CML_OK)
				return st;
			return item_ready(r, CML_ITEM_DOCUMENT, n);
		}
		if (is(r, name, N_CONTAINER) && p->role == R_ROOT) {
			r->container_no++;
			if (empty)
				return CML_OK;
			r->in_container = r->container_no;
			return push_frame(r, R_CONTAINER, name);
		}
		if (is(r, name, N_COUNTERPARTIES)) {
			cnode *h = new_node(r, name, node_line(r));
			if (h == NULL)
				return nomem(r);
			if ((st = read_attrs(r, h)) != CML_OK)
				return st;
			r->cp_only_changes = parse_bool(attr(r, h, N_ONLY_CHANGES));
			if (empty)
				return CML_OK;
			return push_frame(r, R_COUNTERPARTIES, name);
		}
		break;

	case R_COUNTERPARTIES:
		if (is(r, name, N_COUNTERPARTY)) {
			cnode *n;
			if ((st = capture(r, &n)) != CML_OK)
				return st;
			return item_ready(r, CML_ITEM_COUNTERPARTY, n);
		}
		break;

	case R_CLASSIFIER:
	case R_CATALOG:
	case R_PACKAGE:
		if (is(r, name, N_GROUPS) || is_list(r, name, &kind, &item_name) ||
		    is(r, name, N_CATEGORIES)) {
			if (!p->emitted) {
				r->replay = true;
				return emit_header(r, p) == CML_OK ? READY : r->err;
			}
			if (is(r, name, N_CATEGORIES))
				break;
			if (empty)
				return CML_OK;
			if (is(r, name, N_GROUPS))
				return push_frame(r, R_GROUPS, name);
			frame *f;
			if ((st = push_frame_out(r, R_LIST, name, &f)) != CML_OK)
				return st;
			f->item_kind = kind;
			f->item_name = item_name;
			return CML_OK;
		}
		if (!p->emitted) {
			/* a header field: Ид, Наименование, Владелец, ... */
			cnode *n;
			if ((st = capture(r, &n)) != CML_OK)
				return st;
			add_child(p->header, n);
			return CML_OK;
		}
		break;

	case R_GROUPS:
		if (is(r, name, N_GROUP)) {
			cnode *h = new_node(r, name, node_line(r));
			if (h == NULL)
				return nomem(r);
			if ((st = read_attrs(r, h)) != CML_OK)
				return st;
			if (empty)
				break; /* <Группа/>: nothing to say */
			frame *f;
			if ((st = push_frame_out(r, R_GROUP, name, &f)) != CML_OK)
				return st;
			f->header = h;
			return CML_OK;
		}
		break;

	case R_GROUP:
		if (is(r, name, N_GROUPS)) {
			if (!p->emitted) {
				r->replay = true;
				return emit_group(r, p) == CML_OK ? READY : r->err;
			}
			if (empty)
				return CML_OK;
			return push_frame(r, R_GROUPS, name);
		}
		if (!p->emitted) {
			cnode *n;
			if ((st = capture(r, &n)) != CML_OK)
				return st;
			add_child(p->header, n);
			return CML_OK;
		}
		/* a field after the nested groups: already emitted, dropped */
		warn(r, node_line(r), "<Группа>: <%s> after the nested groups is ignored",
		     (const char *)name);
		break;

	case R_LIST:
		if (name == p->item_name) {
			cnode *n;
			if ((st = capture(r, &n)) != CML_OK)
				return st;
			return item_ready(r, p->item_kind, n);
		}
		break;

	case R_OTHER:
		break;
	}
	return skip(r);
}

static cml_status
on_end(cml_reader *r)
{
	frame *f = top(r);

	if (f == NULL)
		return CML_OK;
	if (is_container_role(f->role) && !f->emitted) {
		cml_status st = emit_header(r, f);
		pop_frame(r);
		return st == CML_OK ? READY : st;
	}
	if (f->role == R_GROUP && !f->emitted) {
		cml_status st = emit_group(r, f);
		pop_frame(r);
		return st == CML_OK ? READY : st;
	}
	if (f->role == R_CONTAINER)
		r->in_container = 0;
	pop_frame(r);
	return CML_OK;
}

cml_status
cml_reader_next(cml_reader *r, const cml_item **item)
{
	cml_status st;

	*item = NULL;
	if (r->err != CML_OK)
		return r->err;
	if (r->xr == NULL)
		return fail(r, CML_ERR_STATE, 0, "no input is open");
	if (r->finished)
		return CML_END;
	if (!r->replay)
		cml_arena_reset(&r->arena);
	else {
		/* the node to replay was read for the previous item; its
		 * captured pieces live in the arena: keep them */
	}

	for (;;) {
		st = advance(r);
		if (st == CML_END) {
			if (!r->started)
				return fail(r, CML_ERR_FORMAT, 0, "no root element: empty input");
			if (r->n_frames != 0)
				return fail(r, CML_ERR_SYNTAX, cml_reader_line(r),
				            "unexpected end of document");
			r->finished = true;
			return CML_END;
		}
		if (st != CML_OK)
			return st;

		switch (r->type) {
		case XML_READER_TYPE_ELEMENT:
			st = on_start(r, xmlTextReaderConstLocalName(r->xr));
			break;
		case XML_READER_TYPE_END_ELEMENT:
			st = on_end(r);
			break;
		case XML_READER_TYPE_DOCUMENT_TYPE:
			return fail(r, CML_ERR_HOSTILE, node_line(r),
			            "<!DOCTYPE>: DTDs and entity declarations are refused "
			            "(CommerceML has none)");
		case XML_READER_TYPE_ENTITY_REFERENCE:
			return fail(r, CML_ERR_HOSTILE, node_line(r), "entity reference refused");
		default:
			st = CML_OK;
			break;
		}
		if (st == READY) {
			*item = &r->item;
			return CML_OK;
		}
		if (st != CML_OK)
			return st;
	}
}
