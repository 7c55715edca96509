/*
 * model.h: the plain structs CommerceML items are.
 *
 * Conventions, true of every struct here:
 *  - every string is UTF-8, NUL-terminated, with surrounding whitespace
 *    trimmed; a field that the file did not carry (or carried empty) is NULL;
 *  - numbers that the format defines as numbers (prices, quantities,
 *    coefficients, sums, rates) are kept as canonical decimal strings:
 *    "100", "100.5", "-1", "0.125" (see cml_num_canon()); any other
 *    spelling a file uses ("100,00", "1 200.50", "100.0000") has been
 *    turned into that form by the reader, so equal numbers are equal
 *    strings;
 *  - arrays come as pointer + count, in document order;
 *  - an item handed out by a reader belongs to the reader and stays valid
 *    until the next call on that reader; a writer never keeps a pointer
 *    into an item after the call that took it returns.
 */
#ifndef CML_MODEL_H
#define CML_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "cml.h"

CML_BEGIN_DECLS

typedef enum cml_kind {
	CML_ITEM_NONE = 0,
	CML_ITEM_FILE,           /* one per input file, first: version, date, encoding */
	CML_ITEM_CLASSIFIER,     /* Классификатор header */
	CML_ITEM_GROUP,          /* Группа (nested groups carry their parent) */
	CML_ITEM_PROPERTY,       /* Свойство with its value variants */
	CML_ITEM_PRICE_TYPE,     /* ТипЦены */
	CML_ITEM_WAREHOUSE,      /* Склад (as a directory entry, not stock) */
	CML_ITEM_UNIT,           /* ЕдиницаИзмерения */
	CML_ITEM_CATALOG,        /* Каталог header */
	CML_ITEM_PRODUCT,        /* Каталог/Товары/Товар */
	CML_ITEM_OFFERS_PACKAGE, /* ПакетПредложений header */
	CML_ITEM_OFFER,          /* Предложение */
	CML_ITEM_DOCUMENT,       /* Документ (an order and its kin) */
	CML_ITEM_COUNTERPARTY,   /* Контрагенты/Контрагент, a standalone package */
	CML_ITEM_KIND_COUNT
} cml_kind;

/* "file", "classifier", "group", ...; NULL for an out-of-range kind. */
const char *cml_kind_name(cml_kind kind);

/* Tri-state for optional booleans such as СодержитТолькоИзменения. */
typedef enum cml_tristate {
	CML_UNSET = 0,
	CML_FALSE = 1,
	CML_TRUE = 2,
} cml_tristate;

/* Where an item came from: for messages, never part of its content. */
typedef struct cml_origin {
	const char *file;   /* the name the input was opened under */
	unsigned long line; /* line of the item's start tag */
} cml_origin;

/* (Наименование, Значение): requisites, characteristics, address fields,
 * contacts (Тип, Значение). */
typedef struct cml_pair {
	const char *name;
	const char *value;
} cml_pair;

/* Пересчет of a unit: how many base units one Единица is. */
typedef struct cml_unit_conv {
	const char *unit;        /* Единица (a code, as written) */
	const char *coefficient; /* Коэффициент, canonical number */
} cml_unit_conv;

/* БазоваяЕдиница / Единица of a product, offer or document line. */
typedef struct cml_unit_ref {
	const char *code;      /* @Код, or the text of a 3.1 bare code */
	const char *name;      /* the element text (short name, "шт") */
	const char *full_name; /* @НаименованиеПолное */
	const char *intl;      /* @МеждународноеСокращение */
	cml_unit_conv *conversions; /* Пересчет (2.0x, mixed content) */
	size_t n_conversions;
} cml_unit_ref;

/* Комплектующее of a kit (Комплектующие of a product or an offer). */
typedef struct cml_component {
	const char *id;
	const char *name;
	const char *quantity;  /* Количество, canonical number */
} cml_component;

/* ЗначенияСвойства: one value of one property. A multi-valued property
 * gives one entry per value. id is NULL when the file omits it (УТ 10). */
typedef struct cml_prop_value {
	const char *id;
	const char *value;
} cml_prop_value;

/* СтавкаНалога, or a document's Налог. */
typedef struct cml_tax {
	const char *name;    /* НДС */
	const char *rate;    /* "20", "Без налога": free text per the XSD */
	const char *sum;     /* documents only */
	cml_tristate in_sum; /* УчтеноВСумме */
} cml_tax;

