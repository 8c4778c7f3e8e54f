/* core/util.h: allocation, growable buffers and string lists used by every
 * core unit.  Allocation failure aborts the process with a message: the host
 * cannot do anything useful without memory, and checking every small
 * allocation would hide the real error paths. */
#ifndef GR_CORE_UTIL_H
#define GR_CORE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *gr_xmalloc(size_t n);
void *gr_xcalloc(size_t count, size_t n);
void *gr_xrealloc(void *p, size_t n);
char *gr_xstrdup(const char *s);
char *gr_xstrndup(const char *s, size_t n);
__attribute__((format(printf, 1, 2))) char *gr_xasprintf(const char *fmt, ...);

/* A growable byte buffer, always NUL-terminated when len > 0. */
typedef struct gr_buf {
    char *data;
    size_t len;
    size_t cap;
} gr_buf_t;

void gr_buf_reserve(gr_buf_t *b, size_t extra);
void gr_buf_append(gr_buf_t *b, const void *data, size_t len);
void gr_buf_puts(gr_buf_t *b, const char *s);
__attribute__((format(printf, 2, 3))) void gr_buf_printf(gr_buf_t *b, const char *fmt, ...);
void gr_buf_vprintf(gr_buf_t *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included. */
void gr_buf_json_string(gr_buf_t *b, const char *s);
void gr_buf_reset(gr_buf_t *b); /* len = 0, keeps the memory */
void gr_buf_free(gr_buf_t *b);
/* Hands the data to the caller (who frees it) and empties the buffer. */
char *gr_buf_steal(gr_buf_t *b);

/* A list of owned strings. */
typedef struct gr_strvec {
    char **items;
    size_t len;
    size_t cap;
} gr_strvec_t;

void gr_strvec_push(gr_strvec_t *v, const char *s); /* copies s */
void gr_strvec_push_owned(gr_strvec_t *v, char *s);
__attribute__((format(printf, 2, 3))) void gr_strvec_pushf(gr_strvec_t *v, const char *fmt, ...);
int gr_strvec_contains(const gr_strvec_t *v, const char *s);
void gr_strvec_free(gr_strvec_t *v);

/* Reads the whole file at `path` into *out (NUL-terminated, caller frees),
 * its length in *len.  Returns 0; GR_ERR_IO with the errno in *os_error when
 * it cannot be opened or read; GR_ERR_INVALID when it is larger than
 * max_bytes (0: no limit).  Callers word the error for their users. */
int gr_file_read(const char *path, size_t max_bytes, char **out, size_t *len, int *os_error);

/* Backstage's id rule: ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ */
int gr_id_is_valid(const char *id);

/* Runs fn(arg) on a later turn of the loop (a zero timer): how a call
 * answers without calling back from inside itself.  Loop thread only. */
struct uv_loop_s;
void gr_loop_defer(struct uv_loop_s *loop, void (*fn)(void *arg), void *arg);

/* FNV-1a, 64 bits: the hash of the project's in-memory tables (not for
 * anything an attacker chooses to collide).  gr_hash_update continues a
 * hash over more bytes, starting from GR_HASH_INIT. */
#define GR_HASH_INIT 14695981039346656037ull
uint64_t gr_hash_update(uint64_t hash, const void *data, size_t len);
uint64_t gr_hash_string(const char *s);

/* The value of a hexadecimal digit (either case), or -1. */
int gr_hex_value(char c);

/* Decodes base64 in either alphabet (standard "+/" or URL-safe "-_"),
 * skipping ASCII white space (GitHub wraps its blobs at 60 columns), with
 * padding optional but, when present, complete and last.  Returns a new
 * string with a NUL after the decoded bytes (their count in *out_len, which
 * may be NULL), or NULL when the text is not base64: a character outside
 * the alphabets, data after padding, a length no encoder produces, or
 * leftover bits that are not zero. */
char *gr_base64_decode(const char *text, size_t len, size_t *out_len);

/* Milliseconds on a monotonic clock. */
uint64_t gr_now_ms(void);

#endif
