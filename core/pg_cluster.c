/* core/pg_cluster.c: initdb and postgres as children of the loop (see
 * pg_cluster.h). */
#include "pg_cluster.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

#define GR_PG_DEFAULT_ROOT "/usr/lib/postgresql"
#define GR_PG_PROBE_MS 50
#define GR_PG_RESTART_MIN_MS 250
#define GR_PG_RESTART_MAX_MS 10000
#define GR_PG_STABLE_MS 30000

typedef enum {
    CL_IDLE,
    CL_PREPARING,  /* directory checks in the thread pool */
    CL_WAIT_STALE, /* a server left by an earlier host is shutting down */
    CL_INITDB,
    CL_STARTING, /* postgres spawned; probing the socket */
    CL_RUNNING,
    CL_RESTART_WAIT, /* died unasked; waiting out the back-off */
    CL_STOPPING,
    CL_STOPPED
} cluster_state_t;

/* The thread-pool half of start-up: what it found out. */
typedef struct prep {
    uv_work_t work;
    gr_pg_cluster_t *cluster;
    int status;
    char message[512];
    char *bin_dir;
    int need_initdb;
    int switch_user;
    int use_setpriv;
    uid_t uid;
    gid_t gid;
    int stale_pid;
    int log_fd;
} prep_t;

struct gr_pg_cluster {
    uv_loop_t *loop;
    gr_log_t *log;
    char *base_dir, *data_dir, *tmp_dir, *run_dir, *log_path;
    char *bin_dir_cfg, *search_root, *user;
    int port;
    int ephemeral;
    int restart;
    uint64_t start_timeout_ms;

    cluster_state_t state;
    prep_t *prep;
    char *bin_dir;
    int switch_user, use_setpriv;
    uid_t uid;
    gid_t gid;
    int log_fd;
    int stale_pid;
    char *conninfo;

    uv_process_t *child; /* initdb or postgres, while it runs */
    int child_is_server;
    int pid;
    int restarts;
    uint64_t restart_ms;
    uint64_t started_at;
    uint64_t deadline;

    uv_timer_t timer; /* probe ticks, stale-server polls, restart back-off, stop escalation */
    int stop_signal_stage;

    PGconn *probe;
    uv_poll_t *probe_poll;
    int probe_fd;

    gr_pg_cluster_cb start_cb, stop_cb;
    void *start_ud, *stop_ud;
    int busy_reqs; /* thread-pool work and fs requests still pointing at us */
    int freeing;
};

static void cluster_release(gr_pg_cluster_t *c);

