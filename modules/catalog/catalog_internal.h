/* modules/catalog/catalog_internal.h: what the files of the entity model
 * share with each other and nobody else. */
#ifndef CATALOG_INTERNAL_H
#define CATALOG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <json.h>

#include "catalog_model.h"

/* Position maps: built by the parsers, read by catalog_doc_locate. */
catalog_posmap_t *catalog__posmap_new(void);
void catalog__posmap_add(catalog_posmap_t *map, const char *path, size_t path_len, uint32_t line,
                         uint32_t column);
void catalog__posmap_free(catalog_posmap_t *map);

/* Appends a parsed document to the file; takes ownership of entity and
 * positions. */
void catalog__file_add_doc(catalog_file_t *file, struct json_object *entity, uint32_t index,
                           uint32_t line, uint32_t column, catalog_posmap_t *positions);

/* Appends an issue that already has a position. */
__attribute__((format(printf, 5, 6))) void catalog__issues_add_at(catalog_issues_t *issues,
                                                                  const char *path, uint32_t line,
                                                                  uint32_t column, const char *fmt,
                                                                  ...);

/* "a string", "a number", "a list", ... for messages about wrong types. */
const char *catalog__json_type_phrase(struct json_object *value);

/* SHA-256 of a byte string, written as 64 lower-case hex digits and a NUL. */
void catalog__sha256_hex(const void *data, size_t len, char out[65]);

#endif
