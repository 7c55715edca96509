/*
 * order.h: what an order document must be before the ledger takes it.
 *
 * cml_order_check is the rule orders-pull applies to every order a site
 * sends (cmlkit-orders(5) lists the rules): an order that breaks one is
 * rejected with its number and the reason, never stored half-right.
 *  - the order has an Ид;
 *  - Дата (and Время, СрокПлатежа, Дата1С and the date requisites) parse
 *    as dates; an empty date, and the empty date-time "T" some sites
 *    write, are empty, not errors;
 *  - every line's Количество, ЦенаЗаЕдиницу and Сумма, the order's Сумма
 *    and Курс are numbers when present;
 *  - a line's Сумма agrees with price × quantity within rounding
 *    (0.01 per line, more when a discount on the line explains it);
 *  - Валюта is a known currency: an ISO 4217 code (letters or digits) or
 *    one of the names sites write for the rouble ("руб", "руб.", "RUB").
 */
#ifndef CML_ORDER_H
#define CML_ORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "cml.h"
#include "model.h"

CML_BEGIN_DECLS

/* CML_OK, or CML_ERR_VALUE with the reason in why ("line 2 (Ид 7f3c...):
 * Количество 'abc' is not a number"; without the order's number, which
 * the caller prints). why may be NULL. */
CML_NODISCARD cml_status cml_order_check(const cml_document *doc, char *why, size_t cap);

/* True for a document that belongs to an order rather than being one: a
 * payment or shipment document with an Основание (2.10 answers). */
bool cml_order_is_attachment(const cml_document *doc);

CML_END_DECLS

#endif /* CML_ORDER_H */