static void spawn_server(gr_pg_cluster_t *c);
static void start_failed(gr_pg_cluster_t *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- small helpers ------------------------------------------------------- */

static void finish_start(gr_pg_cluster_t *c, int status, const gr_error_t *err)
{
    gr_pg_cluster_cb cb = c->start_cb;
    c->start_cb = NULL;
    if (cb)
        cb(c->start_ud, status, err);
}

static void start_failed(gr_pg_cluster_t *c, int code, const char *fmt, ...)
{
    gr_error_t err;
    va_list ap;
    va_start(ap, fmt);
    gr_error_vset(&err, code, fmt, ap);
    va_end(ap);
    c->state = CL_STOPPED;
    uv_timer_stop(&c->timer);
    finish_start(c, code, &err);
}

static void on_probe_poll_closed(uv_handle_t *h)
{
    free(h);
}

static void probe_close(gr_pg_cluster_t *c)
{
    if (c->probe_poll) {
        uv_poll_stop(c->probe_poll);
        uv_close((uv_handle_t *)c->probe_poll, on_probe_poll_closed);
        c->probe_poll = NULL;
    }
    if (c->probe) {
        PQfinish(c->probe);
        c->probe = NULL;
    }
}

/* ---- the thread-pool part: paths, users, directories ---------------------- */

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_server(const char *bin)
{
    char a[PATH_MAX], b[PATH_MAX];
    snprintf(a, sizeof a, "%s/postgres", bin);
    snprintf(b, sizeof b, "%s/initdb", bin);
    return access(a, X_OK) == 0 && access(b, X_OK) == 0;
}

/* The cluster's major version from data/PG_VERSION, or 0. */
static int data_version(const char *data_dir)
{
    char path[PATH_MAX];
    FILE *f;
    int v = 0;
    snprintf(path, sizeof path, "%s/PG_VERSION", data_dir);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%d", &v) != 1)
        v = 0;
    fclose(f);
    return v;
}

static int find_bin_dir(prep_t *p, const gr_pg_cluster_t *c, int want_version)
{
    const char *root = c->search_root ? c->search_root : GR_PG_DEFAULT_ROOT;
    DIR *d;
    struct dirent *e;
    int best = 0;
    char path[PATH_MAX];

    if (c->bin_dir_cfg) {
        if (!has_server(c->bin_dir_cfg)) {
            snprintf(p->message, sizeof p->message,
                     "backend.database.binDir '%s' holds no PostgreSQL server (postgres and "
                     "initdb); point it at a PostgreSQL bin directory",
                     c->bin_dir_cfg);
            return GR_ERR_NOT_FOUND;
        }
        p->bin_dir = gr_xstrdup(c->bin_dir_cfg);
        return 0;
    }
    d = opendir(root);
    while (d && (e = readdir(d))) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end || v <= 0)
            continue;
        snprintf(path, sizeof path, "%s/%s/bin", root, e->d_name);
        if (!has_server(path))
            continue;
        if (want_version ? v == want_version : v > best)
            best = (int)v;
    }
    if (d)
        closedir(d);
    if (!best) {
        if (want_version)
            snprintf(p->message, sizeof p->message,
                     "the embedded cluster in %s was made by PostgreSQL %d, whose server is "
                     "not installed under %s; install the Debian package postgresql-%d",
                     c->data_dir, want_version, root, want_version);
        else
            snprintf(p->message, sizeof p->message,
                     "no PostgreSQL server found under %s/*/bin; install the Debian package "
                     "postgresql (apt-get install postgresql), or set backend.database.binDir, "
                     "or use client: pg with a connection",
                     root);
        return GR_ERR_NOT_FOUND;
    }
    snprintf(path, sizeof path, "%s/%d/bin", root, best);
    p->bin_dir = gr_xstrdup(path);
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int ensure_dir(prep_t *p, const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(p->message, sizeof p->message, "cannot create %s: %s", path, strerror(errno));
        return GR_ERR_IO;
    }
    if (p->switch_user && chown(path, p->uid, p->gid) != 0) {
        snprintf(p->message, sizeof p->message, "cannot hand %s to uid %d: %s", path, (int)p->uid,
                 strerror(errno));
        return GR_ERR_IO;
    }
    return 0;
}

/* Creates every missing directory of path (like mkdir -p): 0700, or 0711
 * when the server runs as another user, who must pass through them. */
static int make_parents(prep_t *p, const char *path)
{
    char buf[PATH_MAX];
    mode_t mode = p->switch_user ? 0711 : 0700;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST) {
            snprintf(p->message, sizeof p->message, "cannot create %.400s: %s", buf,
                     strerror(errno));
            return GR_ERR_IO;
        }
        *s = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
        snprintf(p->message, sizeof p->message, "cannot create %.400s: %s", buf, strerror(errno));
        return GR_ERR_IO;
    }
    return 0;
}

/* The server's user must reach base_dir: the directory holding it (the
 * host's state directory) gets search permission for others, which lets
 * nobody list or read it; any higher directory that lacks it is an error. */
static int check_reachable(prep_t *p, const char *base_dir)
{
    char buf[PATH_MAX];
    char *slash;
    struct stat st;
    int first = 1;
    if (!realpath(base_dir, buf)) {
        snprintf(p->message, sizeof p->message, "cannot resolve %s: %s", base_dir, strerror(errno));
        return GR_ERR_IO;
    }
    while ((slash = strrchr(buf, '/')) != NULL) {
        if (slash == buf)
            slash[1] = '\0';
        else
            *slash = '\0';
        if (stat(buf, &st) != 0)
            break;
        if (st.st_uid != p->uid && !(st.st_mode & S_IXOTH)) {
            if (first && chmod(buf, (st.st_mode & 07777) | S_IXOTH) == 0) {
                first = 0;
                if (strcmp(buf, "/") == 0)
                    break;
                continue;
            }
            snprintf(p->message, sizeof p->message,
                     "directory %.180s is not searchable by the PostgreSQL user (uid %d); "
                     "run chmod o+x %.180s, or choose a state directory it can reach",
                     buf, (int)p->uid, buf);
            return GR_ERR_IO;
        }
        first = 0;
        if (strcmp(buf, "/") == 0)
            break;
    }
    return 0;
}

