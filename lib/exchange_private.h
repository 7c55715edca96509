/*
 * exchange_private.h: what the exchange client's tests and fuzz target
 * reach beyond cml/exchange.h. Not installed.
 */
#ifndef CML_EXCHANGE_PRIVATE_H
#define CML_EXCHANGE_PRIVATE_H

#include <stddef.h>

#include "cml/exchange.h"

/*
 * Takes body (len bytes, as a site sent it with HTTP 200 and Content-Type
 * content_type, which may be NULL) as the answer to mode, the way a request
 * does after its transfer: decoded, classified, and for checkauth and init
 * the session and the parameters taken. CML_OK when the command's answer
 * is a success (or, for import, progress); the errors and message as the
 * command would leave them on x. No network: the fuzz target's door.
 */
CML_NODISCARD cml_status cml_exchange_parse_answer(cml_exchange *x, const char *mode,
                                                   const void *body, size_t len,
                                                   const char *content_type);

#endif /* CML_EXCHANGE_PRIVATE_H */
