/* greenroom/greenroom.h: the whole SDK.  A module includes this one header.
 *
 *   error.h      status codes and gr_error_t
 *   types.h      handles, config schema, schedules
 *   api.h        the host's function table (reached through every handle)
 *   module.h     the descriptor a .so exports, its context, work, hooks,
 *                extension points, health
 *   log.h        logging
 *   config.h     reading the module's config section
 *   http.h       routes, requests, responses
 *   scheduler.h  scheduled tasks
 *   metrics.h    Prometheus metrics
 *   db.h         the plugin's PostgreSQL database
 *   http_client.h  outbound HTTP requests
 *   github.h     the shared GitHub client: REST, GraphQL, App auth
 */
#ifndef GREENROOM_GREENROOM_H
#define GREENROOM_GREENROOM_H

#include <greenroom/error.h>
#include <greenroom/types.h>
#include <greenroom/api.h>
#include <greenroom/module.h>
#include <greenroom/log.h>
#include <greenroom/config.h>
#include <greenroom/http.h>
#include <greenroom/scheduler.h>
#include <greenroom/metrics.h>
#include <greenroom/db.h>
#include <greenroom/http_client.h>
#include <greenroom/github.h>

#define GR_SDK_VERSION "0.1.0"

#endif
