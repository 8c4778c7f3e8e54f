/* modules/catalog-provider-central-config/config_source.h: a repository of
 * config files as a local directory, shared by every module that reads one
 * (the central-config entity provider, the kafka-topology plugin).
 *
 * The static library config_source holds:
 *
 *   sources (source_*.c)  make the repository's files available in a local
 *                         directory, on the loop: the directory itself
 *                         (directory), a shallow clone kept under the
 *                         module's state directory (git), or a mirror of a
 *                         GitHub repository (github, waiting for the host's
 *                         GitHub client);
 *   config (source.c)     the schema of a `source:` section and the code
 *                         that builds a source from it, so every module
 *                         takes the same shape: {type: directory|git|github,
 *                         path, url, branch, repo};
 *   files (files.c,       walking the directory in sorted order, reading a
 *   glob.c)               file with a size limit, and the include/exclude
 *                         globs.  These are pure: no host calls, safe on
 *                         worker threads.
 *
 * A module embeds a cc_source_t, fills it with cc_source_init() from its
 * config node, calls ops->fetch() at the start of each sync and reads the
 * directory it is handed (on the thread pool), and cc_source_free() at the
 * end. */
#ifndef CONFIG_SOURCE_H
#define CONFIG_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <json.h>
#include <uv.h>

#include <greenroom/greenroom.h>

#include "util.h"

/* ---- globs (glob.c) ------------------------------------------------------------ */

/* Matches a path relative to the source root ("teams/a/catalog-info.yaml")
 * against a glob: "*" and "?" stay within one path segment, "**" as a whole
 * segment matches any number of segments (none included), "[abc]" and
 * "[a-z]" ("[!...]" negated) match one character, "{a,b}" either text.
 * Wildcards do not match a leading '.' of a name (hidden files and
 * directories need a pattern that names the dot).  Returns 1 on a match. */
int cc_glob_match(const char *pattern, const char *path);

/* 1 when any glob of the list matches path. */
int cc_globs_match(const gr_strvec_t *globs, const char *path);

/* ---- files (files.c): blocking, for worker threads --------------------------------- */

/* A problem with one file (or one thing in it), shown to people as
 * "path:line:column: message". */
typedef struct cc_file_error {
    char *path;
    uint32_t line;
    uint32_t column;
    char *message;
} cc_file_error_t;

/* Appends an error (copies path and message). */
void cc_errors_add(cc_file_error_t **errors, size_t *n, const char *path, uint32_t line,
                   uint32_t column, const char *message);

/* Appends to `out` the path, relative to root, of every regular file under
 * root, sorted (so results never depend on the file system's order).
 * Symbolic links to files are followed; links to directories are not, so a
 * link cannot loop the walk; .git is never entered.  A directory that
 * cannot be read becomes an error. */
void cc_tree_walk(const char *root, gr_strvec_t *out, cc_file_error_t **errors, size_t *nerrors);

/* Reads a whole file of at most max bytes.  Returns a malloc'd,
 * NUL-terminated buffer and its length, or NULL with *why set to a new
 * sentence. */
char *cc_read_file(const char *path, size_t max, size_t *len, char **why);

/* ---- sources (source_*.c, loop thread) ------------------------------------------ */

typedef struct cc_source cc_source_t;

/* A fetched source: root is the directory to read; revision names what was
 * read (a commit), NULL when the source has none.  Both borrowed for the
 * callback.  status 0 or a gr_status_t with message. */
typedef void (*cc_fetch_done_fn)(cc_source_t *src, int status, const char *message,
                                 const char *root, const char *revision, void *user_data);

typedef struct cc_source_ops {
    const char *type;
    /* Reads the source's config node (with defaults applied). */
    int (*init)(cc_source_t *src, const gr_config_t *node, gr_error_t *err);
    /* Brings the local copy up to date; done runs later on the loop. */
    void (*fetch)(cc_source_t *src, uint64_t timeout_ms, cc_fetch_done_fn done, void *user_data);
    /* Stops a fetch in progress (its done still runs, with GR_ERR_CANCELED). */
    void (*cancel)(cc_source_t *src);
    /* The "file:..." or "url:..." prefix of the location refs of its files. */
    char *(*location_prefix)(cc_source_t *src, const char *root);
    /* Adds what the status shows about the source (type, path or url without
     * credentials, branch) to obj. */
    void (*describe)(cc_source_t *src, struct json_object *obj);
    /* Releases the source's state; called once no fetch is running. */
    void (*free)(cc_source_t *src);
} cc_source_ops_t;

struct cc_source {
    const cc_source_ops_t *ops;
    uv_loop_t *loop;
    /* An absolute directory the source may write under (a git clone goes
     * in a subdirectory named after its url and branch). */
    char *work_dir;
    void *state;
};

extern const cc_source_ops_t cc_source_directory;
extern const cc_source_ops_t cc_source_git;
extern const cc_source_ops_t cc_source_github;

/* The keys of a `source:` section, for a module's config schema:
 *     {.key = "source", .type = GR_CONFIG_OBJECT, .flags = GR_CONFIG_REQUIRED,
 *      .fields = cc_source_fields} */
extern const gr_config_field_t cc_source_fields[];

/* Builds the source that `node` (a `source:` section checked against
 * cc_source_fields) describes.  work_dir_rel is where, under the module's
 * state directory, it may keep files ("central-config/<providerId>");
 * ctx gives the loop and the state directory.  0, or an error naming the
 * config position; *src is then left empty (cc_source_free is harmless). */
int cc_source_init(cc_source_t *src, gr_context_t *ctx, const gr_config_t *node,
                   const char *work_dir_rel, gr_error_t *err);

/* Releases the source (no fetch may be running). */
void cc_source_free(cc_source_t *src);

/* A URL with any "user:password@" replaced by "***@" (new string), for logs
 * and status documents. */
char *cc_redact_url(const char *url);

/* A path from config: relative ones are read against the directory of the
 * config file that sets them, then made absolute (new string). */
char *cc_config_path(const gr_config_t *node, const char *value);

/* Runs fn(arg) on a later turn of the loop: for answers that must not come
 * from inside the call that asked. */
void cc_defer(uv_loop_t *loop, void (*fn)(void *arg), void *arg);

/* Milliseconds since the epoch, and as ISO 8601 UTC ("2024-05-01T12:00:00.000Z", new). */
int64_t cc_wall_ms(void);
char *cc_iso_time(int64_t wall_ms);

#endif
