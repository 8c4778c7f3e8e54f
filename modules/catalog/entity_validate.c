/* modules/catalog/entity_validate.c: Backstage's rules for a valid entity.
 *
 * Backstage checks an entity with its default policies, in this order:
 * SchemaValidEntityPolicy (the envelope's JSON schema),
 * DefaultNamespaceEntityPolicy, NoForeignRootFieldsEntityPolicy and
 * FieldFormatEntityPolicy (KubernetesValidatorFunctions for names,
 * namespaces, labels and annotations, its own rule for tags), then the
 * schema of the entity's kind.  We apply the same rules but report every
 * problem instead of the first, each as a sentence that names the field.
 *
 * The kind schemas are a table below: which spec fields must be present
 * and of which type.  Kinds outside the table (Template, custom kinds) only
 * get the envelope and field-format checks, as Backstage stores them when
 * some processor accepts their kind. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "catalog_internal.h"
#include "util.h"

/* Values longer than this are cut in messages; the rest adds nothing. */
#define CATALOG__QUOTE_MAX 80

/* ---- Backstage's format rules --------------------------------------------------- */

static int catalog__alnum(char c)
{
    return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

/* ^[a-z0-9]+(-[a-z0-9]+)*$, 1..63 characters (CommonValidatorFunctions.isValidDnsLabel). */
static int catalog__is_dns_label(const char *s, size_t len)
{
    if (len < 1 || len > 63)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            continue;
        if (c == '-' && i > 0 && i + 1 < len && s[i - 1] != '-')
            continue;
        return 0;
    }
    return 1;
}

/* Dot-separated DNS labels, 1..253 characters. */
static int catalog__is_dns_subdomain(const char *s, size_t len)
{
    if (len < 1 || len > 253)
        return 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (!catalog__is_dns_label(s + start, i - start))
                return 0;
            start = i + 1;
        }
    }
    return 1;
}

/* ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$, 1..63 characters
 * (KubernetesValidatorFunctions.isValidObjectName). */
static int catalog__is_object_name(const char *s, size_t len)
{
    if (len < 1 || len > 63 || !catalog__alnum(s[0]) || !catalog__alnum(s[len - 1]))
        return 0;
    for (size_t i = 1; i + 1 < len; i++)
        if (!catalog__alnum(s[i]) && !strchr("-_.", s[i]))
            return 0;
    return 1;
}

/* [prefix/]name where the prefix is a DNS subdomain and name passes
 * `suffix_ok`; more than one '/' is never valid. */
static int catalog__is_prefixed(const char *s, int (*suffix_ok)(const char *, size_t))
{
    const char *slash = strchr(s, '/');
    if (!slash)
        return suffix_ok(s, strlen(s));
    if (strchr(slash + 1, '/'))
        return 0;
    return catalog__is_dns_subdomain(s, (size_t)(slash - s)) &&
           suffix_ok(slash + 1, strlen(slash + 1));
}

static int catalog__is_version_word(const char *s, size_t len)
{
    if (len < 1 || len > 63)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!catalog__alnum(s[i]))
            return 0;
    return 1;
}

/* ^[a-zA-Z][a-z0-9A-Z]*$, 1..63 characters. */
static int catalog__is_kind(const char *s)
{
    size_t len = strlen(s);
    if (len < 1 || len > 63 || !isascii((unsigned char)s[0]) || !isalpha((unsigned char)s[0]))
        return 0;
    return catalog__is_version_word(s, len);
}

/* ^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$, 1..63 characters (makeValidator's isValidTag). */
static int catalog__is_tag(const char *s)
{
    size_t len = strlen(s);
    if (len < 1 || len > 63)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(":+#", c))
            continue;
        if (c == '-' && i > 0 && i + 1 < len && s[i - 1] != '-')
            continue;
        return 0;
    }
    return 1;
}

/* What `new URL(value)` accepts, near enough: a scheme, a colon, something
 * after it, no blanks; http(s) and friends need a host. */
