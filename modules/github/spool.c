/* spool.c: where verified deliveries wait while PostgreSQL is unreachable.
 *
 * GitHub does not send a failed delivery again by itself, so a webhook that
 * arrives while the database is down is written to the local disk before it
 * is acknowledged, and moved into the database when that returns.
 *
 * One file per delivery, named after its delivery id, in
 * <state_dir>/github/webhook-spool/.  It is written under a temporary name,
 * fsynced, linked to its final name (link fails on an existing name, which
 * is how a redelivery while spooled is recognised) and the directory is
 * fsynced: a final name always holds a complete record, a crash can only
 * leave a temporary file behind, and writers and the importer never
 * coordinate.  A record is a small text header, then the payload bytes:
 *
 *     greenroom-webhook 1\n<event>\n<received, ms since 1970>\n<payload length>\n<payload>
 *
 * Files and directory calls block, so they all run on the thread pool. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "github_internal.h"

#define SPOOL_MAGIC "greenroom-webhook 1\n"
#define SPOOL_SUFFIX ".delivery"
#define SPOOL_REJECTED_SUFFIX ".rejected"
#define SPOOL_TMP_PREFIX ".tmp-"
/* Per import run, so one run's payloads stay a bounded amount of memory. */
#define SPOOL_IMPORT_FILES 64
#define SPOOL_IMPORT_BYTES ((size_t)64 * 1024 * 1024)
/* A temporary file this old belongs to a write that died with its host. */
#define SPOOL_TMP_STALE_SECONDS 3600

