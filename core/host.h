/* core/host.h: the host object: one loop, the loaded modules, the services.
 *
 * Start-up: read and merge config, check it, open every declared module,
 * order them, start the database, run migrations, register (plugins offer
 * extension points), init (modules of a plugin before the plugin, plugins in
 * dependency order), listen, start the scheduler, run started hooks, report
 * ready (readiness endpoint and systemd).  Shutdown runs the same way back.
 * Everything runs on the loop thread. */
#ifndef GR_CORE_HOST_H
#define GR_CORE_HOST_H

#include <uv.h>

#include <greenroom/greenroom.h>

#include "util.h"

typedef struct gr_host gr_host_t;

typedef struct gr_host_options {
    gr_strvec_t config_paths; /* -c, in merge order */
    gr_strvec_t module_dirs;  /* searched in order for <name>.so */
    const char *state_dir;    /* where the embedded database and modules keep state */
    const char *web_dir;      /* static files served at /, or NULL */
} gr_host_options_t;

/* Fills the default module directories: $GREENROOM_MODULE_PATH (colon
 * separated), <directory of the executable>/modules (a build tree), then the
 * install directory. */
void gr_host_default_module_dirs(gr_strvec_t *dirs);

/* Runs the host until it is told to stop; returns the process exit code
 * (0 after a clean shutdown, 1 when start-up failed). */
int gr_host_serve(const gr_host_options_t *options);

/* ---- shared with the CLI's `config check` and `modules list` ---- */

struct gr_config_doc;
struct gr_module_file;

/* Loads and merges the config files; err names file:line:col on failure. */
int gr_host_config_load(const gr_strvec_t *paths, struct gr_config_doc **out, gr_error_t *err);
/* Opens (without running) every module the config's `modules:` list names. */
int gr_host_modules_open(struct gr_config_doc *doc, const gr_strvec_t *dirs,
                         struct gr_module_file **mods_out, size_t *count_out, gr_error_t *err);
/* Checks backend.* and every module's section against its schema (filling
 * defaults); returns the number of problems, each appended to `problems`.
 * Unknown top-level keys go to `warnings`. */
size_t gr_host_config_check(struct gr_config_doc *doc, struct gr_module_file *mods, size_t count,
                            gr_strvec_t *problems, gr_strvec_t *warnings);

/* ---- for the host's own routes (host_routes.c) ---- */

typedef enum gr_host_phase {
    GR_HOST_STARTING = 0,
    GR_HOST_RUNNING,
    GR_HOST_STOPPING
} gr_host_phase_t;

gr_host_phase_t gr_host_phase(const gr_host_t *host);
/* NULL when every plugin reports healthy, else "plugin: message; ...". */
const char *gr_host_unhealthy(gr_host_t *host);
/* {"version", "plugins": [{pluginId, version, status, error, modules: [...]}]} */
struct json_object *gr_host_describe(const gr_host_t *host);
gr_metrics_t *gr_host_metrics(gr_host_t *host);
gr_scheduler_t *gr_host_scheduler(gr_host_t *host);

#endif