static int catalog__is_url(const char *s)
{
    if (!isascii((unsigned char)s[0]) || !isalpha((unsigned char)s[0]))
        return 0;
    const char *p = s + 1;
    while (catalog__alnum(*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (*p != ':' || !p[1])
        return 0;
    for (const char *q = p; *q; q++)
        if (isspace((unsigned char)*q))
            return 0;
    static const char *const special[] = {"http", "https", "ftp", "ws", "wss"};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        if (strlen(special[i]) == (size_t)(p - s) &&
            strncasecmp(s, special[i], (size_t)(p - s)) == 0) {
            const char *host = p + 1;
            while (*host == '/')
                host++;
            return *host && *host != '?' && *host != '#';
        }
    }
    return 1;
}

static int catalog__is_label_value(const char *s, size_t len)
{
    return len == 0 || catalog__is_object_name(s, len);
}

static int catalog__is_nonblank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 1;
    return 0;
}

/* ---- reporting ---------------------------------------------------------------- */

typedef struct catalog__check {
    catalog_issues_t *issues;
    gr_buf_t path;
    size_t before;
} catalog__check_t;

/* A value quoted for a message, cut when long; returns a new string. */
static char *catalog__quote(const char *s)
{
    size_t len = strlen(s);
    if (len <= CATALOG__QUOTE_MAX)
        return gr_xasprintf("'%s'", s);
    return gr_xasprintf("'%.*s...'", CATALOG__QUOTE_MAX, s);
}

__attribute__((format(printf, 3, 4))) static void
catalog__fail(catalog__check_t *c, const char *path, const char *fmt, ...)
{
    gr_buf_t b = {0};
    gr_buf_puts(&b, path);
    gr_buf_puts(&b, " ");
    va_list ap;
    va_start(ap, fmt);
    gr_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    catalog_issues_add(c->issues, path, "%s", b.data);
    gr_buf_free(&b);
}

/* Reports a string that breaks a format rule: "<path> '<value>' must be ...". */
static void catalog__fail_format(catalog__check_t *c, const char *path, const char *value,
                                 const char *expectation)
{
    char *q = catalog__quote(value);
    catalog__fail(c, path, "%s must be %s", q, expectation);
    free(q);
}

/* Paths are built for every field checked, valid or not: plain appends,
 * as printf's formatting cost more than the checks themselves. */
static const char *catalog__child_path(catalog__check_t *c, const char *parent, const char *key)
{
    gr_buf_reset(&c->path);
    gr_buf_puts(&c->path, parent);
    gr_buf_append(&c->path, ".", 1);
    gr_buf_puts(&c->path, key);
    return c->path.data;
}

static const char *catalog__index_path(catalog__check_t *c, const char *parent, size_t i)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    gr_buf_reset(&c->path);
    gr_buf_puts(&c->path, parent);
    gr_buf_append(&c->path, ".", 1);
    gr_buf_append(&c->path, digits + sizeof digits - n, n);
    return c->path.data;
}

#define CATALOG__NAME_RULE                                                                         \
    "sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total"
#define CATALOG__NAMESPACE_RULE                                                                    \
    "sequences of [a-z0-9] separated by [-], at most 63 characters in total"
#define CATALOG__KEY_RULE                                                                          \
    "a name of " CATALOG__NAME_RULE ", optionally after a DNS subdomain prefix and '/' (such "     \
    "as backstage.io/techdocs-ref)"

/* Returns the member when it exists with the wanted type, and reports a
 * wrong type.  `required` also reports its absence. */
static struct json_object *catalog__member(catalog__check_t *c, struct json_object *obj,
                                           const char *parent, const char *key, enum json_type type,
                                           int required, const char *type_phrase,
                                           const char *context)
{
    struct json_object *v = NULL;
    int found = json_object_object_get_ex(obj, key, &v);
    if (found && json_object_is_type(v, type))
        return v;
    if (!found && !required)
        return NULL;
    /* The path is only written when there is something to report. */
    const char *path = parent && *parent ? catalog__child_path(c, parent, key) : key;
    char *owned = gr_xstrdup(path);
    if (!found)
        catalog__fail(c, owned, "is required%s", context ? context : "");
    else
        catalog__fail(c, owned, "must be %s, not %s", type_phrase, catalog__json_type_phrase(v));
    free(owned);
    return NULL;
}

/* ---- envelope and metadata ---------------------------------------------------- */

static void catalog__check_root(catalog__check_t *c, struct json_object *entity)
{
    static const char *const known[] = {"apiVersion", "kind", "metadata", "spec"};
    json_object_object_foreach(entity, key, value)
    {
        (void)value;
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok |= strcmp(key, known[i]) == 0;
        if (!ok)
            catalog__fail(c, key,
                          "is not a field an entity may have at its root; only apiVersion, kind, "
                          "metadata and spec are allowed");
    }
}

