/* core/http_url.h: percent-decoding shared by the router and the request. */
#ifndef GR_CORE_HTTP_URL_H
#define GR_CORE_HTTP_URL_H

#include <stddef.h>

enum {
    GR_URL_PLUS_IS_SPACE = 1u << 0, /* query strings: '+' stands for a space */
    GR_URL_LENIENT = 1u << 1        /* keep a malformed or NUL escape as written */
};

/* Decodes the %XX escapes of s[0..len) into a new string the caller frees.
 * Without GR_URL_LENIENT, a malformed escape ("%zz", "%4") or an encoded NUL
 * ("%00", which would cut a C string short) makes it return -1 and leave
 * *out NULL. */
int gr_url_decode(const char *s, size_t len, unsigned flags, char **out);

#endif
