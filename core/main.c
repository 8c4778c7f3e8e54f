/* core/main.c: the greenroom command line. */
#include <dirent.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_tree.h"
#include "host.h"
#include "loader.h"
#include "version.h"

static const char gr__usage[] =
    "usage: greenroom <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve -c FILE...           run the host (SIGTERM/SIGINT stop it, SIGHUP reloads config)\n"
    "  config check -c FILE...    check config and every module's section; non-zero on errors\n"
    "  config print -c FILE...    print the merged config [--redact hides secrets]\n"
    "  modules list [-c FILE...]  list modules (declared in config, or all found) without running them\n"
    "  version                    print the host and module ABI versions\n"
    "\n"
    "options:\n"
    "  -c, --config FILE   a config file; several merge in order, later ones win\n"
    "  --module-dir DIR    look for <name>.so here first (repeatable)\n"
    "  --state-dir DIR     where state lives (default ./.greenroom)\n"
    "  --web-dir DIR       static files served at / (default: backend.web.root)\n"
    "  --redact            with `config print`: replace secret values by [REDACTED]\n";

typedef struct gr_cli {
    gr_strvec_t configs;
    gr_strvec_t module_dirs;
    const char *state_dir;
    const char *web_dir;
    int redact;
} gr_cli_t;

static int gr__parse_options(int argc, char **argv, int first, gr_cli_t *cli)
{
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--redact") == 0) {
            cli->redact = 1;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(gr__usage, stdout);
            exit(0);
        }
        if (!value) {
            fprintf(stderr, "greenroom: %s: unknown option or missing value\n%s", arg, gr__usage);
            return -1;
        }
        if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0)
            gr_strvec_push(&cli->configs, value);
        else if (strcmp(arg, "--module-dir") == 0)
            gr_strvec_push(&cli->module_dirs, value);
        else if (strcmp(arg, "--state-dir") == 0)
            cli->state_dir = value;
        else if (strcmp(arg, "--web-dir") == 0)
            cli->web_dir = value;
        else {
            fprintf(stderr, "greenroom: unknown option '%s'\n%s", arg, gr__usage);
            return -1;
        }
        i++;
    }
    gr_host_default_module_dirs(&cli->module_dirs);
    return 0;
}

/* The state directory, created if missing and made absolute: the embedded
 * PostgreSQL runs in another working directory, where a relative path would
 * point elsewhere. */
static char *gr__state_dir(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "greenroom: cannot create the state directory %s: %s\n", dir,
                strerror(errno));
        return NULL;
    }
    char *abs = realpath(dir, NULL);
    if (!abs)
        fprintf(stderr, "greenroom: state directory %s: %s\n", dir, strerror(errno));
    return abs;
}

/* glibc serves a block over its mmap threshold (128 kB by default) with a
 * fresh mapping, and gives the heap top back to the system past its trim
 * threshold: a response of a few hundred kB (a page of 100 catalog
 * entities is about 150 kB) then page-faults its memory in on every
 * request, at less than half the throughput.  glibc raises both thresholds
 * by itself only once the process happens to free a larger block, so the
 * daemon's speed depended on what it had done before; fixed values make it
 * not.  The cost is at most the trim threshold of unused heap per arena. */
static void gr__malloc_tune(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
}

