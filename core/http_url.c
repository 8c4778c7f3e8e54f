/* core/http_url.c: percent-decoding of paths and query strings. */
#include "http_url.h"

#include <stdlib.h>

#include "util.h"

int gr_url_decode(const char *s, size_t len, unsigned flags, char **out)
{
    char *dst = gr_xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+' && (flags & GR_URL_PLUS_IS_SPACE)) {
            dst[n++] = ' ';
            continue;
        }
        if (c != '%') {
            dst[n++] = c;
            continue;
        }
        /* Both hex digits must be inside the input. */
        int h = i + 2 < len ? gr_hex_value(s[i + 1]) : -1;
        int l = h >= 0 ? gr_hex_value(s[i + 2]) : -1;
        if (h < 0 || l < 0 || (h == 0 && l == 0)) {
            if (!(flags & GR_URL_LENIENT)) {
                free(dst);
                *out = NULL;
                return -1;
            }
            dst[n++] = c;
            continue;
        }
        dst[n++] = (char)(h * 16 + l);
        i += 2;
    }
    dst[n] = '\0';
    *out = dst;
    return 0;
}