/* A postmaster.pid naming a live postgres: a server an earlier host left. */
static int stale_server(const char *data_dir)
{
    char path[PATH_MAX], cmd[256];
    FILE *f;
    int pid = 0;
    size_t n;
    snprintf(path, sizeof path, "%s/postmaster.pid", data_dir);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM))
        return 0;
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    n = fread(cmd, 1, sizeof cmd - 1, f);
    fclose(f);
    cmd[n] = '\0';
    return strstr(cmd, "postgres") ? pid : 0;
}

static void prep_work(uv_work_t *w)
{
    prep_t *p = w->data;
    gr_pg_cluster_t *c = p->cluster;
    struct stat st;
    int version;

    p->log_fd = -1;
    if (geteuid() == 0) {
        struct passwd pw, *found = NULL;
        char buf[4096];
        getpwnam_r(c->user, &pw, buf, sizeof buf, &found);
        if (!found) {
            snprintf(p->message, sizeof p->message,
                     "PostgreSQL refuses to run as root, and user '%s' to run it as does not "
                     "exist; install the Debian package postgresql (it creates that user)",
                     c->user);
            p->status = GR_ERR_NOT_FOUND;
            return;
        }
        p->switch_user = 1;
        p->uid = pw.pw_uid;
        p->gid = pw.pw_gid;
    } else {
        p->uid = geteuid();
        p->gid = getegid();
    }
    p->use_setpriv = access("/usr/bin/setpriv", X_OK) == 0;

    if ((p->status = make_parents(p, c->base_dir)) != 0 ||
        (p->status = ensure_dir(p, c->base_dir)) != 0)
        return;
    if (p->switch_user && (p->status = check_reachable(p, c->base_dir)) != 0)
        return;

    version = data_version(c->data_dir);
    if ((p->status = find_bin_dir(p, c, version)) != 0)
        return;
    p->need_initdb = version == 0;
    if (p->need_initdb && is_dir(c->data_dir)) {
        snprintf(p->message, sizeof p->message,
                 "%s exists but holds no PostgreSQL cluster (no PG_VERSION); move it away",
                 c->data_dir);
        p->status = GR_ERR_CONFLICT;
        return;
    }
    if (!p->need_initdb && stat(c->data_dir, &st) == 0 && st.st_uid != p->uid) {
        snprintf(p->message, sizeof p->message,
                 "%s belongs to uid %d but the server runs as uid %d; chown -R it", c->data_dir,
                 (int)st.st_uid, (int)p->uid);
        p->status = GR_ERR_CONFLICT;
        return;
    }
    /* A half-made cluster from an interrupted initdb is thrown away. */
    if (p->need_initdb && is_dir(c->tmp_dir) &&
        nftw(c->tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        snprintf(p->message, sizeof p->message, "cannot remove %s: %s", c->tmp_dir,
                 strerror(errno));
        p->status = GR_ERR_IO;
        return;
    }
    if ((p->status = ensure_dir(p, c->run_dir)) != 0)
        return;
    if (!p->need_initdb)
        p->stale_pid = stale_server(c->data_dir);

    p->log_fd = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (p->log_fd < 0 || (p->switch_user && fchown(p->log_fd, p->uid, p->gid) != 0)) {
        snprintf(p->message, sizeof p->message, "cannot open %s: %s", c->log_path, strerror(errno));
        p->status = GR_ERR_IO;
        return;
    }
}

/* ---- children ------------------------------------------------------------ */

static void on_child_closed(uv_handle_t *h)
{
    free(h);
}

static void on_child_exit(uv_process_t *proc, int64_t status, int signal);

/* Spawns bin/<program> args... as the server's user. */
static int spawn(gr_pg_cluster_t *c, const char *program, char **args, gr_error_t *err)
{
    char *argv[48];
    char path[PATH_MAX];
    char reuid[32], regid[32];
    size_t n = 0;
    uv_process_options_t o;
    uv_stdio_container_t stdio[3];
    int r;

    snprintf(path, sizeof path, "%s/%s", c->bin_dir, program);
    if (c->use_setpriv) {
        argv[n++] = "/usr/bin/setpriv";
        if (c->switch_user) {
            snprintf(reuid, sizeof reuid, "--reuid=%d", (int)c->uid);
            snprintf(regid, sizeof regid, "--regid=%d", (int)c->gid);
            argv[n++] = reuid;
            argv[n++] = regid;
            argv[n++] = "--init-groups";
        }
        argv[n++] = "--pdeathsig=SIGINT";
    }
    argv[n++] = path;
    for (size_t i = 0; args[i] && n < 47; i++)
        argv[n++] = args[i];
    argv[n] = NULL;

    memset(&o, 0, sizeof o);
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_INHERIT_FD;
    stdio[1].data.fd = c->log_fd;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = c->log_fd;
    o.file = argv[0];
    o.args = argv;
    o.cwd = c->base_dir;
    o.stdio = stdio;
    o.stdio_count = 3;
    o.exit_cb = on_child_exit;
    /* Its own session: a terminal's Ctrl-C reaches the host, which stops
     * the server in order, rather than the server directly. */
    o.flags = UV_PROCESS_DETACHED;
    if (c->switch_user && !c->use_setpriv) {
        o.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
        o.uid = c->uid;
        o.gid = c->gid;
    }
    c->child = gr_xcalloc(1, sizeof *c->child);
    c->child->data = c;
    r = uv_spawn(c->loop, c->child, &o);
    if (r != 0) {
        uv_close((uv_handle_t *)c->child, on_child_closed);
        c->child = NULL;
        return gr_error_set(err, GR_ERR_IO, "cannot run %s: %s", argv[0], uv_strerror(r));
    }
    c->pid = c->child->pid;
    return 0;
}

static void on_rename(uv_fs_t *req)
{
    gr_pg_cluster_t *c = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    free(req);
    c->busy_reqs--;
    if (c->freeing) {
        cluster_release(c);
        return;
    }
    if (c->state != CL_INITDB)
        return;
    if (r < 0) {
        start_failed(c, GR_ERR_IO, "cannot rename %s to %s: %s", c->tmp_dir, c->data_dir,
                     uv_strerror((int)r));
        return;
    }
    spawn_server(c);
}

static void restart_later(gr_pg_cluster_t *c);
static void on_timer(uv_timer_t *t);

static void on_child_exit(uv_process_t *proc, int64_t status, int signal)
{
    gr_pg_cluster_t *c = proc->data;
    int was_server;
    uv_close((uv_handle_t *)proc, on_child_closed);
    if (!c)
        return;
    was_server = c->child_is_server;
    c->child = NULL;
    c->pid = 0;

    if (!was_server) {
        uv_fs_t *req;
        if (c->state != CL_INITDB)
            return;
        if (status != 0 || signal) {
            start_failed(c, GR_ERR_IO,
                         "initdb failed (exit status %d, signal %d); its output is in %s",
                         (int)status, signal, c->log_path);
            return;
        }
        req = gr_xcalloc(1, sizeof *req);
        req->data = c;
        c->busy_reqs++;
        uv_fs_rename(c->loop, req, c->tmp_dir, c->data_dir, on_rename);
        return;
    }

    probe_close(c);
    switch (c->state) {
    case CL_STOPPING: {
        gr_pg_cluster_cb cb = c->stop_cb;
        c->state = CL_STOPPED;
        uv_timer_stop(&c->timer);
        c->stop_cb = NULL;
        if (cb)
            cb(c->stop_ud, 0, NULL);
        break;
    }
    case CL_STARTING:
        if (c->start_cb) {
            start_failed(c, GR_ERR_IO,
                         "postgres exited during start-up (exit status %d, signal %d); its "
                         "output is in %s",
                         (int)status, signal, c->log_path);
            break;
        }
        /* A restart attempt that failed: keep trying. */
        restart_later(c);
        break;
    case CL_RUNNING:
        gr_log_error(c->log,
                     "embedded PostgreSQL exited unexpectedly (exit status %d, signal %d); see %s",
                     (int)status, signal, c->log_path);
        if (gr_now_ms() - c->started_at > GR_PG_STABLE_MS)
            c->restart_ms = GR_PG_RESTART_MIN_MS;
        restart_later(c);
        break;
    default: break;
    }
}

static void restart_later(gr_pg_cluster_t *c)
{
    if (!c->restart) {
        c->state = CL_STOPPED;
        return;
    }
    c->state = CL_RESTART_WAIT;
    gr_log_info(c->log, "restarting embedded PostgreSQL in %llu ms",
                (unsigned long long)c->restart_ms);
    uv_timer_start(&c->timer, on_timer, c->restart_ms, 0);
    c->restart_ms *= 2;
    if (c->restart_ms > GR_PG_RESTART_MAX_MS)
        c->restart_ms = GR_PG_RESTART_MAX_MS;
}

static void run_initdb(gr_pg_cluster_t *c)
{
    gr_error_t err;
    char *args[16];
    size_t n = 0;
    args[n++] = "-D";
    args[n++] = c->tmp_dir;
    args[n++] = "-U";
    args[n++] = GR_PG_CLUSTER_SUPERUSER;
    args[n++] = "-E";
    args[n++] = "UTF8";
    args[n++] = "--locale=C";
    /* Only the unix socket in a 0700 directory is reachable: trust there,
     * and nothing over TCP should anyone enable it. */
    args[n++] = "--auth-local=trust";
    args[n++] = "--auth-host=reject";
    args[n++] = "--no-instructions";
    if (c->ephemeral)
        args[n++] = "--no-sync";
    args[n] = NULL;
    gr_log_info(c->log, "creating the embedded PostgreSQL cluster in %s", c->data_dir);
    c->state = CL_INITDB;
    c->child_is_server = 0;
    if (spawn(c, "initdb", args, &err) != 0)
        start_failed(c, err.code, "%s", err.message);
}

/* ---- readiness probe ---------------------------------------------------- */

static void probe_step(gr_pg_cluster_t *c);

static void on_probe_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    probe_step(h->data);
}

