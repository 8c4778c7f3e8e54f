/* modules/catalog-provider-central-config/files.c: walking a source's
 * directory and reading its files.  Blocking: worker threads only.
 *
 * Files are listed in sorted path order, so what a module builds from them
 * (and which of two definitions wins) never depends on the file system's
 * order. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *why = gr_xasprintf("cannot open the file: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size > max) {
        *why = fstat(fd, &st) != 0
                   ? gr_xasprintf("cannot read the file: %s", strerror(errno))
                   : gr_xasprintf("the file has %lld bytes, more than the %zu allowed "
                                  "(maxFileBytes)",
                                  (long long)st.st_size, max);
        close(fd);
        return NULL;
    }
    char *data = gr_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    data[got] = '\0';
    *len = got;
    return data;
}