static void catalog__check_string_map(catalog__check_t *c, struct json_object *map,
                                      const char *parent, int labels)
{
    json_object_object_foreach(map, key, value)
    {
        char *path = gr_xstrdup(catalog__child_path(c, parent, key));
        int key_ok = catalog__is_prefixed(key, catalog__is_object_name);
        if (!key_ok) {
            char *q = catalog__quote(key);
            catalog__fail(c, path, "has the key %s, which must be %s", q, CATALOG__KEY_RULE);
            free(q);
        }
        if (!json_object_is_type(value, json_type_string)) {
            catalog__fail(c, path, "must be a string, not %s", catalog__json_type_phrase(value));
        } else if (labels) {
            const char *v = json_object_get_string(value);
            if (!catalog__is_label_value(v, strlen(v)))
                catalog__fail_format(c, path, v, "empty or " CATALOG__NAME_RULE);
        }
        free(path);
    }
}

static void catalog__check_links(catalog__check_t *c, struct json_object *links)
{
    size_t n = json_object_array_length(links);
    for (size_t i = 0; i < n; i++) {
        struct json_object *link = json_object_array_get_idx(links, i);
        char *base = gr_xstrdup(catalog__index_path(c, "metadata.links", i));
        if (!json_object_is_type(link, json_type_object)) {
            catalog__fail(c, base, "must be a mapping with a url, not %s",
                          catalog__json_type_phrase(link));
            free(base);
            continue;
        }
        struct json_object *v =
            catalog__member(c, link, base, "url", json_type_string, 1, "a string", NULL);
        if (v && !catalog__is_url(json_object_get_string(v)))
            catalog__fail_format(c, catalog__child_path(c, base, "url"), json_object_get_string(v),
                                 "a valid URL, such as https://example.com/dashboard");
        v = catalog__member(c, link, base, "title", json_type_string, 0, "a string", NULL);
        if (v && !catalog__is_nonblank(json_object_get_string(v)))
            catalog__fail(c, catalog__child_path(c, base, "title"), "must not be empty");
        v = catalog__member(c, link, base, "icon", json_type_string, 0, "a string", NULL);
        if (v) {
            const char *icon = json_object_get_string(v);
            if (!catalog__is_object_name(icon, strlen(icon)))
                catalog__fail_format(c, catalog__child_path(c, base, "icon"), icon,
                                     CATALOG__NAME_RULE);
        }
        catalog__member(c, link, base, "type", json_type_string, 0, "a string", NULL);
        free(base);
    }
}