static void server_ready(gr_pg_cluster_t *c)
{
    c->state = CL_RUNNING;
    c->started_at = gr_now_ms();
    uv_timer_stop(&c->timer);
    gr_log_info(c->log, "embedded PostgreSQL ready (pid %d) on socket %s", c->pid, c->run_dir);
    finish_start(c, 0, NULL);
}

static int probe_watch(gr_pg_cluster_t *c, int events)
{
    int fd = PQsocket(c->probe);
    if (fd < 0)
        return -1;
    if (c->probe_poll && c->probe_fd != fd) {
        uv_poll_stop(c->probe_poll);
        uv_close((uv_handle_t *)c->probe_poll, on_probe_poll_closed);
        c->probe_poll = NULL;
    }
    if (!c->probe_poll) {
        c->probe_poll = gr_xcalloc(1, sizeof *c->probe_poll);
        if (uv_poll_init(c->loop, c->probe_poll, fd) != 0) {
            free(c->probe_poll);
            c->probe_poll = NULL;
            return -1;
        }
        c->probe_poll->data = c;
        c->probe_fd = fd;
    }
    return uv_poll_start(c->probe_poll, events, on_probe_poll);
}

static void probe_step(gr_pg_cluster_t *c)
{
    switch (PQconnectPoll(c->probe)) {
    case PGRES_POLLING_READING:
        if (probe_watch(c, UV_READABLE) == 0)
            return;
        break;
    case PGRES_POLLING_WRITING:
        if (probe_watch(c, UV_WRITABLE) == 0)
            return;
        break;
    case PGRES_POLLING_OK:
        probe_close(c);
        server_ready(c);
        return;
    default: break;
    }
    /* Not up yet ("the database system is starting up", no socket yet). */
    probe_close(c);
}

