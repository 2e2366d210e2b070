/* The rule of libaiospec_interpose.so on clock_gettime, epoll_wait, epoll_pwait, poll, ppoll,
 * select and pselect, with a pipe. A plain C program linked against the library (so its
 * definitions come before libc's, as under LD_PRELOAD), built without sanitizers. Exit 0 when
 * every check passes; one line per failed check on stderr otherwise. */
#define _GNU_SOURCE
#include "aiospec/interpose.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL

static int failures;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                       \
        }                                                                     \
    } while (0)

/* The host side: one optional external event that may write to the pipe. */
static struct {
    int pipe_w;
    int64_t external_at; /* -1: none */
    int external_writes;
    int externals_run;
    int begin_waits;
    int blocked;
    int64_t refuse_beyond; /* -1: never refuse */
} host;

static void begin_wait(void *context) {
    (void)context;
    host.begin_waits++;
}

static int next_external(void *context, int64_t *at) {
    (void)context;
    if (host.external_at < 0) return 0;
    *at = host.external_at;
    return 1;
}

static void run_externals(void *context) {
    (void)context;
    if (host.external_at >= 0 && host.external_at <= aiospec_interpose_get_clock_ns()) {
        host.external_at = -1;
        host.externals_run++;
        if (host.external_writes) CHECK(write(host.pipe_w, "x", 1) == 1);
    }
}

static int advance(void *context, int64_t to) {
    (void)context;
    return host.refuse_beyond >= 0 && to > host.refuse_beyond;
}

static void blocked(void *context) {
    (void)context;
    host.blocked++;
}

static int64_t now(void) {
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void reset_host(void) {
    host.external_at = -1;
    host.external_writes = 0;
    host.externals_run = 0;
    host.begin_waits = 0;
    host.blocked = 0;
    host.refuse_beyond = -1;
}

static void drain(int fd) {
    char buffer[16];
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, 0) == 1) CHECK(read(fd, buffer, sizeof buffer) > 0);
}

