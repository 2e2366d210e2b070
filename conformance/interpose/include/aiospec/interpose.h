/* libaiospec_interpose.so — deterministic virtual time for an unmodified event loop.
 *
 * Preloaded into a loop's process (LD_PRELOAD), the library answers the monotonic clocks from a
 * virtual clock and turns the waits of the process (epoll_wait, epoll_pwait, epoll_pwait2, poll,
 * ppoll, select, pselect) into the suite's rule (conformance/interpose/README.md):
 *
 *   1. call hooks.begin_wait (the host counts an iteration and runs its due external events),
 *      then poll without blocking; return if something is ready, the poll failed, or the
 *      timeout is 0;
 *   2. fix the deadline once: now + timeout (none for an infinite wait);
 *   3. if the next external event (hooks.next_external) comes no later than the deadline: move
 *      the clock to it (hooks.advance may refuse), call hooks.run_externals, poll; return if
 *      something is ready, otherwise keep waiting for the same deadline; otherwise move the
 *      clock to the deadline, poll once and return what that gives (possibly nothing);
 *   4. an infinite wait with no external event pending: hooks.blocked, then poll once and
 *      return what that gives.
 *
 * Until aiospec_interpose_enable(1) the library is inert: every interposed function calls the
 * real one (found with dlsym(RTLD_NEXT)) unchanged.
 *
 * From Python the symbols are found in the preloaded library with ctypes.CDLL(None); from C or
 * C++ declare them with this header (a host linked against the library, or one that resolves
 * them with dlsym(RTLD_DEFAULT) when preloaded).
 */
#ifndef AIOSPEC_INTERPOSE_H
#define AIOSPEC_INTERPOSE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this control API; aiospec_interpose_api_version() returns it. */
#define AIOSPEC_INTERPOSE_API_VERSION 1

/* The host's side of the rule. Every field may be NULL. The hooks are called on the thread that
 * made the interposed call, with no lock of the library held: a hook may itself make interposed
 * calls (a loop run by an external event waits too). They must not be changed while a wait is in
 * progress. */
typedef struct aiospec_interpose_hooks {
    void *context; /* passed to every hook */

    /* At the start of every interposed wait, before the first poll: the host counts one loop
     * iteration and runs the external events that are due. */
    void (*begin_wait)(void *context);

    /* The time (virtual clock, ns) of the earliest pending external event: return 1 and store it
     * in *at_ns, or return 0 when none is pending. */
    int (*next_external)(void *context, int64_t *at_ns);

    /* The clock has just been moved to an external event's time: run the events that are due. */
    void (*run_externals)(void *context);

    /* The library is about to move the clock to to_ns. Return 0 to let it; any other value
     * refuses (a budget): the clock stays, the library polls once and returns what that gives,
     * so the host must make something ready (wake the loop) before it refuses. */
    int (*advance)(void *context, int64_t to_ns);

    /* An infinite wait with nothing ready and no external event pending: a real loop would
     * hang here. The library then polls once and returns what that gives, so the host must make
     * something ready (wake the loop) or the loop will simply wait again. */
    void (*blocked)(void *context);
} aiospec_interpose_hooks;

/* AIOSPEC_INTERPOSE_API_VERSION of the loaded library. */
int aiospec_interpose_api_version(void);

/* 1: the monotonic clocks read the virtual clock and waits follow the rule; 0: pass-through. */
void aiospec_interpose_enable(int enabled);
int aiospec_interpose_enabled(void);

/* The virtual clock in nanoseconds (any value >= 0; a host resets it to 0 for every scenario).
 * CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW and CLOCK_BOOTTIME all read it
 * while enabled; clock_getres reports 1 ns for them. */
void aiospec_interpose_set_clock_ns(int64_t ns);
int64_t aiospec_interpose_get_clock_ns(void);

/* Install the hooks (copied); NULL removes them. */
void aiospec_interpose_set_hooks(const aiospec_interpose_hooks *hooks);

/* How many waits and clock reads the library has answered while enabled since it was loaded:
 * a host checks that its loop's calls really reach the library. */
uint64_t aiospec_interpose_wait_count(void);
uint64_t aiospec_interpose_clock_count(void);

#ifdef __cplusplus
}
#endif

#endif