static int mkdir_one(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Creates the spool directory and its parent when missing. */
static int spool_mkdir(const char *dir, char *error, size_t error_len)
{
    char *parent = gr_xstrdup(dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    int rc = mkdir_one(parent) == 0 && mkdir_one(dir) == 0 ? 0 : -1;
    if (rc < 0)
        snprintf(error, error_len, "cannot create the spool directory %s: %s", dir,
                 strerror(errno));
    free(parent);
    return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* ---- writing --------------------------------------------------------------- */

typedef struct spool_job {
    github_plugin_t *gh;
    char *dir;
    char *tmp_path, *final_path;
    char *header;
    const char *text; /* borrowed: the request is answered only after done */
    size_t len;
    github_spool_result_t result;
    char error[300];
    github_spool_cb cb;
    void *user_data;
} spool_job_t;

static void spool_write_work(void *user_data)
{
    spool_job_t *job = user_data;
    job->result = GITHUB_SPOOL_FAILED;
    if (spool_mkdir(job->dir, job->error, sizeof job->error) < 0)
        return;
    int fd = open(job->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(job->error, sizeof job->error, "cannot create %s: %s", job->tmp_path,
                 strerror(errno));
        return;
    }
    int ok = write_all(fd, job->header, strlen(job->header)) == 0 &&
             write_all(fd, job->text, job->len) == 0 && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        snprintf(job->error, sizeof job->error, "cannot write %s: %s", job->tmp_path,
                 strerror(saved));
        unlink(job->tmp_path);
        return;
    }
    if (link(job->tmp_path, job->final_path) < 0) {
        saved = errno;
        unlink(job->tmp_path);
        if (saved == EEXIST) {
            job->result = GITHUB_SPOOL_DUPLICATE;
        } else {
            snprintf(job->error, sizeof job->error, "cannot create %s: %s", job->final_path,
                     strerror(saved));
        }
        return;
    }
    unlink(job->tmp_path);
    /* The new name is durable only once the directory is. */
    if (fsync_dir(job->dir) < 0) {
        snprintf(job->error, sizeof job->error, "cannot fsync %s: %s", job->dir, strerror(errno));
        unlink(job->final_path);
        return;
    }
    job->result = GITHUB_SPOOL_WRITTEN;
}

static void spool_job_free(spool_job_t *job)
{
    free(job->dir);
    free(job->tmp_path);
    free(job->final_path);
    free(job->header);
    free(job);
}

static void spool_write_done(void *user_data, int status)
{
    spool_job_t *job = user_data;
    if (status != 0) {
        job->result = GITHUB_SPOOL_FAILED;
        snprintf(job->error, sizeof job->error, "the host is shutting down");
    }
    if (job->result == GITHUB_SPOOL_WRITTEN) {
        job->gh->spool_maybe_nonempty = 1;
        job->gh->spool_generation++;
    }
    job->cb(job->result, job->error, job->user_data);
    spool_job_free(job);
}

void github_spool_write(github_plugin_t *gh, const char *delivery_id, const char *event,
                        int64_t received_epoch_ms, const char *json_text, size_t json_len,
                        github_spool_cb cb, void *user_data)
{
    static unsigned long seq;
    if (!gh->spool_dir) {
        cb(GITHUB_SPOOL_FAILED, "the host gave the plugin no state directory to spool to",
           user_data);
        return;
    }
    spool_job_t *job = gr_xcalloc(1, sizeof *job);
    job->gh = gh;
    job->dir = gr_xstrdup(gh->spool_dir);
    job->tmp_path = gr_xasprintf("%s/" SPOOL_TMP_PREFIX "%s-%ld-%lu", gh->spool_dir, delivery_id,
                                 (long)getpid(), ++seq);
    job->final_path = gr_xasprintf("%s/%s" SPOOL_SUFFIX, gh->spool_dir, delivery_id);
    job->header =
        gr_xasprintf(SPOOL_MAGIC "%s\n%lld\n%zu\n", event, (long long)received_epoch_ms, json_len);
    job->text = json_text;
    job->len = json_len;
    job->cb = cb;
    job->user_data = user_data;
    gr_error_t err = {0};
    if (gr_work_submit(gh->ctx, spool_write_work, spool_write_done, job, &err) != 0) {
        cb(GITHUB_SPOOL_FAILED, err.message, user_data);
        spool_job_free(job);
    }
}

/* ---- importing -------------------------------------------------------------- */

typedef struct spool_record {
    char *file;        /* the file name in the spool directory */
    char *delivery_id; /* the name without its suffix */
    char *event;
    int64_t received;
    char *text;
    size_t len;
    int bad; /* unreadable: set aside for the operator */
    github_payload_t payload;
    int outcome; /* 1: stored or duplicate, remove; 2: refused, set aside */
} spool_record_t;

typedef struct import_run {
    github_plugin_t *gh;
    gr_task_t *task;
    char *dir;
    spool_record_t *recs;
    size_t nrecs, cap;
    size_t next; /* the record being imported */
    int more;    /* files were left for the next run */
    unsigned long generation;
    size_t imported, duplicates, refused;
    int db_down;
    char error[300];
} import_run_t;

/* Reads "greenroom-webhook 1\nevent\nreceived\nlen\n" then len bytes. */
static int record_read(const char *path, spool_record_t *r)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char magic[32], event[128], received[32], len[32];
    int ok = fgets(magic, sizeof magic, f) && strcmp(magic, SPOOL_MAGIC) == 0 &&
             fgets(event, sizeof event, f) && fgets(received, sizeof received, f) &&
             fgets(len, sizeof len, f);
    if (ok) {
        event[strcspn(event, "\n")] = '\0';
        char *end;
        r->received = strtoll(received, &end, 10);
        ok = *end == '\n' && event[0];
        unsigned long long n = strtoull(len, &end, 10);
        ok = ok && *end == '\n' && n <= ((size_t)1 << 31);
        if (ok) {
            r->len = (size_t)n;
            r->text = gr_xmalloc(r->len + 1);
            ok = fread(r->text, 1, r->len, f) == r->len && fgetc(f) == EOF;
            r->text[r->len] = '\0';
        }
    }
    fclose(f);
    if (ok)
        r->event = gr_xstrdup(event);
    return ok ? 0 : -1;
}

static void import_scan_work(void *user_data)
{
    import_run_t *run = user_data;
    DIR *d = opendir(run->dir);
    if (!d) {
        if (errno != ENOENT)
            snprintf(run->error, sizeof run->error, "cannot read the spool directory %s: %s",
                     run->dir, strerror(errno));
        return;
    }
    size_t bytes = 0;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t n = strlen(name);
        if (strncmp(name, SPOOL_TMP_PREFIX, strlen(SPOOL_TMP_PREFIX)) == 0) {
            char *path = gr_xasprintf("%s/%s", run->dir, name);
            struct stat st;
            if (stat(path, &st) == 0 && now - st.st_mtime > SPOOL_TMP_STALE_SECONDS)
                unlink(path);
            free(path);
            continue;
        }
        size_t sl = strlen(SPOOL_SUFFIX);
        if (name[0] == '.' || n <= sl || strcmp(name + n - sl, SPOOL_SUFFIX) != 0)
            continue;
        if (run->nrecs >= SPOOL_IMPORT_FILES || bytes >= SPOOL_IMPORT_BYTES) {
            run->more = 1;
            break;
        }
        if (run->nrecs == run->cap) {
            run->cap = run->cap ? run->cap * 2 : 16;
            run->recs = gr_xrealloc(run->recs, run->cap * sizeof *run->recs);
        }
        spool_record_t *r = &run->recs[run->nrecs++];
        memset(r, 0, sizeof *r);
        r->file = gr_xstrdup(name);
        r->delivery_id = gr_xstrndup(name, n - sl);
        char *path = gr_xasprintf("%s/%s", run->dir, name);
        if (record_read(path, r) < 0)
            r->bad = 1;
        free(path);
        bytes += r->len;
    }
    closedir(d);
}