int main(void) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    host.pipe_w = fds[1];
    aiospec_interpose_hooks h = {NULL, begin_wait, next_external, run_externals, advance, blocked};
    aiospec_interpose_set_hooks(&h);
    CHECK(aiospec_interpose_api_version() == AIOSPEC_INTERPOSE_API_VERSION);

    /* Inert until enabled: the real clock, a real (zero) wait, no hook. */
    reset_host();
    aiospec_interpose_set_clock_ns(5);
    CHECK(aiospec_interpose_enabled() == 0);
    struct timespec real_ts;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &real_ts) == 0);
    struct pollfd pr = {fds[0], POLLIN, 0};
    CHECK(poll(&pr, 1, 0) == 0);
    CHECK(host.begin_waits == 0);
    CHECK(aiospec_interpose_wait_count() == 0);

    aiospec_interpose_enable(1);
    /* Clocks. */
    aiospec_interpose_set_clock_ns(1500 * MS);
    CHECK(now() == 1500 * MS);
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0 && ts.tv_sec == 1 && ts.tv_nsec == 500 * MS);
    CHECK(clock_gettime(CLOCK_MONOTONIC_RAW, &ts) == 0 && ts.tv_sec == 1);
    CHECK(clock_gettime(CLOCK_BOOTTIME, &ts) == 0 && ts.tv_sec == 1);
    CHECK(clock_getres(CLOCK_MONOTONIC_COARSE, &ts) == 0 && ts.tv_sec == 0 && ts.tv_nsec == 1);
    CHECK(clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 1000000000); /* not interposed */
    aiospec_interpose_set_clock_ns(0);

    /* poll: nothing ready, 100 ms: the clock moves exactly 100 ms, the wait returns 0. */
    reset_host();
    CHECK(poll(&pr, 1, 100) == 0);
    CHECK(now() == 100 * MS);
    CHECK(host.begin_waits == 1);
    /* Zero timeout: no time passes. */
    CHECK(poll(&pr, 1, 0) == 0);
    CHECK(now() == 100 * MS);
    /* Something ready: returned at once, no time passes. */
    CHECK(write(fds[1], "x", 1) == 1);
    CHECK(poll(&pr, 1, 1000) == 1 && (pr.revents & POLLIN));
    CHECK(now() == 100 * MS);
    drain(fds[0]);

    /* ppoll: an external event at 130 ms that writes: the wait ends there. */
    reset_host();
    host.external_at = 130 * MS;
    host.external_writes = 1;
    struct timespec second = {1, 0};
    CHECK(ppoll(&pr, 1, &second, NULL) == 1);
    CHECK(now() == 130 * MS);
    CHECK(host.externals_run == 1);
    drain(fds[0]);

    /* epoll_wait: an external event that makes nothing ready does not end the wait: the deadline
     * fixed at the start (130 + 100 ms) is kept. */
    int ep = epoll_create1(0);
    CHECK(ep >= 0);
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = fds[0];
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev) == 0);
    struct epoll_event out[4];
    reset_host();
    host.external_at = 150 * MS;
    CHECK(epoll_wait(ep, out, 4, 100) == 0);
    CHECK(host.externals_run == 1);
    CHECK(now() == 230 * MS);
    /* An external event after the deadline stays pending. */
    reset_host();
    host.external_at = 500 * MS;
    host.external_writes = 1;
    CHECK(epoll_pwait(ep, out, 4, 50, NULL) == 0);
    CHECK(now() == 280 * MS && host.externals_run == 0);
    /* ... and ends an infinite wait when it comes. */
    CHECK(epoll_wait(ep, out, 4, -1) == 1 && out[0].data.fd == fds[0]);
    CHECK(now() == 500 * MS && host.externals_run == 1);
    drain(fds[0]);

    /* An infinite wait with nothing pending: the blocked hook, then one poll (nothing). */
    reset_host();
    CHECK(epoll_wait(ep, out, 4, -1) == 0);
    CHECK(host.blocked == 1 && now() == 500 * MS);

    /* The host refuses a move (a budget): the clock stays. */
    reset_host();
    host.refuse_beyond = 600 * MS;
    CHECK(poll(&pr, 1, 200) == 0);
    CHECK(now() == 500 * MS);
    host.refuse_beyond = -1;

    /* select: sets restored for every poll, the timeout written back (time not slept). */
    reset_host();
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(fds[0], &readable);
    struct timeval tv = {0, 250000};
    CHECK(select(fds[0] + 1, &readable, NULL, NULL, &tv) == 0);
    CHECK(now() == 750 * MS);
    CHECK(tv.tv_sec == 0 && tv.tv_usec == 0);
    CHECK(!FD_ISSET(fds[0], &readable));
    reset_host();
    host.external_at = 800 * MS;
    host.external_writes = 1;
    FD_ZERO(&readable);
    FD_SET(fds[0], &readable);
    tv.tv_sec = 1;
    tv.tv_usec = 0;
    CHECK(select(fds[0] + 1, &readable, NULL, NULL, &tv) == 1);
    CHECK(FD_ISSET(fds[0], &readable));
    CHECK(now() == 800 * MS && tv.tv_sec == 0 && tv.tv_usec == 950000);
    drain(fds[0]);
    /* pselect with no timeout and nothing pending: blocked. */
    reset_host();
    FD_ZERO(&readable);
    FD_SET(fds[0], &readable);
    CHECK(pselect(fds[0] + 1, &readable, NULL, NULL, NULL, NULL) == 0);
    CHECK(host.blocked == 1);

    /* Disabled again: pass-through. */
    aiospec_interpose_enable(0);
    uint64_t count = aiospec_interpose_wait_count();
    CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0 && ts.tv_sec >= real_ts.tv_sec);
    CHECK(poll(&pr, 1, 0) == 0);
    CHECK(aiospec_interpose_wait_count() == count);

    close(ep);
    close(fds[0]);
    close(fds[1]);
    if (failures == 0) printf("interpose_test: all checks passed\n");
    return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
