/*
 * csv.h: a catalog as CSV (the format of cmlkit-csv(5)), read on libcsv.
 *
 * A CSV file is one table; its header row says which: the first column
 * name is group_id, property_id, price_type_id, warehouse_id, product_id
 * or offer_id, catalog_id (the catalog's identity), or order (the order
 * progress table). The reader hands out the same items the CommerceML
 * reader does (groups, properties, price types, warehouses, products,
 * offers), one row at a time, each owned by the reader until the next
 * call; a catalog row is handed out as three items, the Классификатор,
 * Каталог and ПакетПредложений headers (a catalog without "whole" true
 * says СодержитТолькоИзменения: it deletes nothing by absence).
 */
#ifndef CML_CSV_H
#define CML_CSV_H

#include "cml.h"
#include "model.h"

CML_BEGIN_DECLS

typedef struct cml_csv_reader cml_csv_reader;

typedef enum cml_csv_table {
	CML_CSV_UNKNOWN = 0,
	CML_CSV_GROUPS,
	CML_CSV_PROPERTIES,
	CML_CSV_PRICE_TYPES,
	CML_CSV_WAREHOUSES,
	CML_CSV_PRODUCTS,
	CML_CSV_OFFERS,
	CML_CSV_PROGRESS,  /* order progress: rows, not items (cml_csv_reader_row) */
	CML_CSV_CATALOG,   /* the catalog's identity: three header items a row */
} cml_csv_table;

CML_NODISCARD cml_csv_reader *cml_csv_reader_new(void);
void cml_csv_reader_free(cml_csv_reader *r);

CML_NODISCARD cml_status cml_csv_reader_open_file(cml_csv_reader *r, const char *path);
CML_NODISCARD cml_status cml_csv_reader_open_fd(cml_csv_reader *r, int fd, const char *name);
CML_NODISCARD cml_status cml_csv_reader_open_memory(cml_csv_reader *r, const void *buf,
                                                    size_t len, const char *name);

/* Which table the open input holds (known once it is opened). */
cml_csv_table cml_csv_reader_table(const cml_csv_reader *r);

CML_NODISCARD cml_status cml_csv_reader_next(cml_csv_reader *r, const cml_item **item);

/*
 * The order progress table (cmlkit-csv(5) "Order progress") is read a
 * row at a time, its cells as text: CML_OK with the row's first line in
 * *line (may be NULL), CML_END after the last row. The header is checked
 * on open (known columns, order and step present) and every row for
 * UTF-8 and a non-empty order and step; what the values mean is the
 * caller's. cml_csv_reader_next refuses this table.
 */
CML_NODISCARD cml_status cml_csv_reader_row(cml_csv_reader *r, unsigned long *line);
/* The trimmed cell of the current row in the named column; NULL when the
 * cell is empty or the table has no such column. Valid until the next
 * row. */
const char *cml_csv_reader_cell(const cml_csv_reader *r, const char *name);

/* "FILE:LINE: column NAME: what is wrong" */
const char *cml_csv_reader_errmsg(const cml_csv_reader *r);

CML_END_DECLS

#endif /* CML_CSV_H */
