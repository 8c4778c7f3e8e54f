/* tests/integration/fake_github.c: a fake GitHub for the shell tests
 * (tests/unit/support/fake_github_repo.h) serving a directory as one
 * repository:
 *
 *   gr_test_fake_github --repo OWNER/NAME --branch BRANCH --dir DIR
 *                       [--repo-document FILE] [--refuse-token TOKEN]
 *
 * The directory is read again before every request and committed when it
 * changed, so a test edits files and the next sync sees a new commit.
 * Prints "listening on <base url>" once it accepts connections, then one
 * line per answered request: "<status> <method> <target> inm=<If-None-Match>".
 * Stops on SIGTERM or SIGINT, and when its parent dies. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <uv.h>

#include "fake_github_repo.h"
#include "util.h"

typedef struct helper {
    const char *dir;
    gr_fake_repo_t *repo;
    size_t printed;
    uv_signal_t sigterm, sigint;
    uv_check_t check;
} helper_t;

static void read_tree(gr_fake_repo_t *repo, const char *root, const char *rel)
{
    char *path = *rel ? gr_xasprintf("%s/%s", root, rel) : gr_xstrdup(root);
    DIR *d = opendir(path);
    free(path);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || strcmp(e->d_name, "..") == 0 ||
                                    strcmp(e->d_name, ".git") == 0))
            continue;
        char *child = *rel ? gr_xasprintf("%s/%s", rel, e->d_name) : gr_xstrdup(e->d_name);
        char *full = gr_xasprintf("%s/%s", root, child);
        struct stat st;
        int known = stat(full, &st) == 0;
        if (known && S_ISDIR(st.st_mode)) {
            read_tree(repo, root, child);
        } else if (known && S_ISREG(st.st_mode)) {
            FILE *f = fopen(full, "rb");
            gr_buf_t b = {0};
            char chunk[4096];
            size_t n;
            while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
                gr_buf_append(&b, chunk, n);
            if (f)
                fclose(f);
            gr_fake_repo_put(repo, child, b.data ? b.data : "", b.len);
            gr_buf_free(&b);
        }
        free(full);
        free(child);
    }
    closedir(d);
}

static void before_request(gr_fake_repo_t *repo, void *ud)
{
    helper_t *h = ud;
    gr_fake_repo_clear(repo);
    read_tree(repo, h->dir, "");
    gr_fake_repo_commit(repo);
}

/* After each loop turn: the requests answered since the last one. */
static void on_check(uv_check_t *c)
{
    helper_t *h = c->data;
    while (h->printed < gr_fake_repo_hits(h->repo)) {
        const gr_fake_hit_t *hit = gr_fake_repo_hit(h->repo, h->printed);
        if (!hit->status)
            break;
        printf("%d %s %s inm=%s\n", hit->status, hit->method, hit->target, hit->if_none_match);
        h->printed++;
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    helper_t *h = s->data;
    uv_close((uv_handle_t *)&h->sigterm, NULL);
    uv_close((uv_handle_t *)&h->sigint, NULL);
    uv_close((uv_handle_t *)&h->check, NULL);
    gr_fake_repo_free(h->repo);
    h->repo = NULL;
}

int main(int argc, char **argv)
{
    const char *repo = NULL, *branch = "main", *dir = NULL, *document = NULL;
    gr_strvec_t refused = {0};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--repo") == 0)
            repo = argv[i + 1];
        else if (strcmp(argv[i], "--branch") == 0)
            branch = argv[i + 1];
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--repo-document") == 0)
            document = argv[i + 1];
        else if (strcmp(argv[i], "--refuse-token") == 0)
            gr_strvec_push(&refused, argv[i + 1]);
    }
    if (!repo || !dir) {
        fprintf(stderr, "usage: %s --repo OWNER/NAME --dir DIR [--branch BRANCH] "
                        "[--repo-document FILE] [--refuse-token TOKEN]\n",
                argv[0]);
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    setvbuf(stdout, NULL, _IOLBF, 0);
    uv_loop_t *loop = uv_default_loop();
    helper_t h = {.dir = dir};
    h.repo = gr_fake_repo_new(loop, repo, branch, document);
    if (!h.repo)
        return 1;
    for (size_t i = 0; i < refused.len; i++)
        gr_fake_repo_refuse_token(h.repo, refused.items[i]);
    gr_strvec_free(&refused);
    gr_fake_repo_on_request(h.repo, before_request, &h);
    uv_check_init(loop, &h.check);
    h.check.data = &h;
    uv_check_start(&h.check, on_check);
    uv_signal_init(loop, &h.sigterm);
    uv_signal_init(loop, &h.sigint);
    h.sigterm.data = h.sigint.data = &h;
    uv_signal_start(&h.sigterm, on_signal, SIGTERM);
    uv_signal_start(&h.sigint, on_signal, SIGINT);
    printf("listening on %s\n", gr_fake_repo_url(h.repo));
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return 0;
}
