/* modules/kafka-topology/kafka_load.c: reading topology files from disk,
 * for the directory source, the tests and the benchmark.  Everything here
 * blocks: call it off the loop. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "kafka_internal.h"

/* A topology file this large is a mistake; reading it whole would only
 * waste memory. */
#define KAFKA__MAX_FILE_BYTES (64u * 1024u * 1024u)
/* Deeper than this, a directory tree is a loop or a mistake. */
#define KAFKA__MAX_DEPTH 32

char *kafka_read_disk(void *user_data, const char *path, size_t *len, gr_error_t *err)
{
    (void)user_data;
    char *data;
    int os_error;
    int rc = gr_file_read(path, KAFKA__MAX_FILE_BYTES, &data, len, &os_error);
    if (rc == GR_ERR_INVALID)
        gr_error_set(err, GR_ERR_INVALID,
                     "%s is larger than %u bytes, which is not a topology file", path,
                     KAFKA__MAX_FILE_BYTES);
    else if (rc != 0)
        gr_error_set(err, GR_ERR_IO, "cannot read %s: %s", path, strerror(os_error));
    return rc == 0 ? data : NULL;
}

static int kafka__wanted(const char *name)
{
    size_t n = strlen(name);
    static const char *const exts[] = {".yaml", ".yml", ".json"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t m = strlen(exts[i]);
        if (n > m && strcasecmp(name + n - m, exts[i]) == 0)
            return 1;
    }
    return 0;
}

static void kafka__load_file(kafka_topology_t *t, const char *path, kafka_format_t format)
{
    gr_error_t err = {0};
    size_t len = 0;
    char *data = kafka_read_disk(NULL, path, &len, &err);
    if (!data) {
        /* The file is not in the set, so its path lives nowhere else. */
        kafka__problem(t, (kafka_pos_t){kafka__strdup(&t->impl->arena, path), 0, 0},
                       KAFKA_SEVERITY_ERROR, KAFKA_CHECK_READ, "%s", err.message);
        return;
    }
    kafka_topology_add(t, path, data, len, format);
    free(data);
}

static int kafka__name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void kafka__load_dir(kafka_topology_t *t, const char *dir, kafka_format_t format, int depth)
{
    struct dirent **entries = NULL;
    int n = scandir(dir, &entries, NULL, kafka__name_cmp);
    if (n < 0) {
        kafka__problem(t, (kafka_pos_t){kafka__strdup(&t->impl->arena, dir), 0, 0},
                       KAFKA_SEVERITY_ERROR, KAFKA_CHECK_READ, "cannot list %s: %s", dir,
                       strerror(errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = entries[i]->d_name;
        if (name[0] == '.')
            continue;
        char *path = gr_xasprintf("%s/%s", dir, name);
        struct stat st;
        /* lstat: a symbolic link to a directory could lead back up the
         * tree; links to files are read. */
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (depth < KAFKA__MAX_DEPTH)
                kafka__load_dir(t, path, format, depth + 1);
        } else if (kafka__wanted(name) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            kafka__load_file(t, path, format);
        }
        free(path);
    }
    for (int i = 0; i < n; i++)
        free(entries[i]);
    free(entries);
}

int kafka_topology_load(kafka_topology_t *t, const char *path, kafka_format_t format,
                        gr_error_t *err)
{
    if (t->impl->finished)
        return gr_error_set(err, GR_ERR_CONFLICT,
                            "kafka-topology: the topology is finished; load files before "
                            "kafka_topology_finish");
    struct stat st;
    if (stat(path, &st) != 0)
        return gr_error_set(err, GR_ERR_IO, "kafka-topology: cannot read %s: %s", path,
                            strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/')
            len--;
        char *dir = gr_xstrndup(path, len);
        kafka__load_dir(t, dir, format, 0);
        free(dir);
    } else {
        kafka__load_file(t, path, format);
    }
    return 0;
}

void kafka_topology_report(kafka_topology_t *t, const char *path, uint32_t line,
                           kafka_severity_t severity, const char *check, const char *message)
{
    kafka_pos_t pos = {path ? kafka__strdup(&t->impl->arena, path) : NULL, line, line ? 1 : 0};
    kafka__problem(t, pos, severity, check, "%s", message);
}
