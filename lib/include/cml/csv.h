/*
 * csv.h: a catalog as CSV (the format of cmlkit-csv(5)), read on libcsv.
 *
 * A CSV file is one table; its header row says which: the first column
 * name is group_id, property_id, price_type_id, warehouse_id, product_id
 * or offer_id. The reader hands out the same items the CommerceML reader
 * does (groups, properties, price types, warehouses, products, offers),
 * one row at a time, each owned by the reader until the next call.
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

/* "FILE:LINE: column NAME: what is wrong" */
const char *cml_csv_reader_errmsg(const cml_csv_reader *r);

CML_END_DECLS

#endif /* CML_CSV_H */