static void catalog__check_metadata(catalog__check_t *c, struct json_object *meta)
{
    struct json_object *v =
        catalog__member(c, meta, "metadata", "name", json_type_string, 1, "a string", NULL);
    if (v) {
        const char *name = json_object_get_string(v);
        if (!catalog__is_object_name(name, strlen(name)))
            catalog__fail_format(c, "metadata.name", name, CATALOG__NAME_RULE);
    }
    v = catalog__member(c, meta, "metadata", "namespace", json_type_string, 0, "a string", NULL);
    if (v) {
        /* An empty namespace is the default one, as Backstage fills it in
         * before checking the format. */
        const char *ns = json_object_get_string(v);
        if (*ns && !catalog__is_dns_label(ns, strlen(ns)))
            catalog__fail_format(c, "metadata.namespace", ns, CATALOG__NAMESPACE_RULE);
    }
    static const char *const strings[] = {"title", "description", "uid", "etag"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        catalog__member(c, meta, "metadata", strings[i], json_type_string, 0, "a string", NULL);

    v = catalog__member(c, meta, "metadata", "labels", json_type_object, 0, "a mapping", NULL);
    if (v)
        catalog__check_string_map(c, v, "metadata.labels", 1);
    v = catalog__member(c, meta, "metadata", "annotations", json_type_object, 0, "a mapping", NULL);
    if (v)
        catalog__check_string_map(c, v, "metadata.annotations", 0);

    v = catalog__member(c, meta, "metadata", "tags", json_type_array, 0, "a list", NULL);
    for (size_t i = 0; v && i < json_object_array_length(v); i++) {
        struct json_object *tag = json_object_array_get_idx(v, i);
        char *path = gr_xstrdup(catalog__index_path(c, "metadata.tags", i));
        if (!json_object_is_type(tag, json_type_string))
            catalog__fail(c, path, "must be a string, not %s", catalog__json_type_phrase(tag));
        else if (!catalog__is_tag(json_object_get_string(tag)))
            catalog__fail_format(c, path, json_object_get_string(tag),
                                 "sequences of [a-z0-9:+#] separated by [-], at most 63 "
                                 "characters in total");
        free(path);
    }

    v = catalog__member(c, meta, "metadata", "links", json_type_array, 0, "a list", NULL);
    if (v)
        catalog__check_links(c, v);
}

/* ---- kind schemas --------------------------------------------------------------- */

typedef enum {
    CATALOG__F_STRING,  /* a non-empty string (or a placeholder) */
    CATALOG__F_STRINGS, /* a list of non-empty strings */
    CATALOG__F_OBJECT,  /* a mapping */
    CATALOG__F_REMOTES, /* a non-empty list of {type, url} mappings */
} catalog__field_type_t;

typedef struct catalog__field {
    const char *name;
    catalog__field_type_t type;
    int required;
} catalog__field_t;

typedef struct catalog__kind {
    const char *kind;
    const catalog__field_t *fields;
} catalog__kind_t;

#define CATALOG__END                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* From the v1alpha1 kind schemas of @backstage/catalog-model, including
 * the fields added since (Component and Resource dependencyOf, Domain
 * subdomainOf, System and Domain type).  User.memberOf is optional since
 * Backstage made it so. */
static const catalog__field_t catalog__component[] = {
    {"type", CATALOG__F_STRING, 1},           {"lifecycle", CATALOG__F_STRING, 1},
    {"owner", CATALOG__F_STRING, 1},          {"system", CATALOG__F_STRING, 0},
    {"subcomponentOf", CATALOG__F_STRING, 0}, {"providesApis", CATALOG__F_STRINGS, 0},
    {"consumesApis", CATALOG__F_STRINGS, 0},  {"dependsOn", CATALOG__F_STRINGS, 0},
    {"dependencyOf", CATALOG__F_STRINGS, 0},  CATALOG__END,
};
static const catalog__field_t catalog__api[] = {
    {"type", CATALOG__F_STRING, 1},   {"lifecycle", CATALOG__F_STRING, 1},
    {"owner", CATALOG__F_STRING, 1},  {"definition", CATALOG__F_STRING, 1},
    {"system", CATALOG__F_STRING, 0}, CATALOG__END,
};
/* An API of type mcp-server lists the server's endpoints in place of a
 * definition (API.v1alpha1.mcp-server.schema.json). */
static const catalog__field_t catalog__api_mcp_server[] = {
    {"type", CATALOG__F_STRING, 1},   {"lifecycle", CATALOG__F_STRING, 1},
    {"owner", CATALOG__F_STRING, 1},  {"remotes", CATALOG__F_REMOTES, 1},
    {"system", CATALOG__F_STRING, 0}, CATALOG__END,
};
static const catalog__field_t catalog__resource[] = {
    {"type", CATALOG__F_STRING, 1},       {"owner", CATALOG__F_STRING, 1},
    {"dependsOn", CATALOG__F_STRINGS, 0}, {"dependencyOf", CATALOG__F_STRINGS, 0},
    {"system", CATALOG__F_STRING, 0},     CATALOG__END,
};
static const catalog__field_t catalog__system[] = {
    {"owner", CATALOG__F_STRING, 1},
    {"domain", CATALOG__F_STRING, 0},
    {"type", CATALOG__F_STRING, 0},
    CATALOG__END,
};
static const catalog__field_t catalog__domain[] = {
    {"owner", CATALOG__F_STRING, 1},
    {"subdomainOf", CATALOG__F_STRING, 0},
    {"type", CATALOG__F_STRING, 0},
    CATALOG__END,
};
static const catalog__field_t catalog__group[] = {
    {"type", CATALOG__F_STRING, 1},    {"children", CATALOG__F_STRINGS, 1},
    {"parent", CATALOG__F_STRING, 0},  {"members", CATALOG__F_STRINGS, 0},
    {"profile", CATALOG__F_OBJECT, 0}, CATALOG__END,
};
static const catalog__field_t catalog__user[] = {
    {"memberOf", CATALOG__F_STRINGS, 0},
    {"profile", CATALOG__F_OBJECT, 0},
    CATALOG__END,
};
static const catalog__field_t catalog__location[] = {
    {"type", CATALOG__F_STRING, 0},
    {"target", CATALOG__F_STRING, 0},
    {"targets", CATALOG__F_STRINGS, 0},
    CATALOG__END,
};

static const catalog__kind_t catalog__kinds[] = {
    {"Component", catalog__component}, {"API", catalog__api},
    {"Resource", catalog__resource},   {"System", catalog__system},
    {"Domain", catalog__domain},       {"Group", catalog__group},
    {"User", catalog__user},           {"Location", catalog__location},
};

static const catalog__kind_t *catalog__find_kind(const char *kind, int ignore_case)
{
    for (size_t i = 0; i < sizeof catalog__kinds / sizeof catalog__kinds[0]; i++) {
        if (ignore_case ? strcasecmp(kind, catalog__kinds[i].kind) == 0
                        : strcmp(kind, catalog__kinds[i].kind) == 0)
            return &catalog__kinds[i];
    }
    return NULL;
}

int catalog_kind_is_core(const char *kind)
{
    return kind && catalog__find_kind(kind, 0) != NULL;
}

/* {"$text": "..."} and its siblings: Backstage's PlaceholderProcessor
 * replaces these with the referenced content before validation. */
static int catalog__is_placeholder(struct json_object *v)
{
    if (!json_object_is_type(v, json_type_object) || json_object_object_length(v) != 1)
        return 0;
    static const char *const keys[] = {"$text", "$json", "$yaml", "$openapi", "$asyncapi"};
    json_object_object_foreach(v, key, value)
    {
        (void)value;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(key, keys[i]) == 0)
                return 1;
    }
    return 0;
}

