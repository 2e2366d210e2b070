/* libaiospec_interpose.so: see include/aiospec/interpose.h and ../README.md. */
#define _GNU_SOURCE
#include "aiospec/interpose.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

#define NO_DEADLINE INT64_MIN

/* -- the real functions ------------------------------------------------------------------- */

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*clock_getres_fn)(clockid_t, struct timespec *);
typedef int (*epoll_wait_fn)(int, struct epoll_event *, int, int);
typedef int (*epoll_pwait_fn)(int, struct epoll_event *, int, int, const sigset_t *);
typedef int (*epoll_pwait2_fn)(int, struct epoll_event *, int, const struct timespec *,
                               const sigset_t *);
typedef int (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
typedef int (*select_fn)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
typedef int (*pselect_fn)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
                          const sigset_t *);

static struct {
    clock_gettime_fn clock_gettime;
    clock_getres_fn clock_getres;
    epoll_wait_fn epoll_wait;
    epoll_pwait_fn epoll_pwait;
    epoll_pwait2_fn epoll_pwait2;
    poll_fn poll;
    ppoll_fn ppoll;
    select_fn select;
    pselect_fn pselect;
} real;

static pthread_once_t resolved = PTHREAD_ONCE_INIT;

static void resolve_all(void) {
    /* dlsym returns void *; going through memcpy keeps -Wpedantic-style casts out. */
#define RESOLVE(name)                                     \
    do {                                                  \
        void *symbol = dlsym(RTLD_NEXT, #name);           \
        memcpy(&real.name, &symbol, sizeof real.name);    \
    } while (0)
    RESOLVE(clock_gettime);
    RESOLVE(clock_getres);
    RESOLVE(epoll_wait);
    RESOLVE(epoll_pwait);
    RESOLVE(epoll_pwait2);
    RESOLVE(poll);
    RESOLVE(ppoll);
    RESOLVE(select);
    RESOLVE(pselect);
#undef RESOLVE
}

static void resolve(void) { pthread_once(&resolved, resolve_all); }

__attribute__((constructor)) static void at_load(void) { resolve(); }

/* -- state ---------------------------------------------------------------------------------- */

static atomic_int enabled;
static _Atomic int64_t clock_ns;
static _Atomic uint64_t waits;
static _Atomic uint64_t clock_reads;
static aiospec_interpose_hooks hooks;

EXPORT int aiospec_interpose_api_version(void) { return AIOSPEC_INTERPOSE_API_VERSION; }

EXPORT void aiospec_interpose_enable(int on) { atomic_store(&enabled, on ? 1 : 0); }

EXPORT int aiospec_interpose_enabled(void) { return atomic_load(&enabled); }

EXPORT void aiospec_interpose_set_clock_ns(int64_t ns) { atomic_store(&clock_ns, ns < 0 ? 0 : ns); }

EXPORT int64_t aiospec_interpose_get_clock_ns(void) { return atomic_load(&clock_ns); }

EXPORT void aiospec_interpose_set_hooks(const aiospec_interpose_hooks *h) {
    if (h != NULL) {
        hooks = *h;
    } else {
        memset(&hooks, 0, sizeof hooks);
    }
}

EXPORT uint64_t aiospec_interpose_wait_count(void) { return atomic_load(&waits); }

EXPORT uint64_t aiospec_interpose_clock_count(void) { return atomic_load(&clock_reads); }

static int is_on(void) { return atomic_load_explicit(&enabled, memory_order_acquire); }

/* -- clocks ---------------------------------------------------------------------------------- */

static int virtual_clock(clockid_t id) {
    return id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE || id == CLOCK_MONOTONIC_RAW ||
           id == CLOCK_BOOTTIME;
}

EXPORT int clock_gettime(clockid_t id, struct timespec *ts) {
    resolve();
    if (is_on() && virtual_clock(id)) {
        int64_t now = atomic_load(&clock_ns);
        atomic_fetch_add(&clock_reads, 1);
        ts->tv_sec = (time_t)(now / 1000000000);
        ts->tv_nsec = (long)(now % 1000000000);
        return 0;
    }
    return real.clock_gettime(id, ts);
}

EXPORT int clock_getres(clockid_t id, struct timespec *res) {
    resolve();
    if (is_on() && virtual_clock(id)) {
        if (res != NULL) {
            res->tv_sec = 0;
            res->tv_nsec = 1;
        }
        return 0;
    }
    return real.clock_getres(id, res);
}

/* -- the rule -------------------------------------------------------------------------------- */

/* One non-blocking poll of whatever the caller waits on: returns what the real call returns. */
typedef int (*poll0_fn)(void *call);

static int64_t add_clamped(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

/* Move the clock to `to` (never backwards); 0 when moved, nonzero when the host refused. */
static int advance(int64_t to) {
    int64_t now = atomic_load(&clock_ns);
    if (to <= now) return 0;
    if (hooks.advance != NULL && hooks.advance(hooks.context, to) != 0) return 1;
    atomic_store(&clock_ns, to);
    return 0;
}

/* timeout_ns < 0: infinite. */
static int wait_rule(int64_t timeout_ns, poll0_fn poll0, void *call) {
    atomic_fetch_add(&waits, 1);
    if (hooks.begin_wait != NULL) hooks.begin_wait(hooks.context);
    int ready = poll0(call);
    if (ready != 0 || timeout_ns == 0) return ready;
    int64_t deadline =
        timeout_ns < 0 ? NO_DEADLINE : add_clamped(atomic_load(&clock_ns), timeout_ns);
    for (;;) {
        int64_t next = 0;
        int pending = hooks.next_external != NULL && hooks.next_external(hooks.context, &next);
        if (!pending && deadline == NO_DEADLINE) {
            if (hooks.blocked != NULL) hooks.blocked(hooks.context);
            return poll0(call);
        }
        if (pending && (deadline == NO_DEADLINE || next <= deadline)) {
            if (advance(next) != 0) return poll0(call);
            if (hooks.run_externals != NULL) hooks.run_externals(hooks.context);
            ready = poll0(call);
            if (ready != 0) return ready;
            continue;
        }
        if (advance(deadline) != 0) return poll0(call);
        return poll0(call);
    }
}

static int64_t ms_to_ns(int ms) { return ms < 0 ? -1 : (int64_t)ms * 1000000; }

static int64_t timespec_to_ns(const struct timespec *ts) {
    if (ts == NULL) return -1;
    if (ts->tv_sec < 0 || ts->tv_nsec < 0) return 0;
    if (ts->tv_sec > INT64_MAX / 1000000000 - 1) return INT64_MAX;
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int64_t timeval_to_ns(const struct timeval *tv) {
    if (tv == NULL) return -1;
    if (tv->tv_sec < 0 || tv->tv_usec < 0) return 0;
    if (tv->tv_sec > INT64_MAX / 1000000000 - 1) return INT64_MAX;
    return (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
}

/* -- epoll ------------------------------------------------------------------------------------ */

struct epoll_call {
    int epfd;
    struct epoll_event *events;
    int maxevents;
    const sigset_t *sigmask;
    int with_mask;
};

static int epoll_poll0(void *p) {
    struct epoll_call *c = p;
    if (c->with_mask) return real.epoll_pwait(c->epfd, c->events, c->maxevents, 0, c->sigmask);
    return real.epoll_wait(c->epfd, c->events, c->maxevents, 0);
}

EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout) {
    resolve();
    if (!is_on()) return real.epoll_wait(epfd, events, maxevents, timeout);
    struct epoll_call c = {epfd, events, maxevents, NULL, 0};
    return wait_rule(ms_to_ns(timeout), epoll_poll0, &c);
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
                       const sigset_t *sigmask) {
    resolve();
    if (!is_on()) return real.epoll_pwait(epfd, events, maxevents, timeout, sigmask);
    struct epoll_call c = {epfd, events, maxevents, sigmask, 1};
    return wait_rule(ms_to_ns(timeout), epoll_poll0, &c);
}

EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
                        const struct timespec *timeout, const sigset_t *sigmask) {
    resolve();
    if (real.epoll_pwait2 == NULL) {
        errno = ENOSYS;
        return -1;
    }
    if (!is_on()) return real.epoll_pwait2(epfd, events, maxevents, timeout, sigmask);
    struct epoll_call c = {epfd, events, maxevents, sigmask, 1};
    return wait_rule(timespec_to_ns(timeout), epoll_poll0, &c);
}

/* -- poll --------------------------------------------------------------------------------------- */

struct poll_call {
    struct pollfd *fds;
    nfds_t nfds;
    const sigset_t *sigmask;
    int with_mask;
};

static int poll_poll0(void *p) {
    struct poll_call *c = p;
    if (c->with_mask) {
        struct timespec zero = {0, 0};
        return real.ppoll(c->fds, c->nfds, &zero, c->sigmask);
    }
    return real.poll(c->fds, c->nfds, 0);
}

EXPORT int poll(struct pollfd *fds, nfds_t nfds, int timeout) {
    resolve();
    if (!is_on()) return real.poll(fds, nfds, timeout);
    struct poll_call c = {fds, nfds, NULL, 0};
    return wait_rule(ms_to_ns(timeout), poll_poll0, &c);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout,
                 const sigset_t *sigmask) {
    resolve();
    if (!is_on()) return real.ppoll(fds, nfds, timeout, sigmask);
    struct poll_call c = {fds, nfds, sigmask, 1};
    return wait_rule(timespec_to_ns(timeout), poll_poll0, &c);
}

/* -- select --------------------------------------------------------------------------------------- */

/* select modifies its sets: every poll starts again from the caller's sets. */
struct select_call {
    int nfds;
    fd_set *sets[3];
    fd_set saved[3];
    const sigset_t *sigmask;
    int with_mask;
};

static int select_poll0(void *p) {
    struct select_call *c = p;
    for (int i = 0; i < 3; i++)
        if (c->sets[i] != NULL) *c->sets[i] = c->saved[i];
    if (c->with_mask) {
        struct timespec zero = {0, 0};
        return real.pselect(c->nfds, c->sets[0], c->sets[1], c->sets[2], &zero, c->sigmask);
    }
    struct timeval zero = {0, 0};
    return real.select(c->nfds, c->sets[0], c->sets[1], c->sets[2], &zero);
}

static void select_setup(struct select_call *c, int nfds, fd_set *r, fd_set *w, fd_set *e) {
    c->nfds = nfds;
    c->sets[0] = r;
    c->sets[1] = w;
    c->sets[2] = e;
    for (int i = 0; i < 3; i++)
        if (c->sets[i] != NULL) c->saved[i] = *c->sets[i];
}

EXPORT int select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                  struct timeval *timeout) {
    resolve();
    if (!is_on()) return real.select(nfds, readfds, writefds, exceptfds, timeout);
    struct select_call c;
    select_setup(&c, nfds, readfds, writefds, exceptfds);
    c.sigmask = NULL;
    c.with_mask = 0;
    int64_t timeout_ns = timeval_to_ns(timeout);
    int64_t start = atomic_load(&clock_ns);
    int result = wait_rule(timeout_ns, select_poll0, &c);
    if (timeout != NULL && timeout_ns > 0) {
        /* Linux writes the time not slept back into the timeout. */
        int64_t left = timeout_ns - (atomic_load(&clock_ns) - start);
        if (left < 0) left = 0;
        timeout->tv_sec = (time_t)(left / 1000000000);
        timeout->tv_usec = (suseconds_t)((left % 1000000000) / 1000);
    }
    return result;
}

EXPORT int pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                   const struct timespec *timeout, const sigset_t *sigmask) {
    resolve();
    if (!is_on()) return real.pselect(nfds, readfds, writefds, exceptfds, timeout, sigmask);
    struct select_call c;
    select_setup(&c, nfds, readfds, writefds, exceptfds);
    c.sigmask = sigmask;
    c.with_mask = 1;
    return wait_rule(timespec_to_ns(timeout), select_poll0, &c);
}
