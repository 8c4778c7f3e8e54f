/* tests/unit/support/file_text.h: reading back what code under test wrote to
 * a FILE, such as a logger's output in a tmpfile(). */
#ifndef GR_TEST_FILE_TEXT_H
#define GR_TEST_FILE_TEXT_H

#include <stdio.h>

/* Everything written to f so far, NUL-terminated (caller frees).  f is left
 * at its end, so the code under test goes on appending. */
char *gr_test_file_text(FILE *f);

#endif
