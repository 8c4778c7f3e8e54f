/* Tests for core/sd_notify.c and the host's use of it: a unix datagram
 * socket stands in for systemd, the real greenroom binary runs with
 * NOTIFY_SOCKET pointing at it, and the test reads what systemd would. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <greenroom/error.h>

#include "sd_notify.h"
#include "test.h"
#include "util.h"

typedef struct fake_systemd {
    char dir[64];
    char path[100];
    int fd;
} fake_systemd_t;

static int fake_systemd_open(fake_systemd_t *sd, int abstract)
{
    snprintf(sd->dir, sizeof sd->dir, "/tmp/gr-sdnotify.XXXXXX");
    if (!mkdtemp(sd->dir))
        return -1;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    socklen_t len;
    if (abstract) {
        snprintf(sd->path, sizeof sd->path, "@greenroom-test-%d", (int)getpid());
        memcpy(addr.sun_path, sd->path, strlen(sd->path));
        addr.sun_path[0] = '\0';
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sd->path));
    } else {
        snprintf(sd->path, sizeof sd->path, "%s/notify", sd->dir);
        snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sd->path);
        len = sizeof addr;
    }
    sd->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sd->fd < 0 || bind(sd->fd, (struct sockaddr *)&addr, len) != 0)
        return -1;
    struct timeval tv = {.tv_sec = 10};
    setsockopt(sd->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return 0;
}

static void fake_systemd_close(fake_systemd_t *sd)
{
    close(sd->fd);
    if (sd->path[0] == '/')
        unlink(sd->path);
    rmdir(sd->dir);
}

/* Reads datagrams until one contains `want` (or times out); returns 1 if seen. */
static int fake_systemd_expect(fake_systemd_t *sd, const char *want)
{
    char buf[512];
    for (int i = 0; i < 100; i++) {
        ssize_t n = recv(sd->fd, buf, sizeof buf - 1, 0);
        if (n < 0)
            return 0;
        buf[n] = '\0';
        if (strstr(buf, want))
            return 1;
    }
    return 0;
}

TEST(sends_to_path_and_abstract_sockets)
{
    for (int abstract = 0; abstract <= 1; abstract++) {
        fake_systemd_t sd;
        REQUIRE(fake_systemd_open(&sd, abstract) == 0);
        setenv("NOTIFY_SOCKET", sd.path, 1);
        CHECK(gr_sd_notify("READY=1\nSTATUS=hello") == 0);
        CHECK(fake_systemd_expect(&sd, "READY=1\nSTATUS=hello"));
        fake_systemd_close(&sd);
    }
    unsetenv("NOTIFY_SOCKET");
    CHECK(gr_sd_notify("READY=1") == 0); /* outside systemd: a no-op */
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    CHECK(gr_sd_notify("READY=1") == GR_ERR_INVALID);
    unsetenv("NOTIFY_SOCKET");
}

TEST(watchdog_interval_is_half_of_watchdog_usec_for_this_pid)
{
    setenv("WATCHDOG_USEC", "3000000", 1);
    unsetenv("WATCHDOG_PID");
    CHECK(gr_sd_watchdog_interval_ms() == 1500);
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    CHECK(gr_sd_watchdog_interval_ms() == 1500);
    setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
    CHECK(gr_sd_watchdog_interval_ms() == 0);
    setenv("WATCHDOG_USEC", "garbage", 1);
    unsetenv("WATCHDOG_PID");
    CHECK(gr_sd_watchdog_interval_ms() == 0);
    unsetenv("WATCHDOG_USEC");
    CHECK(gr_sd_watchdog_interval_ms() == 0);
}

TEST(the_host_reports_ready_reloading_watchdog_and_stopping)
{
    fake_systemd_t sd;
    REQUIRE(fake_systemd_open(&sd, 0) == 0);
    char config[256];
    snprintf(config, sizeof config, "%s/app-config.yaml", sd.dir);
    FILE *f = fopen(config, "w");
    REQUIRE(f);
    fputs("backend:\n  listen: { host: 127.0.0.1, port: 0 }\n  database: { client: none }\n", f);
    fclose(f);

    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        setenv("NOTIFY_SOCKET", sd.path, 1);
        setenv("WATCHDOG_USEC", "200000", 1); /* a ping every 100 ms */
        if (!freopen("/dev/null", "w", stderr))
            _exit(126);
        execl(GR_TEST_BINARY, "greenroom", "serve", "-c", config, "--state-dir", sd.dir, (char *)NULL);
        _exit(127);
    }
    CHECK(fake_systemd_expect(&sd, "READY=1"));
    CHECK(fake_systemd_expect(&sd, "WATCHDOG=1"));
    kill(pid, SIGHUP);
    CHECK(fake_systemd_expect(&sd, "RELOADING=1"));
    CHECK(fake_systemd_expect(&sd, "READY=1"));
    kill(pid, SIGTERM);
    CHECK(fake_systemd_expect(&sd, "STOPPING=1"));
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    unlink(config);
    fake_systemd_close(&sd);
}

TEST_MAIN(TEST_ENTRY(sends_to_path_and_abstract_sockets),
          TEST_ENTRY(watchdog_interval_is_half_of_watchdog_usec_for_this_pid),
          TEST_ENTRY(the_host_reports_ready_reloading_watchdog_and_stopping))