/* Скидка of a document or a line. */
typedef struct cml_discount {
	const char *name;
	const char *sum;
	const char *percent;
	cml_tristate in_sum;
} cml_discount;

typedef struct cml_file_info {
	const char *schema_version;  /* ВерсияСхемы as written, NULL if absent */
	const char *generated;       /* ДатаФормирования, normalised to
	                                YYYY-MM-DDTHH:MM:SS[.fff][zone] when it
	                                parses, else as written */
	const char *declared_encoding; /* from the XML declaration, NULL if none */
	const char *encoding;        /* what the bytes are: "UTF-8", "UTF-16LE",
	                                "UTF-16BE", "windows-1251", ... */
	bool bom;
	const char *root_id;         /* root @Ид (2.09/3.1) */
	const char *namespace_uri;   /* the root's namespace, NULL if none:
	                                often not the one ВерсияСхемы implies
	                                (2.08 files in urn:1C.ru:commerceml_210) */
} cml_file_info;

typedef struct cml_classifier {
	const char *id;
	const char *name;
	const char *owner_id;
	const char *owner_name;
	cml_tristate only_changes;
} cml_classifier;

typedef struct cml_group {
	const char *id;
	const char *parent_id;   /* NULL at the top level */
	const char *name;
	const char *description;
	const char *version;     /* НомерВерсии */
	bool deleted;            /* ПометкаУдаления / Статус */
	unsigned depth;          /* 0 at the top level */
} cml_group;

typedef struct cml_variant {
	const char *id;      /* ИдЗначения */
	const char *value;   /* Значение */
} cml_variant;

typedef struct cml_property {
	const char *id;
	const char *name;
	const char *value_type;  /* Строка, Число, Справочник, Время, ... */
	const char *version;
	bool deleted;
	cml_tristate required;   /* Обязательное */
	cml_tristate multiple;   /* Множественное */
	cml_tristate for_products;  /* ДляТоваров */
	cml_tristate for_offers;    /* ДляПредложений */
	cml_tristate for_documents; /* ДляДокументов */
	cml_variant *variants;
	size_t n_variants;
	const char *type;        /* <Тип>, kept as given (not ТипЗначений) */
} cml_property;

typedef struct cml_price_type {
	const char *id;
	const char *name;
	const char *currency;
	const char *tax_name;       /* Налог/Наименование */
	cml_tristate tax_in_sum;    /* Налог/УчтеноВСумме */
	const char *tax_excise;     /* Налог/Акциз */
} cml_price_type;

typedef struct cml_warehouse {
	const char *id;
	const char *name;
	const char *address;        /* Адрес/Представление */
	const char *comment;
	cml_pair *contacts;
	size_t n_contacts;
} cml_warehouse;

typedef struct cml_unit {
	const char *id;
	const char *code;
	const char *short_name;
	const char *full_name;
	const char *intl;
} cml_unit;

typedef struct cml_catalog {
	const char *id;
	const char *classifier_id;
	const char *name;
	const char *description;
	const char *owner_id;
	const char *owner_name;
	cml_tristate only_changes;
} cml_catalog;

typedef enum cml_item_status {
	CML_STATUS_NONE = 0,
	CML_STATUS_NEW,      /* Новый */
	CML_STATUS_CHANGED,  /* Изменен */
	CML_STATUS_DELETED,  /* Удален */
} cml_item_status;

typedef struct cml_product {
	const char *id;
	const char *article;     /* Артикул */
	const char *barcode;     /* Штрихкод / ШтрихКод */
	const char *name;
	const char *full_name;   /* ПолноеНаименование */
	const char *description;
	const char *version;     /* НомерВерсии */
	cml_unit_ref unit;
	const char **groups;     /* Группы/Ид */
	size_t n_groups;
	const char **pictures;   /* Картинка */
	size_t n_pictures;
	const char *manufacturer_id;   /* Изготовитель/Ид */
	const char *manufacturer_name; /* Изготовитель/Наименование */
	const char *country;     /* Страна */
	const char *category;    /* Категория (УТ 11.4 2.08) */
	cml_prop_value *props;
	size_t n_props;
	cml_tax *taxes;          /* СтавкиНалогов */
	size_t n_taxes;
	cml_pair *requisites;    /* ЗначенияРеквизитов */
	size_t n_requisites;
	cml_pair *characteristics; /* ХарактеристикиТовара */
	size_t n_characteristics;
	const char *weight;      /* Вес (3.1), canonical number */
	cml_component *components; /* Комплектующие */
	size_t n_components;
	const char *geotag;      /* Геометка (Bitrix): a map point, "55.75,37.61" */
	cml_item_status status;  /* @Статус or <Статус> */
	bool deleted;            /* status == DELETED or ПометкаУдаления true */
} cml_product;

