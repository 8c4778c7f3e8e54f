/* modules/catalog-provider-central-config/files.c: walking a source's
 * directory and reading its files.  Blocking: worker threads only.
 *
 * Files are listed in sorted path order, so what a module builds from them
 * (and which of two definitions wins) never depends on the file system's
 * order. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_source.h"

void cc_errors_add(cc_file_error_t **errors, size_t *n, const char *path, uint32_t line,
                   uint32_t column, const char *message)
{
    *errors = gr_xrealloc(*errors, (*n + 1) * sizeof **errors);
    (*errors)[(*n)++] = (cc_file_error_t){gr_xstrdup(path), line, column, gr_xstrdup(message)};
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(const char *root, const char *rel, gr_strvec_t *out, cc_file_error_t **errors,
                 size_t *nerrors)
{
    char *dir_path = *rel ? gr_xasprintf("%s/%s", root, rel) : gr_xstrdup(root);
    DIR *dir = opendir(dir_path);
    if (!dir) {
        char *msg = gr_xasprintf("cannot read the directory: %s", strerror(errno));
        cc_errors_add(errors, nerrors, *rel ? rel : ".", 0, 0, msg);
        free(msg);
        free(dir_path);
        return;
    }
    gr_strvec_t names = {0};
    for (struct dirent *d; (d = readdir(dir));) {
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
            strcmp(d->d_name, ".git") == 0)
            continue;
        gr_strvec_push(&names, d->d_name);
    }
    closedir(dir);
    if (names.len)
        qsort(names.items, names.len, sizeof *names.items, cmp_str);
    for (size_t i = 0; i < names.len; i++) {
        char *child =
            *rel ? gr_xasprintf("%s/%s", rel, names.items[i]) : gr_xstrdup(names.items[i]);
        char *full = gr_xasprintf("%s/%s", root, child);
        struct stat lst, st;
        if (lstat(full, &lst) == 0) {
            if (S_ISDIR(lst.st_mode))
                walk(root, child, out, errors, nerrors);
            else if (S_ISREG(lst.st_mode) ||
                     (S_ISLNK(lst.st_mode) && stat(full, &st) == 0 && S_ISREG(st.st_mode)))
                gr_strvec_push(out, child);
        }
        free(full);
        free(child);
    }
    gr_strvec_free(&names);
    free(dir_path);
}

void cc_tree_walk(const char *root, gr_strvec_t *out, cc_file_error_t **errors, size_t *nerrors)
{
    walk(root, "", out, errors, nerrors);
}

char *cc_read_file(const char *path, size_t max, size_t *len, char **why)
{
    char *data = NULL;
    int os_error = 0;
    int rc = gr_file_read(path, max, &data, len, &os_error);
    if (rc == GR_ERR_INVALID)
        *why = gr_xasprintf("the file is larger than the %zu bytes allowed (maxFileBytes)", max);
    else if (rc != 0)
        *why = gr_xasprintf("cannot read the file: %s", strerror(os_error));
    return rc == 0 ? data : NULL;
}
