/* core/sd_notify.h: systemd's readiness protocol, without libsystemd.
 *
 * The protocol is one datagram of "KEY=VALUE\n" lines to the unix socket
 * named by $NOTIFY_SOCKET (a leading '@' means the abstract namespace).
 * When the host runs outside systemd there is no socket and every call is a
 * no-op that succeeds. */
#ifndef GR_CORE_SD_NOTIFY_H
#define GR_CORE_SD_NOTIFY_H

#include <stdint.h>

/* Sends `state` ("READY=1", "STOPPING=1", "RELOADING=1\nMONOTONIC_USEC=..",
 * "WATCHDOG=1", "STATUS=..."); returns 0 or a negative gr_status_t. */
int gr_sd_notify(const char *state);

/* The interval at which to send WATCHDOG=1 (half of $WATCHDOG_USEC, so one
 * late ping is not fatal), or 0 when systemd does not watch this process. */
uint64_t gr_sd_watchdog_interval_ms(void);

#endif