static void probe_start(gr_pg_cluster_t *c)
{
    char port[16];
    const char *keys[] = {"host", "port", "user", "dbname", "connect_timeout", NULL};
    const char *vals[] = {c->run_dir, port, GR_PG_CLUSTER_SUPERUSER, "postgres", "5", NULL};
    snprintf(port, sizeof port, "%d", c->port);
    c->probe = PQconnectStartParams(keys, vals, 0);
    if (!c->probe || PQstatus(c->probe) == CONNECTION_BAD || probe_watch(c, UV_WRITABLE) != 0)
        probe_close(c);
}

static void spawn_server(gr_pg_cluster_t *c)
{
    gr_error_t err;
    char port[16];
    char *args[32];
    size_t n = 0;
    snprintf(port, sizeof port, "%d", c->port);
    args[n++] = "-D";
    args[n++] = c->data_dir;
    args[n++] = "-k";
    args[n++] = c->run_dir;
    args[n++] = "-p";
    args[n++] = port;
    args[n++] = "-c";
    args[n++] = "listen_addresses=";
    args[n++] = "-c";
    args[n++] = "unix_socket_permissions=0700";
    /* Bulk loads (a catalog's first sync writes some 60 MB of WAL in one
     * transaction): with the default WAL buffers (a thirty-second of
     * shared_buffers, 4 MB) the loading backend stops to write WAL itself
     * thousands of times; 16 MB lets the WAL writer do most of it.  A new
     * WAL segment is created without first being filled with zeros, which
     * only preallocates its space: recovery reads records by their
     * checksums either way, and a young cluster, with no segments to
     * recycle yet, no longer writes 16 MB of zeros for every 16 MB of WAL. */
    args[n++] = "-c";
    args[n++] = "wal_buffers=16MB";
    args[n++] = "-c";
    args[n++] = "wal_init_zero=off";
    if (c->ephemeral) {
        args[n++] = "-c";
        args[n++] = "fsync=off";
        args[n++] = "-c";
        args[n++] = "synchronous_commit=off";
        args[n++] = "-c";
        args[n++] = "full_page_writes=off";
    }
    args[n] = NULL;
    c->state = CL_STARTING;
    c->child_is_server = 1;
    if (spawn(c, "postgres", args, &err) != 0) {
        if (c->start_cb)
            start_failed(c, err.code, "%s", err.message);
        else
            restart_later(c);
        return;
    }
    c->deadline = gr_now_ms() + c->start_timeout_ms;
    uv_timer_start(&c->timer, on_timer, GR_PG_PROBE_MS, GR_PG_PROBE_MS);
}

