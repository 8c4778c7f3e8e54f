/* core/config_print.c: what must not be shown, and showing the rest.
 *
 * A value is secret when it was read through $env or $file, when a schema
 * marked its field GR_CONFIG_SECRET, or when its key (or the key of a map or
 * list holding it) says so: password, token, secret, privateKey,
 * clientSecret, webhookSecret or apiKey, in any letter case. */
#include <string.h>

#include <yaml.h>

#include "config_node.h"

static void gr__collect(const gr_config_t *node, int secret, gr_strvec_t *out)
{
    secret = secret || node->secret || gr_config_key_is_secret(node->key);
    if (node->kind == GR_NODE_SCALAR && secret && *node->text &&
        !gr_strvec_contains(out, node->text))
        gr_strvec_push(out, node->text);
    for (size_t i = 0; i < node->len; i++)
        gr__collect(node->items[i], secret, out);
}

void gr_config_doc_secrets(const gr_config_doc_t *doc, gr_strvec_t *out)
{
    gr__collect(doc->root, 0, out);
}

static int gr__scalar(yaml_emitter_t *e, const char *text, int quoted)
{
    yaml_event_t ev;
    /* A value written quoted stays quoted, so "true" or "8080" read back as
     * strings; libyaml quotes plain values that need it by itself. */
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), !quoted,
                                 1, YAML_ANY_SCALAR_STYLE);
    return yaml_emitter_emit(e, &ev);
}

static int gr__emit(yaml_emitter_t *e, const gr_config_t *node, int secret, int redact)
{
    yaml_event_t ev;
    secret = secret || node->secret || gr_config_key_is_secret(node->key);
    switch (node->kind) {
    case GR_NODE_NULL: return gr__scalar(e, "null", 0);
    case GR_NODE_SCALAR:
        if (redact && secret)
            return gr__scalar(e, "[REDACTED]", 1);
        return gr__scalar(e, node->text, node->quoted);
    case GR_NODE_MAP:
        yaml_mapping_start_event_initialize(
            &ev, NULL, NULL, 1, node->len ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE);
        if (!yaml_emitter_emit(e, &ev))
            return 0;
        for (size_t i = 0; i < node->len; i++)
            if (!gr__scalar(e, node->items[i]->key, 0) ||
                !gr__emit(e, node->items[i], secret, redact))
                return 0;
        yaml_mapping_end_event_initialize(&ev);
        return yaml_emitter_emit(e, &ev);
    case GR_NODE_SEQ:
        yaml_sequence_start_event_initialize(
            &ev, NULL, NULL, 1, node->len ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE);
        if (!yaml_emitter_emit(e, &ev))
            return 0;
        for (size_t i = 0; i < node->len; i++)
            if (!gr__emit(e, node->items[i], secret, redact))
                return 0;
        yaml_sequence_end_event_initialize(&ev);
        return yaml_emitter_emit(e, &ev);
    }
    return 0;
}

void gr_config_doc_print(const gr_config_doc_t *doc, FILE *out, int redact)
{
    yaml_emitter_t e;
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&e)) {
        fputs("# greenroom: cannot initialise the YAML emitter\n", out);
        return;
    }
    yaml_emitter_set_output_file(&e, out);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_indent(&e, 2);
    yaml_emitter_set_width(&e, 100);
    int ok = 1;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    ok = ok && yaml_emitter_emit(&e, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    ok = ok && yaml_emitter_emit(&e, &ev);
    ok = ok && gr__emit(&e, doc->root, 0, redact);
    yaml_document_end_event_initialize(&ev, 1);
    ok = ok && yaml_emitter_emit(&e, &ev);
    yaml_stream_end_event_initialize(&ev);
    ok = ok && yaml_emitter_emit(&e, &ev);
    if (!ok)
        fprintf(out, "# greenroom: cannot print the config: %s\n",
                e.problem ? e.problem : "YAML emitter error");
    yaml_emitter_flush(&e);
    yaml_emitter_delete(&e);
}
