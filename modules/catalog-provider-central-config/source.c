/* modules/catalog-provider-central-config/source.c: building a source from
 * its config section, and the small loop helpers every source uses. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_source.h"

static const char *const source_types[] = {"directory", "git", "github", NULL};

const gr_config_field_t cc_source_fields[] = {
    {.key = "type",
     .type = GR_CONFIG_STRING,
     .flags = GR_CONFIG_REQUIRED,
     .enum_values = source_types,
     .description = "directory, git or github"},
    {.key = "path",
     .type = GR_CONFIG_STRING,
     .description = "directory: the directory (relative to this config file)"},
    {.key = "url",
     .type = GR_CONFIG_STRING,
     .flags = GR_CONFIG_SECRET,
     .description = "git: the remote to clone (may hold a token, so it is redacted)"},
    {.key = "branch",
     .type = GR_CONFIG_STRING,
     .description = "git, github: the branch (default: the remote's default branch)"},
    {.key = "repo", .type = GR_CONFIG_STRING, .description = "github: <owner>/<name>"},
    {.key = "host",
     .type = GR_CONFIG_STRING,
     .description = "github: the integrations.github host (default github.com)"},
    {0}};

/* The state directory made absolute: a git child process runs with its own
 * working directory, so relative paths would land elsewhere. */
static char *absolute_under(const char *base, const char *rel)
{
    const char *state = base ? base : ".";
    char cwd[4096];
    size_t len = sizeof cwd;
    if (state[0] != '/' && uv_cwd(cwd, &len) == 0)
        return gr_xasprintf("%s/%s/%s", cwd, state, rel);
    return gr_xasprintf("%s/%s", state, rel);
}

int cc_source_init(cc_source_t *src, gr_context_t *ctx, const gr_config_t *node,
                   const char *work_dir_rel, const char *label, const cc_selection_t *select,
                   gr_error_t *err)
{
    *src = (cc_source_t){0};
    const char *type = gr_config_string(node, "type", "");
    const cc_source_ops_t *ops = strcmp(type, "git") == 0      ? &cc_source_git
                                 : strcmp(type, "github") == 0 ? &cc_source_github
                                                               : &cc_source_directory;
    src->ctx = ctx;
    src->loop = ctx->loop;
    src->label = gr_xstrdup(label);
    src->work_dir = absolute_under(ctx->state_dir, work_dir_rel);
    src->select = select;
    int rc = ops->init(src, node, err);
    if (rc != 0) {
        free(src->label);
        free(src->work_dir);
        *src = (cc_source_t){0};
        return rc;
    }
    src->ops = ops;
    return 0;
}

void cc_source_free(cc_source_t *src)
{
    if (src->ops && src->state)
        src->ops->free(src);
    free(src->label);
    free(src->work_dir);
    *src = (cc_source_t){0};
}

/* A relative path is read against the directory of the config file that
 * sets it (so a config and its example repository can move together),
 * then made absolute. */
char *cc_config_path(const gr_config_t *node, const char *value)
{
    if (value[0] == '/')
        return gr_xstrdup(value);
    char where[1024];
    gr_config_where(node, where, sizeof where);
    /* where is "file:line:col": drop the position, keep the file's directory. */
    for (int i = 0; i < 2; i++) {
        char *colon = strrchr(where, ':');
        if (colon)
            *colon = '\0';
    }
    char *slash = strrchr(where, '/');
    char *joined =
        slash ? gr_xasprintf("%.*s/%s", (int)(slash - where), where, value) : gr_xstrdup(value);
    if (joined[0] == '/')
        return joined;
    char cwd[4096];
    size_t len = sizeof cwd;
    if (uv_cwd(cwd, &len) != 0)
        return joined;
    char *abs = gr_xasprintf("%s/%s", cwd, joined);
    free(joined);
    return abs;
}

int64_t cc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *cc_iso_time(int64_t wall_ms)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    return gr_xasprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_ms % 1000));
}
