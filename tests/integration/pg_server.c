/* tests/integration/pg_server.c: a throwaway PostgreSQL for the shell tests.
 *
 * Starts a server with the unit tests' harness (tests/unit/pg_harness.h), so
 * several greenroom processes can share one database; prints
 * "conninfo: <libpq connection string>" on stdout once it accepts
 * connections; on SIGTERM or SIGINT stops it and removes its directory.
 * If this process is killed outright, the server's parent-death signal
 * stops the server (the temp directory stays behind). */
#include <signal.h>
#include <stdio.h>

#include "pg_harness.h"

int main(void)
{
    static gr_pg_harness_t h;
    sigset_t stop;
    int sig = 0;
    if (gr_pg_harness_start(&h) != 0)
        return 1;
    /* Blocked before the line is printed: the caller signals only after
     * reading it, and sigwait then takes the signal. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    printf("conninfo: %s\n", h.conninfo);
    fflush(stdout);
    sigwait(&stop, &sig);
    gr_pg_harness_stop(&h);
    return 0;
}
