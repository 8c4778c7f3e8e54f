/* core/db_migrate.h: applying a plugin's numbered migrations.
 *
 * One transaction per plugin: take pg_advisory_xact_lock on (the table
 * name, the plugin id) so hosts starting together take turns, create
 * greenroom_migrations (name, checksum, applied_at) if missing, then for
 * each migration in order compare the SHA-256 of its SQL (computed by the
 * server: sha256(convert_to(sql, 'UTF8'))) with the recorded one: equal is
 * skipped, missing is applied and recorded, different refuses with the
 * migration's name.  Any failure rolls everything back. */
#ifndef GR_CORE_DB_MIGRATE_H
#define GR_CORE_DB_MIGRATE_H

#include <greenroom/greenroom.h>

#include "db_service.h"

/* Checks names: non-empty, starting with a digit, strictly increasing. */
int gr_db_migrations_check(const char *plugin_id, const gr_migration_t *migrations,
                           gr_error_t *err);

/* Runs the migrations ({NULL, NULL}-terminated, already checked) on db.
 * The array must live until cb has run. */
void gr_db_migrate_run(gr_db_t *db, gr_log_t *log, const char *plugin_id,
                       const gr_migration_t *migrations, gr_db_service_cb cb, void *user_data);

#endif
