/* modules/catalog-provider-central-config/config_source.h: a repository of
 * config files as a local directory, shared by every module that reads one
 * (the central-config entity provider, the kafka-topology plugin).
 *
 * The static library config_source holds:
 *
 *   sources (source_*.c)  make the repository's files available in a local
 *                         directory, on the loop: the directory itself
 *                         (directory), a shallow clone kept under the
 *                         module's state directory (git), or a mirror of
 *                         the files it reads from a GitHub repository,
 *                         fetched through the host's GitHub client
 *                         (github; github_mirror.c keeps it on disk);
 *   config (source.c,     the schema of a `source:` section and the code
 *   source_config.c)      that builds a source from it, so every module
 *                         takes the same shape: {type: directory|git|github,
 *                         path, url, branch, repo}; and the keys that go
 *                         with it: include/exclude globs, schedule;
 *   syncs (source_sync.c, a source synced on a schedule: the run from the
 *   source_sync.h)        scheduler's start through the fetch to the
 *                         owner's work on the thread pool and its status;
 *   files (files.c,       walking the directory in sorted order, reading a
 *   glob.c)               file with a size limit, and the include/exclude
 *                         globs.  These are pure: no host calls, safe on
 *                         worker threads.
 *
 * A module embeds a cc_source_t, fills it with cc_source_init() from its
 * config node, and a cc_sync_t (source_sync.h) that fetches the source at
 * the start of each sync and hands the module the directory to read (on
 * the thread pool); cc_source_free() at the end. */
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

/* ---- what a module reads ------------------------------------------------------------ */

/* The files of the repository a module reads, for a source that copies
 * only those (github): a file an include glob selects and no exclude glob
 * drops, and the files their $text/$json/$yaml/$openapi/$asyncapi
 * placeholders name.  Files over max_file_bytes are not read. */
typedef struct cc_selection {
    gr_strvec_t include;
    gr_strvec_t exclude;
    size_t max_file_bytes;
} cc_selection_t;

void cc_selection_free(cc_selection_t *s);

/* 1 when the selection reads path (not its placeholders' targets). */
int cc_selection_matches(const cc_selection_t *s, const char *path);

/* ---- the GitHub source's mirror on disk (github_mirror.c) ------------------------------ */

/* The github source (source_github.c) keeps a copy of the files it needs
 * under its work directory, in github/:
 *
 *   tree/          the files, at their paths in the repository: the scan's root;
 *   manifest.json  {"commit": sha, "files": {path: blob sha}} of what tree/
 *                  holds, so the next commit only fetches blobs that changed;
 *   tmp/           blobs being written (renamed into tree/ when complete).
 *
 * These functions do the blocking half (parsing GitHub's answers, files,
 * the manifest) on the thread pool; the source does the requests. */

typedef enum cc_want {
    CC_WANT_NONE = 0,
    CC_WANT_MATCHED,   /* the selection's globs select it */
    CC_WANT_REFERENCED /* a $text/$json/$yaml/... placeholder of a matched file names it */
} cc_want_t;

typedef struct cc_mirror_entry {
    char *path;              /* relative to the repository's root */
    char sha[65];            /* the git object id, hex */
    uint64_t size;           /* blobs: bytes */
    unsigned char is_tree;   /* a directory, when the tree is walked level by level */
    unsigned char wanted;    /* a cc_want_t */
    unsigned char fetch;     /* its blob must be fetched (first of the entries sharing a sha) */
    unsigned char oversized; /* over maxFileBytes: a sparse stand-in of its size is written */
    unsigned char ready;     /* tree/ holds it already (before this run's fetches) */
    size_t same_sha;         /* the next entry to write from the same blob, or SIZE_MAX */
} cc_mirror_entry_t;

typedef struct cc_mirror_tree {
    cc_mirror_entry_t *entries;
    size_t n, cap;
    int truncated;  /* GitHub left entries out (recursive listing over its limit) */
    size_t skipped; /* symbolic links, submodules and unsafe paths left out */
} cc_mirror_tree_t;

/* Appends the entries of a GET /repos/{o}/{r}/git/trees/{sha} answer to
 * out, each path prefixed with prefix ("" or "dir/"): regular and
 * executable files, and directories (is_tree) when keep_trees is set.
 * Symbolic links and submodules are left out, as are paths that could
 * leave the mirror ("..", absolute, empty segments).  0, or
 * GR_ERR_INVALID when the answer is not a tree. */
int cc_mirror_tree_parse(const char *json, size_t len, const char *prefix, int keep_trees,
                         cc_mirror_tree_t *out, gr_error_t *err);
void cc_mirror_tree_free(cc_mirror_tree_t *t);

/* The git object id of a blob with these bytes: SHA-1 of "blob <len>\0" + data. */
void cc_git_blob_sha1(const void *data, size_t len, char hex[41]);

