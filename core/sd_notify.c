#include "sd_notify.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <greenroom/error.h>

int gr_sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 0;
    size_t len = strlen(path);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (len >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@'))
        return GR_ERR_INVALID;
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0';
    socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return GR_ERR_IO;
    /* A datagram to a local socket does not block for long: the kernel
     * either queues it or fails at once, so this is safe on the loop. */
    ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT,
                       (struct sockaddr *)&addr, addr_len);
    close(fd);
    return n < 0 ? GR_ERR_IO : 0;
}

uint64_t gr_sd_watchdog_interval_ms(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    if (!usec || !*usec)
        return 0;
    const char *pid = getenv("WATCHDOG_PID");
    if (pid && *pid && strtol(pid, NULL, 10) != (long)getpid())
        return 0;
    char *end;
    unsigned long long us = strtoull(usec, &end, 10);
    if (*end || us == 0)
        return 0;
    uint64_t ms = us / 2000u;
    return ms ? ms : 1;
}