/* Removes what was imported and sets aside what was refused. */
static void import_finish_work(void *user_data)
{
    import_run_t *run = user_data;
    int changed = 0;
    for (size_t i = 0; i < run->nrecs; i++) {
        spool_record_t *r = &run->recs[i];
        char *path = gr_xasprintf("%s/%s", run->dir, r->file);
        if (r->outcome == 1) {
            changed |= unlink(path) == 0;
        } else if (r->outcome == 2) {
            char *aside = gr_xasprintf("%s/%s" SPOOL_REJECTED_SUFFIX, run->dir, r->file);
            changed |= rename(path, aside) == 0;
            free(aside);
        }
        free(path);
    }
    if (changed)
        fsync_dir(run->dir);
}

static void import_run_free(import_run_t *run)
{
    for (size_t i = 0; i < run->nrecs; i++) {
        spool_record_t *r = &run->recs[i];
        github_payload_clear(&r->payload);
        free(r->file);
        free(r->delivery_id);
        free(r->event);
        free(r->text);
    }
    free(run->recs);
    free(run->dir);
    free(run);
}

static void import_finished(void *user_data, int status)
{
    import_run_t *run = user_data;
    github_plugin_t *gh = run->gh;
    (void)status; /* a cancelled clean-up is redone by the next run: imports are idempotent */
    if (run->imported || run->duplicates || run->refused)
        gr_log_info(gh->ctx->log,
                    "webhooks: moved %zu spooled delivery(ies) into the database (%zu already "
                    "there, %zu refused and set aside as *" SPOOL_REJECTED_SUFFIX ")",
                    run->imported, run->duplicates, run->refused);
    int more = run->more && !run->db_down;
    /* A database still away is not this task's failure (the pool logs it);
     * the spooled files wait for the next run. */
    gr_task_done(run->task, 0, NULL);
    if (more && !gh->stopping)
        gr_scheduler_trigger(gh->ctx->scheduler, "spool-import", NULL);
    import_run_free(run);
    github_unref(gh);
}

static void import_next(import_run_t *run);

static void import_step_done(import_run_t *run)
{
    run->next++;
    import_next(run);
}