/* The targets of the $text, $json, $yaml, $openapi and $asyncapi
 * placeholders in a YAML or JSON file's text, resolved against the file's
 * directory into paths relative to the root (as the scan resolves them);
 * URLs and targets outside the root are left out.  Appended to out.  Read
 * from the text, not parsed: a name too many only costs a fetch. */
void cc_placeholder_targets(const char *file, const char *data, size_t len, gr_strvec_t *out);

typedef struct cc_mirror {
    char *dir;                    /* <work_dir>/github */
    char *root;                   /* dir/tree */
    const cc_selection_t *select; /* what the module reads (borrowed) */
    cc_mirror_tree_t tree;        /* the commit's files, sorted by path */
    struct json_object *manifest; /* the manifest as read by cc_mirror_plan */
    /* What the last step did, for the log. */
    size_t to_fetch; /* blobs (distinct shas) the step marked for fetching */
    size_t removed;  /* files removed from tree/ */
} cc_mirror_t;

/* "dir/manifest.json"'s commit (new string), or NULL when there is no
 * readable manifest; creates dir on the way.  Blocking. */
char *cc_mirror_commit(const cc_mirror_t *m, gr_error_t *err);

/* Sorts the tree, marks what the module reads (wanted) and which blobs
 * must be fetched (not in the manifest with that sha, or the file is
 * missing or has another size), writes sparse stand-ins for oversized
 * files, removes files the commit no longer has, and rewrites the
 * manifest without the paths about to change (so a run that stops half
 * way never leaves a file the manifest vouches for wrongly).  Blocking. */
int cc_mirror_plan(cc_mirror_t *m, gr_error_t *err);

/* Stores one GET .../git/blobs/{sha} answer: decodes it, checks its size
 * and object id against the tree, and writes it to the entry's path and
 * to every other path of the same blob.  Safe on several threads at once
 * for different entries.  Blocking. */
int cc_mirror_store_blob(cc_mirror_t *m, size_t index, const char *json, size_t len,
                         gr_error_t *err);

/* Reads the matched files for placeholders and marks the files they name
 * (wanted CC_WANT_REFERENCED, fetched unless already there).  Blocking. */
void cc_mirror_discover(cc_mirror_t *m);

/* Removes every file of tree/ that is not wanted, and empty directories,
 * then writes the manifest of commit.  Blocking. */
int cc_mirror_finish(cc_mirror_t *m, const char *commit, gr_error_t *err);

void cc_mirror_free(cc_mirror_t *m);

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
    gr_context_t *ctx; /* the owner's: loop, log, thread pool, GitHub client */
    uv_loop_t *loop;
    char *label; /* names the source in log lines: "provider platform-repo" */
    /* An absolute directory the source may write under (a git clone goes
     * in a subdirectory named after its url and branch, a GitHub mirror in
     * github/). */
    char *work_dir;
    /* What the owner reads of the repository (borrowed; set before the
     * first fetch and kept while the source lives). */
    const cc_selection_t *select;
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
 * label names it in log lines; select is what the owner reads (borrowed,
 * it must outlive the source).  0, or an error naming the config
 * position; *src is then left empty (cc_source_free is harmless). */
int cc_source_init(cc_source_t *src, gr_context_t *ctx, const gr_config_t *node,
                   const char *work_dir_rel, const char *label, const cc_selection_t *select,
                   gr_error_t *err);

/* Releases the source (no fetch may be running). */
void cc_source_free(cc_source_t *src);

/* ---- the keys that go with a source (source_config.c) ------------------------------------ */

/* The keys of a `schedule:` section, for a module's config schema:
 *     {.key = "schedule", .type = GR_CONFIG_OBJECT, .fields = cc_schedule_fields} */
extern const gr_config_field_t cc_schedule_fields[];

/* Appends to out a glob or each glob of a list (node is a string or a list
 * of strings); anything else is an error naming its config position. */
int cc_config_globs(const gr_config_t *node, gr_strvec_t *out, gr_error_t *err);

/* Reads section's include (default_include when it has none) and exclude
 * globs into select. */
int cc_selection_config(const gr_config_t *section, const char *default_include,
                        cc_selection_t *select, gr_error_t *err);

/* Reads section's `schedule:` into out, every 30 minutes with a timeout of
 * 5 minutes unless it says otherwise. */
int cc_schedule_config(const gr_config_t *section, gr_schedule_t *out, gr_error_t *err);

/* ---- helpers ------------------------------------------------------------------------------ */

/* A URL with any "user:password@" replaced by "***@" (new string), for logs
 * and status documents. */
char *cc_redact_url(const char *url);

/* A path from config: relative ones are read against the directory of the
 * config file that sets them, then made absolute (new string). */
char *cc_config_path(const gr_config_t *node, const char *value);

/* Milliseconds since the epoch, and as ISO 8601 UTC ("2024-05-01T12:00:00.000Z", new). */
int64_t cc_wall_ms(void);
char *cc_iso_time(int64_t wall_ms);

#endif