static int gr__cmd_serve(gr_cli_t *cli)
{
    gr__malloc_tune();
    char *state_dir = gr__state_dir(cli->state_dir ? cli->state_dir : "./.greenroom");
    if (!state_dir)
        return 1;
    gr_host_options_t options = {
        .config_paths = cli->configs,
        .module_dirs = cli->module_dirs,
        .state_dir = state_dir,
        .web_dir = cli->web_dir,
    };
    /* A client that hangs up while a large response is being written must
     * not kill the host: the write then fails with EPIPE, which the server
     * handles, instead of raising SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    int rc = gr_host_serve(&options);
    free(state_dir);
    return rc;
}

/* Loads config and modules and checks them; prints every problem. */
static int gr__load_checked(gr_cli_t *cli, gr_config_doc_t **doc_out, gr_module_file_t **mods,
                            size_t *count)
{
    gr_error_t err = {0};
    gr_config_doc_t *doc = NULL;
    if (gr_host_config_load(&cli->configs, &doc, &err) != 0) {
        fprintf(stderr, "error: %s\n", err.message);
        return -1;
    }
    if (gr_host_modules_open(doc, &cli->module_dirs, mods, count, &err) != 0) {
        fprintf(stderr, "error: %s\n", err.message);
        gr_config_doc_free(doc);
        return -1;
    }
    gr_strvec_t problems = {0}, warnings = {0};
    size_t n = gr_host_config_check(doc, *mods, *count, &problems, &warnings);
    for (size_t i = 0; i < warnings.len; i++)
        fprintf(stderr, "warning: %s\n", warnings.items[i]);
    for (size_t i = 0; i < problems.len; i++)
        fprintf(stderr, "error: %s\n", problems.items[i]);
    gr_strvec_free(&problems);
    gr_strvec_free(&warnings);
    if (n == 0 && *count) {
        size_t *order = calloc(*count, sizeof *order);
        if (gr_loader_order(*mods, *count, order, &err) != 0) {
            fprintf(stderr, "error: %s\n", err.message);
            n++;
        }
        free(order);
    }
    *doc_out = doc;
    return n ? -1 : 0;
}

static void gr__close_modules(gr_module_file_t *mods, size_t count)
{
    for (size_t i = 0; i < count; i++)
        gr_loader_close(&mods[i]);
    free(mods);
}

static int gr__cmd_config(gr_cli_t *cli, const char *sub)
{
    gr_config_doc_t *doc = NULL;
    gr_module_file_t *mods = NULL;
    size_t count = 0;
    int rc = gr__load_checked(cli, &doc, &mods, &count);
    if (strcmp(sub, "check") == 0) {
        if (rc == 0)
            printf("config OK: %zu file%s, %zu module%s\n", cli->configs.len,
                   cli->configs.len == 1 ? "" : "s", count, count == 1 ? "" : "s");
    } else if (doc) {
        gr_config_doc_print(doc, stdout, cli->redact);
    }
    gr__close_modules(mods, count);
    gr_config_doc_free(doc);
    return rc == 0 ? 0 : 1;
}

static void gr__print_module(const gr_module_file_t *m)
{
    const gr_module_descriptor_t *d = m->desc;
    printf("%-40s %-7s %-10s abi=%u", m->display_id, d->kind == GR_KIND_PLUGIN ? "plugin" : "module",
           d->version ? d->version : "-", d->abi_version);
    const char *sep = " depends=";
    for (const char *const *dep = d->dependencies; dep && *dep; dep++, sep = ",")
        printf("%s%s", sep, *dep);
    sep = " uses=";
    for (const char *const *ep = d->extension_points; ep && *ep; ep++, sep = ",")
        printf("%s%s", sep, *ep);
    printf("  %s\n", m->path);
}

static int gr__compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int gr__cmd_modules_list(gr_cli_t *cli)
{
    int failed = 0;
    if (cli->configs.len) {
        gr_config_doc_t *doc = NULL;
        gr_module_file_t *mods = NULL;
        size_t count = 0;
        gr_error_t err = {0};
        if (gr_host_config_load(&cli->configs, &doc, &err) != 0 ||
            gr_host_modules_open(doc, &cli->module_dirs, &mods, &count, &err) != 0) {
            fprintf(stderr, "error: %s\n", err.message);
            gr_config_doc_free(doc);
            return 1;
        }
        for (size_t i = 0; i < count; i++)
            gr__print_module(&mods[i]);
        gr__close_modules(mods, count);
        gr_config_doc_free(doc);
        return 0;
    }
    /* Without config: every .so in the module directories, first one wins. */
    gr_strvec_t seen = {0};
    for (size_t i = 0; i < cli->module_dirs.len; i++) {
        DIR *dir = opendir(cli->module_dirs.items[i]);
        if (!dir)
            continue;
        struct dirent *e;
        gr_strvec_t names = {0};
        while ((e = readdir(dir)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len > 3 && strcmp(e->d_name + len - 3, ".so") == 0)
                gr_strvec_push(&names, e->d_name);
        }
        closedir(dir);
        if (names.len)
            qsort(names.items, names.len, sizeof *names.items, gr__compare_strings);
        for (size_t j = 0; j < names.len; j++) {
            if (gr_strvec_contains(&seen, names.items[j]))
                continue;
            gr_strvec_push(&seen, names.items[j]);
            char *path = gr_xasprintf("%s/%s", cli->module_dirs.items[i], names.items[j]);
            gr_module_file_t m;
            gr_error_t err = {0};
            if (gr_loader_open(path, &m, &err) == 0) {
                gr__print_module(&m);
                gr_loader_close(&m);
            } else {
                fprintf(stderr, "error: %s\n", err.message);
                failed = 1;
            }
            free(path);
        }
        gr_strvec_free(&names);
    }
    gr_strvec_free(&seen);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(gr__usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("greenroom %s (module ABI %u, SDK %s)\n", GR_HOST_VERSION, GR_ABI_VERSION,
               GR_SDK_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        fputs(gr__usage, stdout);
        return 0;
    }

    gr_cli_t cli = {0};
    int rc = 2;
    if (strcmp(cmd, "serve") == 0) {
        if (gr__parse_options(argc, argv, 2, &cli) == 0)
            rc = gr__cmd_serve(&cli);
    } else if (strcmp(cmd, "config") == 0 && argc >= 3 &&
               (strcmp(argv[2], "check") == 0 || strcmp(argv[2], "print") == 0)) {
        if (gr__parse_options(argc, argv, 3, &cli) == 0)
            rc = gr__cmd_config(&cli, argv[2]);
    } else if (strcmp(cmd, "modules") == 0 && argc >= 3 && strcmp(argv[2], "list") == 0) {
        if (gr__parse_options(argc, argv, 3, &cli) == 0)
            rc = gr__cmd_modules_list(&cli);
    } else {
        fprintf(stderr, "greenroom: unknown command '%s'\n%s", cmd, gr__usage);
    }
    gr_strvec_free(&cli.configs);
    gr_strvec_free(&cli.module_dirs);
    return rc;
}