/* One timer serves every waiting state. */
static void on_timer(uv_timer_t *t)
{
    gr_pg_cluster_t *c = t->data;
    switch (c->state) {
    case CL_STARTING:
        if (gr_now_ms() > c->deadline) {
            /* Give up; the exit callback reports the failure. */
            gr_log_error(c->log, "embedded PostgreSQL did not accept connections within %llu ms",
                         (unsigned long long)c->start_timeout_ms);
            if (c->pid)
                kill(c->pid, SIGQUIT);
            uv_timer_stop(t);
            return;
        }
        if (!c->probe)
            probe_start(c);
        break;
    case CL_WAIT_STALE:
        if (kill(c->stale_pid, 0) == 0 || errno == EPERM) {
            if (gr_now_ms() > c->deadline) {
                start_failed(c, GR_ERR_CONFLICT,
                             "a PostgreSQL server (pid %d) from an earlier run still uses %s and "
                             "did not stop; stop it and start again",
                             c->stale_pid, c->data_dir);
            }
            return;
        }
        uv_timer_stop(t);
        spawn_server(c);
        break;
    case CL_RESTART_WAIT:
        c->restarts++;
        spawn_server(c);
        break;
    case CL_STOPPING:
        /* Fast shutdown is taking too long: escalate. */
        if (c->pid) {
            kill(c->pid, c->stop_signal_stage == 0 ? SIGQUIT : SIGKILL);
            c->stop_signal_stage++;
            uv_timer_start(t, on_timer, 10000, 0);
        }
        break;
    default: uv_timer_stop(t); break;
    }
}