static void catalog__check_nonempty_string(catalog__check_t *c, const char *path,
                                           struct json_object *v)
{
    if (catalog__is_placeholder(v))
        return;
    if (!json_object_is_type(v, json_type_string))
        catalog__fail(c, path, "must be a string, not %s", catalog__json_type_phrase(v));
    else if (!*json_object_get_string(v))
        catalog__fail(c, path, "must not be empty");
}

static void catalog__check_remotes(catalog__check_t *c, const char *path, struct json_object *v)
{
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
        catalog__fail(c, path, "must be a non-empty list of mappings with a type and a url");
        return;
    }
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        struct json_object *remote = json_object_array_get_idx(v, i);
        char *item = gr_xstrdup(catalog__index_path(c, path, i));
        if (!json_object_is_type(remote, json_type_object)) {
            catalog__fail(c, item, "must be a mapping with a type and a url, not %s",
                          catalog__json_type_phrase(remote));
            free(item);
            continue;
        }
        static const char *const keys[] = {"type", "url"};
        for (size_t k = 0; k < 2; k++) {
            struct json_object *field = NULL;
            char *fpath = gr_xstrdup(catalog__child_path(c, item, keys[k]));
            if (!json_object_object_get_ex(remote, keys[k], &field))
                catalog__fail(c, fpath, "is required");
            else
                catalog__check_nonempty_string(c, fpath, field);
            free(fpath);
        }
        free(item);
    }
}

static void catalog__check_spec(catalog__check_t *c, const catalog__kind_t *kind,
                                const catalog__field_t *fields, struct json_object *spec)
{
    for (const catalog__field_t *f = fields; f->name; f++) {
        char *path = gr_xstrdup(catalog__child_path(c, "spec", f->name));
        struct json_object *v = NULL;
        if (!json_object_object_get_ex(spec, f->name, &v)) {
            if (f->required)
                catalog__fail(c, path, "is required for kind %s", kind->kind);
            free(path);
            continue;
        }
        switch (f->type) {
        case CATALOG__F_STRING: catalog__check_nonempty_string(c, path, v); break;
        case CATALOG__F_REMOTES: catalog__check_remotes(c, path, v); break;
        case CATALOG__F_OBJECT:
            if (!json_object_is_type(v, json_type_object))
                catalog__fail(c, path, "must be a mapping, not %s", catalog__json_type_phrase(v));
            break;
        case CATALOG__F_STRINGS:
            if (!json_object_is_type(v, json_type_array)) {
                catalog__fail(c, path, "must be a list of entity references, not %s",
                              catalog__json_type_phrase(v));
                break;
            }
            for (size_t i = 0; i < json_object_array_length(v); i++) {
                char *item = gr_xstrdup(catalog__index_path(c, path, i));
                catalog__check_nonempty_string(c, item, json_object_array_get_idx(v, i));
                free(item);
            }
            break;
        }
        free(path);
    }
}