typedef struct cml_offers_package {
	const char *id;
	const char *name;
	const char *catalog_id;
	const char *classifier_id;
	const char *owner_id;
	const char *owner_name;
	cml_tristate only_changes;
} cml_offers_package;

typedef struct cml_price {
	const char *type_id;       /* ИдТипаЦены */
	const char *presentation;  /* Представление (free text) */
	const char *value;         /* ЦенаЗаЕдиницу, canonical number */
	const char *currency;
	const char *unit;          /* Единица */
	const char *coefficient;   /* Коэффициент, canonical number */
	const char *tax_name;      /* Налог/Наименование (3.1) */
	cml_tristate tax_in_sum;   /* Налог/УчтеноВСумме */
} cml_price;

typedef struct cml_stock {
	const char *warehouse_id;
	const char *quantity;      /* canonical number */
} cml_stock;

typedef struct cml_offer {
	const char *id;            /* as written: "product" or "product#char" */
	const char *product_id;    /* the part before '#' (== id without one) */
	const char *char_id;       /* the part after '#', NULL without one */
	const char *article;
	const char *barcode;
	const char *name;
	const char *version;
	cml_unit_ref unit;
	cml_pair *characteristics;
	size_t n_characteristics;
	cml_prop_value *props;
	size_t n_props;
	cml_price *prices;
	size_t n_prices;
	bool has_prices;           /* a Цены element was present (maybe empty) */
	const char *quantity;      /* Количество, canonical; NULL if absent */
	cml_stock *stocks;         /* per warehouse, any of the three forms */
	size_t n_stocks;
	bool has_stocks;           /* Остатки or Склад was present */
	cml_component *components; /* Комплектующие (a kit) */
	size_t n_components;
	const char *geotag;        /* Геометка (Bitrix), as on a product */
	cml_item_status status;
	bool deleted;
} cml_offer;

/* Представитель of a counterparty: Bitrix nests Отношение, Ид and
 * Наименование in a Контрагент inside it, 1C 2.09 and 3.1 put them
 * directly under Представитель; either way its own Контакты (when a
 * system writes them) are the contact person's email and phones. */
typedef struct cml_representative {
	const char *relation;   /* Отношение: "Контактное лицо" */
	const char *id;
	const char *name;
	cml_pair *contacts;     /* its own Контакты/Контакт (Тип, Значение) */
	size_t n_contacts;
} cml_representative;

typedef struct cml_bank_account {
	const char *number;       /* НомерСчета */
	const char *bank_name;
	const char *bank_bik;
	const char *bank_corr_account;
	const char *bank_address;
} cml_bank_account;

typedef struct cml_address {
	const char *presentation;  /* Представление */
	cml_pair *fields;          /* АдресноеПоле (Тип, Значение) */
	size_t n_fields;
} cml_address;

typedef struct cml_counterparty {
	const char *id;
	const char *version;
	bool deleted;              /* ПометкаУдаления */
	const char *name;
	const char *official_name; /* ОфициальноеНаименование */
	const char *full_name;     /* ПолноеНаименование */
	const char *last_name;     /* Фамилия */
	const char *first_name;    /* Имя */
	const char *middle_name;   /* Отчество */
	const char *role;          /* Роль */
	const char *inn;
	const char *kpp;
	const char *okpo;          /* ОКПО / КодПоОКПО */
	cml_address reg_address;   /* АдресРегистрации / Адрес */
	cml_address legal_address; /* ЮридическийАдрес */
	cml_pair *contacts;        /* Контакты/Контакт (Тип, Значение), and the
	                              non-standard <Телефон>, <Email> as
	                              ("Телефон", v), ("Почта", v) */
	size_t n_contacts;
	cml_representative *representatives;
	size_t n_representatives;
	cml_bank_account *accounts;
	size_t n_accounts;
	cml_tristate only_changes; /* of the Контрагенты package it came in */
	cml_address address;       /* Адрес beside an АдресРегистрации (Bitrix
	                              writes both: registration and actual);
	                              a lone Адрес is reg_address */
} cml_counterparty;