static void prep_done(uv_work_t *w, int status)
{
    prep_t *p = w->data;
    gr_pg_cluster_t *c = p->cluster;
    c->prep = NULL;
    c->busy_reqs--;
    if (c->freeing) {
        if (p->log_fd >= 0)
            close(p->log_fd);
        free(p->bin_dir);
        free(p);
        cluster_release(c);
        return;
    }
    if (status == UV_ECANCELED && !p->status) {
        p->status = GR_ERR_CANCELED;
        snprintf(p->message, sizeof p->message, "start-up was cancelled");
    }
    if (p->log_fd >= 0)
        c->log_fd = p->log_fd;
    if (p->bin_dir) {
        free(c->bin_dir);
        c->bin_dir = p->bin_dir;
    }
    c->switch_user = p->switch_user;
    c->use_setpriv = p->use_setpriv;
    c->uid = p->uid;
    c->gid = p->gid;
    c->stale_pid = p->stale_pid;
    if (c->state != CL_PREPARING) {
        /* Stopped meanwhile: stop already answered. */
        free(p);
        return;
    }
    if (p->status) {
        start_failed(c, p->status, "%s", p->message);
        free(p);
        return;
    }
    free(p);
    if (c->stale_pid) {
        gr_log_warn(c->log, "stopping PostgreSQL pid %d left running by an earlier run",
                    c->stale_pid);
        kill(c->stale_pid, SIGINT);
        c->state = CL_WAIT_STALE;
        c->deadline = gr_now_ms() + 30000;
        uv_timer_start(&c->timer, on_timer, 100, 100);
        return;
    }
    if (data_version(c->data_dir) == 0)
        run_initdb(c);
    else
        spawn_server(c);
}

/* ---- public -------------------------------------------------------------- */

gr_pg_cluster_t *gr_pg_cluster_new(uv_loop_t *loop, gr_log_t *log, const gr_pg_cluster_opts_t *opts)
{
    gr_pg_cluster_t *c = gr_xcalloc(1, sizeof *c);
    c->loop = loop;
    c->log = log;
    c->base_dir = gr_xstrdup(opts->base_dir);
    c->data_dir = gr_xasprintf("%s/data", opts->base_dir);
    c->tmp_dir = gr_xasprintf("%s/data.initdb", opts->base_dir);
    c->run_dir = gr_xasprintf("%s/run", opts->base_dir);
    c->log_path = gr_xasprintf("%s/postgres.log", opts->base_dir);
    c->bin_dir_cfg = opts->bin_dir ? gr_xstrdup(opts->bin_dir) : NULL;
    c->search_root = opts->search_root ? gr_xstrdup(opts->search_root) : NULL;
    c->user = gr_xstrdup(opts->user ? opts->user : "postgres");
    c->port = opts->port > 0 ? opts->port : 5432;
    c->ephemeral = opts->ephemeral;
    c->restart = opts->restart;
    c->start_timeout_ms = opts->start_timeout_ms ? opts->start_timeout_ms : 60000;
    c->restart_ms = GR_PG_RESTART_MIN_MS;
    c->log_fd = -1;
    c->state = CL_IDLE;
    c->conninfo = gr_xasprintf("host=%s port=%d user=%s dbname=postgres", c->run_dir, c->port,
                               GR_PG_CLUSTER_SUPERUSER);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    return c;
}

void gr_pg_cluster_start(gr_pg_cluster_t *c, gr_pg_cluster_cb cb, void *user_data)
{
    prep_t *p;
    struct sockaddr_un sun;
    c->start_cb = cb;
    c->start_ud = user_data;
    if (c->state != CL_IDLE && c->state != CL_STOPPED) {
        gr_error_t err;
        gr_error_set(&err, GR_ERR_CONFLICT, "the embedded PostgreSQL is already started");
        c->start_cb = NULL;
        if (cb)
            cb(user_data, err.code, &err);
        return;
    }
    if (strlen(c->run_dir) + 20 >= sizeof sun.sun_path) {
        start_failed(c, GR_ERR_INVALID,
                     "the state directory path is too long for a unix socket (%s/.s.PGSQL.%d "
                     "must fit in %zu bytes); choose a shorter --state-dir",
                     c->run_dir, c->port, sizeof sun.sun_path - 1);
        return;
    }
    c->state = CL_PREPARING;
    c->restart_ms = GR_PG_RESTART_MIN_MS;
    p = gr_xcalloc(1, sizeof *p);
    p->cluster = c;
    p->work.data = p;
    p->log_fd = -1;
    if (c->log_fd >= 0) {
        close(c->log_fd);
        c->log_fd = -1;
    }
    c->prep = p;
    c->busy_reqs++;
    uv_queue_work(c->loop, &p->work, prep_work, prep_done);
}