static void catalog__check_kind(catalog__check_t *c, struct json_object *entity,
                                const char *kind_name, const char *api_version)
{
    const catalog__kind_t *kind = catalog__find_kind(kind_name, 0);
    if (!kind) {
        const catalog__kind_t *near = catalog__find_kind(kind_name, 1);
        if (near) {
            char *q = catalog__quote(kind_name);
            catalog__fail(c, "kind",
                          "%s must be written '%s'; Backstage's kinds are "
                          "case-sensitive",
                          q, near->kind);
            free(q);
        }
        return;
    }
    if (api_version && strcmp(api_version, "backstage.io/v1alpha1") != 0 &&
        strcmp(api_version, "backstage.io/v1beta1") != 0) {
        char *q = catalog__quote(api_version);
        catalog__fail(c, "apiVersion",
                      "%s must be backstage.io/v1alpha1 or backstage.io/v1beta1 "
                      "for kind %s",
                      q, kind->kind);
        free(q);
    }
    struct json_object *spec = NULL;
    if (!json_object_object_get_ex(entity, "spec", &spec)) {
        catalog__fail(c, "spec", "is required for kind %s", kind->kind);
        return;
    }
    if (!json_object_is_type(spec, json_type_object))
        return;
    const catalog__field_t *fields = kind->fields;
    struct json_object *type;
    if (kind->fields == catalog__api && json_object_object_get_ex(spec, "type", &type) &&
        json_object_is_type(type, json_type_string) &&
        strcmp(json_object_get_string(type), "mcp-server") == 0)
        fields = catalog__api_mcp_server;
    catalog__check_spec(c, kind, fields, spec);
}

/* ---- entry points ------------------------------------------------------------------- */

void catalog_entity_apply_defaults(struct json_object *entity)
{
    struct json_object *meta, *ns;
    if (!json_object_object_get_ex(entity, "metadata", &meta) ||
        !json_object_is_type(meta, json_type_object))
        return;
    if (json_object_object_get_ex(meta, "namespace", &ns) && ns &&
        !(json_object_is_type(ns, json_type_string) && !*json_object_get_string(ns)))
        return;
    json_object_object_add(meta, "namespace", json_object_new_string(CATALOG_DEFAULT_NAMESPACE));
}

int catalog_entity_validate(struct json_object *entity, catalog_issues_t *issues)
{
    catalog__check_t c = {.issues = issues, .before = issues->len};
    if (!json_object_is_type(entity, json_type_object)) {
        catalog_issues_add(issues, "", "an entity must be a mapping, not %s",
                           catalog__json_type_phrase(entity));
        return GR_ERR_INVALID;
    }
    catalog__check_root(&c, entity);

    struct json_object *v =
        catalog__member(&c, entity, NULL, "apiVersion", json_type_string, 1, "a string", NULL);
    const char *api_version = v ? json_object_get_string(v) : NULL;
    if (api_version && !catalog__is_prefixed(api_version, catalog__is_version_word))
        catalog__fail_format(&c, "apiVersion", api_version,
                             "a version such as backstage.io/v1alpha1: an optional DNS subdomain "
                             "and '/', then letters and digits");

    v = catalog__member(&c, entity, NULL, "kind", json_type_string, 1, "a string", NULL);
    const char *kind = v ? json_object_get_string(v) : NULL;
    if (kind && !catalog__is_kind(kind)) {
        catalog__fail_format(&c, "kind", kind,
                             "a letter followed by letters and digits ([a-zA-Z][a-z0-9A-Z]*), at "
                             "most 63 characters in total");
        kind = NULL;
    }

    struct json_object *meta =
        catalog__member(&c, entity, NULL, "metadata", json_type_object, 1, "a mapping", NULL);
    if (meta)
        catalog__check_metadata(&c, meta);
    catalog__member(&c, entity, NULL, "spec", json_type_object, 0, "a mapping", NULL);

    if (kind)
        catalog__check_kind(&c, entity, kind, api_version);
    gr_buf_free(&c.path);
    return issues->len > c.before ? GR_ERR_INVALID : 0;
}