typedef struct cml_doc_line {
	const char *id;            /* Ид: product or product#char, ORDER_DELIVERY */
	const char *catalog_id;    /* ИдКаталога */
	const char *article;
	const char *name;
	cml_unit_ref unit;         /* БазоваяЕдиница, or Единица without one */
	cml_unit_ref line_unit;    /* Единица beside a БазоваяЕдиница: the unit
	                              the line is sold in */
	const char *price;         /* ЦенаЗаЕдиницу / Цена */
	const char *quantity;
	const char *sum;
	const char *coefficient;
	cml_pair *characteristics;
	size_t n_characteristics;
	cml_pair *requisites;
	size_t n_requisites;
	cml_tax *taxes;            /* Налоги/Налог: the tax charged */
	size_t n_taxes;
	cml_tax *tax_rates;        /* СтавкиНалогов/СтавкаНалога: the rates */
	size_t n_tax_rates;
	cml_discount *discounts;
	size_t n_discounts;
	const char **groups;       /* Группы/Ид (1C 8 B2B orders) */
	size_t n_groups;
} cml_doc_line;

typedef struct cml_payment {
	const char *number;
	const char *transaction;
	const char *date;
	const char *sum;
	const char *method;
	const char *method_id;
} cml_payment;

/* Склады/Склад of a document: where it ships from or to. */
typedef struct cml_doc_warehouse {
	const char *id;
	const char *name;
} cml_doc_warehouse;

typedef struct cml_document {
	const char *id;
	const char *number;        /* Номер */
	const char *date;          /* Дата */
	const char *time;          /* Время */
	const char *operation;     /* ХозОперация */
	const char *role;          /* Роль */
	const char *currency;
	const char *rate;          /* Курс */
	const char *sum;
	const char *comment;
	const char *version;       /* НомерВерсии */
	const char *number_1c;     /* Номер1С */
	const char *date_1c;       /* Дата1С */
	const char *due_date;      /* СрокПлатежа */
	const char *basis;         /* Основание: the Ид of the order a payment
	                              or shipment document belongs to (2.10) */
	bool deleted;              /* ПометкаУдаления */
	unsigned container;        /* 3.1 Контейнер ordinal, from 1; 0 outside */
	cml_counterparty *counterparties;
	size_t n_counterparties;
	cml_doc_line *lines;
	size_t n_lines;
	cml_tax *taxes;
	size_t n_taxes;
	cml_discount *discounts;
	size_t n_discounts;
	cml_pair *requisites;      /* ЗначенияРеквизитов */
	size_t n_requisites;
	cml_payment *payments;     /* Оплаты (2.09) */
	size_t n_payments;
	cml_doc_warehouse *warehouses; /* Склады/Склад, or a lone Склад (its
	                                  text the name) */
	size_t n_warehouses;
} cml_document;

/* One item: the kind says which member of the union is valid. */
typedef struct cml_item {
	cml_kind kind;
	cml_origin origin;
	union {
		cml_file_info file;
		cml_classifier classifier;
		cml_group group;
		cml_property property;
		cml_price_type price_type;
		cml_warehouse warehouse;
		cml_unit unit;
		cml_catalog catalog;
		cml_product product;
		cml_offers_package package;
		cml_offer offer;
		cml_document document;
		cml_counterparty counterparty;
	} u;
} cml_item;

/*
 * Canonical decimal: trims, drops spaces and no-break spaces used as
 * thousands separators, takes ',' or '.' as the decimal point, drops a
 * leading '+', leading zeros and trailing fractional zeros, "-0" -> "0".
 * Writes at most cap bytes (with the NUL) to out. Returns false when
 * text is not a decimal number (or does not fit); out is then "".
 */
bool cml_num_canon(const char *text, char *out, size_t cap);

CML_END_DECLS

#endif /* CML_MODEL_H */
