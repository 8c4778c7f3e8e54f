/* core/config_tree.h: the merged configuration, as the host sees it.
 *
 * Loading reads each YAML file with libyaml (keeping file:line:col on every
 * node), merges them in order (later files win; maps merge key by key; lists
 * and scalars replace), then resolves substitutions in scalars: ${VAR} and
 * ${VAR:-default} from the environment ($${VAR} is a literal "${VAR}"), and
 * the one-key maps {$env: NAME} and {$file: path} (a path relative to the
 * file that names it; the file's trailing newline is dropped).  Values read
 * through $env or $file are marked secret.
 *
 * A gr_config_t node is what modules read through greenroom/config.h; the
 * document owns every node.  Errors name "file:line:col" and the key path,
 * e.g. "app-config.yaml:12:9: backend.listen.port: expected an integer, got 'abc'".
 *
 * Details a caller may rely on:
 *   - one YAML document per file (a second "---" document is an error); an
 *     empty file is an empty map; the top level must be a map;
 *   - aliases (*name) are copies of the anchored value; merge keys (<<) and
 *     duplicate keys in one map are errors;
 *   - `key:`, `~` and `null` are null, which every reader treats as missing;
 *   - an unset ${VAR} without a default, or an unset {$env: NAME}, is an
 *     error; ${VAR:-default} also uses the default when VAR is empty;
 *   - a {$env}/{$file} map is one value when merging: a later file replaces
 *     it whole;
 *   - a value that came from a later file keeps that file's position; a
 *     schema default or a created section takes its parent map's position;
 *   - booleans read true/false, yes/no, on/off (lower, Capitalised or UPPER). */
#ifndef GR_CORE_CONFIG_TREE_H
#define GR_CORE_CONFIG_TREE_H

#include <stdio.h>

#include <greenroom/greenroom.h>

#include "util.h"

typedef struct gr_config_doc gr_config_doc_t;

/* Loads and merges `count` files.  On failure returns NULL and fills err
 * with the first error (file:line:col and what is wrong). */
gr_config_doc_t *gr_config_doc_load(const char *const *paths, size_t count, gr_error_t *err);
/* Parses one YAML text held in memory (`name` is used in messages, and a
 * relative $file path is read from name's directory). */
gr_config_doc_t *gr_config_doc_parse(const char *name, const char *text, size_t len,
                                     gr_error_t *err);
void gr_config_doc_free(gr_config_doc_t *doc);

/* The root node: always a map (an empty file gives an empty map). */
const gr_config_t *gr_config_doc_root(const gr_config_doc_t *doc);

/* The node at a dotted path, created as an empty map (and its parents) when
 * missing, so a module always gets a section to read.  NULL when a parent on
 * the path exists but is not a map. */
const gr_config_t *gr_config_doc_section(gr_config_doc_t *doc, const char *path);

/* Checks the node at `path` against `schema`, filling in defaults.  Every
 * problem is appended to `problems` as one line ("file:line:col: key.path:
 * message"; a missing key names the file:line:col of its parent map).
 * Returns the number of problems found. */
size_t gr_config_doc_validate(gr_config_doc_t *doc, const char *path,
                              const gr_config_field_t *schema, gr_strvec_t *problems);

/* Appends one warning per top-level key that is not in `known` (a
 * NULL-terminated list, typically the host's own sections plus every loaded
 * module's config_key): "file:line:col: unknown top-level key 'x'", at the
 * key.  Returns how many it appended.  A warning, not an error: Backstage
 * files often carry sections (app, organization) greenroom does not read. */
int gr_config_doc_unknown_top_level(const gr_config_doc_t *doc, const char *const *known,
                                    gr_strvec_t *warnings);

/* Appends every value that must not reach a log, each once: values read
 * through $env/$file, values of fields a validated schema marked
 * GR_CONFIG_SECRET (so call it after gr_config_doc_validate), and values of
 * keys named password, token, secret, privateKey, clientSecret,
 * webhookSecret or apiKey (any case; everything below such a key). */
void gr_config_doc_secrets(const gr_config_doc_t *doc, gr_strvec_t *out);

/* Writes the merged config as YAML; with `redact`, secret values print as
 * "[REDACTED]". */
void gr_config_doc_print(const gr_config_doc_t *doc, FILE *out, int redact);

#endif