static void on_stop_now(uv_timer_t *t)
{
    gr_pg_cluster_t *c = t->data;
    gr_pg_cluster_cb cb = c->stop_cb;
    c->stop_cb = NULL;
    uv_timer_stop(t);
    if (cb)
        cb(c->stop_ud, 0, NULL);
}

void gr_pg_cluster_stop(gr_pg_cluster_t *c, gr_pg_cluster_cb cb, void *user_data)
{
    gr_error_t err;
    int had_start = c->start_cb != NULL;
    c->stop_cb = cb;
    c->stop_ud = user_data;
    probe_close(c);
    uv_timer_stop(&c->timer);
    if (had_start) {
        gr_error_set(&err, GR_ERR_CANCELED, "the embedded PostgreSQL was stopped while starting");
        c->state = CL_STOPPING;
        finish_start(c, GR_ERR_CANCELED, &err);
    }
    if (c->child) {
        c->state = CL_STOPPING;
        c->stop_signal_stage = 0;
        if (c->child_is_server)
            gr_log_info(c->log, "stopping embedded PostgreSQL (pid %d)", c->pid);
        /* SIGINT is PostgreSQL's fast shutdown; initdb just stops. */
        kill(c->pid, SIGINT);
        c->child_is_server = 1; /* its exit ends the stop */
        uv_timer_start(&c->timer, on_timer, 30000, 0);
        return;
    }
    c->state = CL_STOPPED;
    /* Nothing runs (or the thread-pool step will see CL_STOPPED): answer
     * from the loop, not from inside this call. */
    uv_timer_start(&c->timer, on_stop_now, 0, 0);
}

static void on_timer_closed(uv_handle_t *h)
{
    gr_pg_cluster_t *c = h->data;
    free(c->base_dir);
    free(c->data_dir);
    free(c->tmp_dir);
    free(c->run_dir);
    free(c->log_path);
    free(c->bin_dir_cfg);
    free(c->search_root);
    free(c->user);
    free(c->bin_dir);
    free(c->conninfo);
    free(c);
}

void gr_pg_cluster_free(gr_pg_cluster_t *c)
{
    if (!c)
        return;
    probe_close(c);
    if (c->child) {
        /* Freed without a stop: do not leave the server behind. */
        kill(c->pid, SIGINT);
        c->child->data = NULL;
        uv_close((uv_handle_t *)c->child, on_child_closed);
        c->child = NULL;
    }
    if (c->log_fd >= 0)
        close(c->log_fd);
    c->log_fd = -1;
    c->start_cb = NULL;
    c->stop_cb = NULL;
    c->freeing = 1;
    if (c->prep)
        uv_cancel((uv_req_t *)&c->prep->work);
    cluster_release(c);
}

/* Frees the cluster once no request can call back into it. */
static void cluster_release(gr_pg_cluster_t *c)
{
    if (c->busy_reqs == 0 && !uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

int gr_pg_cluster_running(const gr_pg_cluster_t *c)
{
    return c->state == CL_RUNNING;
}
int gr_pg_cluster_pid(const gr_pg_cluster_t *c)
{
    return c->pid;
}
int gr_pg_cluster_restarts(const gr_pg_cluster_t *c)
{
    return c->restarts;
}
const char *gr_pg_cluster_socket_dir(const gr_pg_cluster_t *c)
{
    return c->run_dir;
}
int gr_pg_cluster_port(const gr_pg_cluster_t *c)
{
    return c->port;
}
const char *gr_pg_cluster_conninfo(const gr_pg_cluster_t *c)
{
    return c->conninfo;
}
const char *gr_pg_cluster_bin_dir(const gr_pg_cluster_t *c)
{
    return c->bin_dir;
}
const char *gr_pg_cluster_data_dir(const gr_pg_cluster_t *c)
{
    return c->data_dir;
}
