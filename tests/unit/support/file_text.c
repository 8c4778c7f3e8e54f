/* tests/unit/support/file_text.c: see file_text.h. */
#include "file_text.h"

#include "util.h"

char *gr_test_file_text(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *text = gr_xcalloc(1, (size_t)n + 1);
    rewind(f);
    size_t got = fread(text, 1, (size_t)n, f);
    text[got] = '\0';
    fseek(f, 0, SEEK_END);
    return text;
}
