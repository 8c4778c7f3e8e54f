/* core/loader.h: finding, opening and ordering module shared objects.
 *
 * Opening a module reads only its descriptor: nothing in the module runs
 * except its entry function, so `greenroom modules list` and `config check`
 * can inspect modules without starting them.  Every refusal names the file
 * and says which value is wrong. */
#ifndef GR_CORE_LOADER_H
#define GR_CORE_LOADER_H

#include <greenroom/greenroom.h>

#include "util.h"

typedef struct gr_module_file {
    char *path;                         /* as opened */
    void *handle;                       /* from dlopen */
    const gr_module_descriptor_t *desc; /* inside the mapped file */
    char *display_id;                   /* "catalog" or "catalog.provider-x" */
} gr_module_file_t;

/* Turns a config entry (a bare name, or a path containing '/') into a file:
 * a name is looked up as <dir>/<name>.so in each of `dirs` in turn.
 * Returns the path (caller frees) or NULL with err naming every dir tried. */
char *gr_loader_find(const char *name_or_path, const gr_strvec_t *dirs, gr_error_t *err);

/* dlopens `path` and checks the descriptor header (magic, ABI version, the
 * struct sizes) and its fields (kind, ids).  On success fills *out. */
int gr_loader_open(const char *path, gr_module_file_t *out, gr_error_t *err);
void gr_loader_close(gr_module_file_t *mod);

/* Checks the set as a whole (duplicate ids, a module whose plugin is not
 * loaded, a dependency nobody provides, a cycle) and writes into order[] the
 * indexes of `mods` in init order: every module of a plugin before the
 * plugin, every dependency before its dependent, ties broken by id so the
 * order never depends on the config file's order. */
int gr_loader_order(gr_module_file_t *mods, size_t count, size_t *order, gr_error_t *err);

#endif
