/*
 * statusdoc.h: order progress <-> CommerceML order documents, both ways.
 *
 * Out (orders-push): the document about one order that a site applies
 * (PROTOCOL.md §10). It is the order as the site sent it (the ledger's
 * latest revision: Ид, Номер, Дата, counterparties and ALL its lines,
 * because a real Bitrix deletes the basket lines a document leaves out)
 * with the site's own requisites replaced by the 1C -> site ones:
 *   Номер по 1С, Дата по 1С       the invoice's number and date when
 *                                 issued, else the order's Номер/Дата
 *   Проведен                      true once CONFIRMED or COMPLETED
 *   ПометкаУдаления               false (a cancel travels as Отменен)
 *   Номер оплаты по 1С, Дата оплаты по 1С
 *                                 only when paid in full (Bitrix marks
 *                                 the order paid by the date; there is
 *                                 no un-pay)
 *   Оплачен                       true/false (other platforms)
 *   Номер отгрузки по 1С, Дата отгрузки по 1С
 *                                 only when shipped in full (Bitrix
 *                                 moves the order to its final status
 *                                 and locks it by the date)
 *   Отгружен                      true/false (other platforms)
 *   Отменен                       true when CANCELLED, else false
 *                                 (Bitrix un-cancels on false)
 *   Статус заказа, Статуса заказа ИД
 *                                 the map's code sent for the state
 *                                 ("[F] Выполнен" and "F"); left out
 *                                 when the map has none
 *   Финальный статус              true when COMPLETED
 *   НомерВерсии                   the progress version (a requisite)
 *   Номер1С                       the invoice number, when issued
 * A date missing from a step is the day it was recorded.
 * The document's own НомерВерсии ELEMENT stays the site's, as pulled: a
 * real Bitrix compares the element with the VERSION_1C it stored and
 * rewrites the basket (and, for a paid or delivery-allowed order,
 * answers "Заказ №… не может быть изменен") only when they differ, so
 * the basket is touched only when the site's own order changed. The
 * document's ВерсияСхемы should stay below 2.10: from 2.10 a real Bitrix
 * reads order documents another way (payments and shipments as their
 * own documents, unknown orders created).
 *
 * In (orders-status apply): the steps an accounting system's order
 * document asks for, in the order they must be applied (confirm,
 * terms, invoice, pay, allow-shipment, ship, complete; cancel; refund
 * and return never come from a document):
 *   Проведен=true, or a status code the map gives as CONFIRMED  confirm
 *   a Документ with ХозОперация "Счет на оплату" (any case, with or
 *     without "покупателю"/"клиенту") and Основание = the order  invoice
 *   Номер/Дата оплаты по 1С, or a payment Документ ("Выплата
 *     безналичных денег", "Выплата наличных денег", "Эквайринговая
 *     операция", "Оплата") with Основание = the order  pay (the
 *     document's Сумма; requisites alone: what is still due)
 *   "Доставка разрешена"=true  allow-shipment
 *   Номер/Дата отгрузки по 1С, or a shipment Документ ("Отпуск товара",
 *     "Реализация товаров") with Основание = the order  ship (the
 *     document's lines matched to the order's by Ид, else every line's
 *     rest)
 *   Финальный статус=true, or a code the map gives as COMPLETED  complete
 *   Отменен=true or ПометкаУдаления (the element or the requisite)  cancel
 * Values compare as 1C writes them: "true"/"false", "Да"/"Нет", any
 * case; an empty date and the date "T" are empty; a missing requisite
 * asks for nothing (it never moves a facet back).
 */
#ifndef CML_STATUSDOC_H
#define CML_STATUSDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "cml.h"
#include "model.h"
#include "orderstate.h"

CML_BEGIN_DECLS

/* ---- out ---- */

typedef struct cml_statusdoc cml_statusdoc;

CML_NODISCARD cml_statusdoc *cml_statusdoc_new(void);
void cml_statusdoc_free(cml_statusdoc *d);

/*
 * The document for one order: order is the ledger's latest revision,
 * st its state, version its progress version, status_code/status_name
 * the map's code for its state and the site's name for it (NULL: none;
 * status_name NULL writes "[CODE]" alone), today the date used for a
 * step recorded without one (YYYY-MM-DD). The result is valid until the
 * next build or free; write it with cml_orderfmt (XML).
 */
CML_NODISCARD cml_status cml_statusdoc_build(cml_statusdoc *d, const cml_document *order,
                                             const cml_order_state *st, int64_t version,
                                             const char *status_code, const char *status_name,
                                             const char *today, const cml_document **out);

/* ---- in ---- */

/* Resolves a site status code to a state (the caller's map, usually
 * cml_status_map_lookup); false when unmapped. */
typedef bool (*cml_statusdoc_map_fn)(void *ud, const char *code, cml_os_life *life);

/* One order's update read from documents: the order it names and its
 * steps. Strings point into the documents passed (or into the struct):
 * valid while they are. */
#define CML_STATUSDOC_MAX_STEPS 16
typedef struct cml_statusdoc_update {
	const char *order_id;      /* the order's Ид (for an attachment: its
	                              Основание) */
	const char *order_number;  /* its Номер ("" for an attachment) */
	const char *version;       /* НомерВерсии, NULL when none */
	const char *changed;       /* a change time: "Дата изменения статуса",
	                              else the document's Дата1С/Дата+Время;
	                              NULL when none */
	const char *status_code;   /* Статуса заказа ИД, NULL when none */
	bool status_unmapped;      /* a status code the map does not know */
	cml_step steps[CML_STATUSDOC_MAX_STEPS];
	size_t n_steps;
	int64_t qty[256];          /* storage for steps' qty */
	char buf[1024];            /* storage for steps' strings */
} cml_statusdoc_update;

/*
 * The steps one document asks for: an order document (ХозОперация
 * "Заказ товара", or none) or an attachment (a Документ with an
 * Основание: invoice, payment, shipment). order_lines/n_order_lines: the
 * ledger order's lines, to match a shipment document's lines by Ид (NULL
 * when not known: the shipment then ships every line's rest). CML_OK
 * with *out; CML_ERR_VALUE for a document that names no order (no Ид, no
 * Номер, no Основание), with the reason in why.
 */
CML_NODISCARD cml_status cml_statusdoc_read(const cml_document *doc,
                                            const cml_doc_line *order_lines,
                                            size_t n_order_lines, cml_statusdoc_map_fn map,
                                            void *map_ud, cml_statusdoc_update *out, char *why,
                                            size_t cap);

CML_END_DECLS

#endif /* CML_STATUSDOC_H */