static void on_record_stored(github_store_result_t result, int64_t row_id, const gr_db_error_t *err,
                             void *user_data)
{
    import_run_t *run = user_data;
    github_plugin_t *gh = run->gh;
    spool_record_t *r = &run->recs[run->next];
    switch (result) {
    case GITHUB_STORED: {
        r->outcome = 1;
        run->imported++;
        gr_strvec_t subs = {0};
        github_dispatch_match(gh, r->event, r->payload.action, &subs);
        for (size_t i = 0; r->payload.json && i < subs.len; i++)
            github_dispatch(gh, row_id, r->delivery_id, r->event, r->payload.action,
                            r->payload.json, subs.items[i], 1);
        gr_strvec_free(&subs);
        break;
    }
    case GITHUB_DUPLICATE:
        r->outcome = 1;
        run->duplicates++;
        break;
    case GITHUB_DB_DOWN: run->db_down = 1; break;
    case GITHUB_DB_ERROR:
        r->outcome = 2;
        run->refused++;
        gr_log_error(gh->ctx->log, "webhooks: the database refused spooled delivery %s: %s",
                     r->delivery_id, err ? err->message : "unexpected answer");
        break;
    }
    import_step_done(run);
}

static void on_record_parsed(github_payload_t *p, void *user_data)
{
    import_run_t *run = user_data;
    github_plugin_t *gh = run->gh;
    spool_record_t *r = &run->recs[run->next];
    if (p->verify_status == GR_ERR_CANCELED || gh->stopping) {
        run->db_down = 1; /* stop here; the files stay for the next start */
        import_next(run);
        return;
    }
    if (!p->valid) {
        r->outcome = 2;
        run->refused++;
        gr_log_error(gh->ctx->log, "webhooks: spooled delivery %s cannot be imported: %s",
                     r->delivery_id, p->error);
        import_step_done(run);
        return;
    }
    gr_strvec_t subs = {0};
    github_dispatch_match(gh, r->event, p->action, &subs);
    github_store_insert(gh, r->delivery_id, r->event, p->action, p->json_text, p->json_len,
                        r->received, 1, &subs, on_record_stored, run);
    gr_strvec_free(&subs);
}

/* Imports the records one after the other, then cleans up on the pool. */
static void import_next(import_run_t *run)
{
    github_plugin_t *gh = run->gh;
    while (!run->db_down && !gh->stopping && run->next < run->nrecs) {
        spool_record_t *r = &run->recs[run->next];
        if (!r->bad) {
            r->payload.body = r->text;
            r->payload.len = r->len;
            r->payload.want_tree = github_dispatch_wants(gh, r->event);
            gr_error_t err = {0};
            if (github_payload_process(gh, &r->payload, on_record_parsed, run, &err) == 0)
                return; /* on_record_parsed goes on */
            run->db_down = 1;
            break;
        }
        r->outcome = 2;
        run->refused++;
        gr_log_error(gh->ctx->log, "webhooks: spool file %s/%s is not a complete record; set aside",
                     run->dir, r->file);
        run->next++;
    }
    gr_error_t err = {0};
    if (gr_work_submit(gh->ctx, import_finish_work, import_finished, run, &err) != 0)
        import_finished(run, GR_ERR_CANCELED);
}

static void import_scanned(void *user_data, int status)
{
    import_run_t *run = user_data;
    github_plugin_t *gh = run->gh;
    if (status != 0 || run->error[0]) {
        gr_task_done(run->task, status ? status : GR_ERR_IO,
                     run->error[0] ? run->error : "the host is shutting down");
        import_run_free(run);
        github_unref(gh);
        return;
    }
    /* Nothing there, and nothing spooled since the scan began: the next
     * runs need not look until something is spooled. */
    if (run->nrecs == 0 && run->generation == gh->spool_generation)
        gh->spool_maybe_nonempty = 0;
    import_next(run);
}

void github_spool_import_task(gr_task_t *task, void *user_data)
{
    github_plugin_t *gh = user_data;
    if (!gh->spool_dir || !gh->spool_maybe_nonempty || gh->stopping) {
        gr_task_done(task, 0, NULL);
        return;
    }
    import_run_t *run = gr_xcalloc(1, sizeof *run);
    run->gh = gh;
    run->task = task;
    run->dir = gr_xstrdup(gh->spool_dir);
    run->generation = gh->spool_generation;
    github_ref(gh);
    gr_error_t err = {0};
    if (gr_work_submit(gh->ctx, import_scan_work, import_scanned, run, &err) != 0) {
        gr_task_done(task, err.code, err.message);
        import_run_free(run);
        github_unref(gh);
    }
}
