// The CPython version the reference loop imitates. asyncio's loop changes a little between minor
// releases; every behaviour of the areas covered here that differs between 3.8 and 3.13 is one
// named member of Profile below, and nowhere else does the loop ask which version it is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace aiospec::ref {

// The version a loop made without a profile imitates: the newest minor whose behaviour in these
// areas does not depend on its patch release (3.13.0-3.13.2 still have gh-130145).
inline constexpr std::string_view kDefaultVersion = "3.12";

// The patch release of each minor the committed traces were blessed with (what "3.11" means).
inline constexpr struct {
  std::string_view minor;
  int patch;
} kBlessedPatches[] = {{"3.8", 18}, {"3.9", 18}, {"3.10", 13}, {"3.11", 7}, {"3.12", 1}, {"3.13", 0}, {"3.14", 2}, {"3.15", 0}};

struct Profile {
  std::string version;  // the minor release: "3.8" .. "3.15"
  // The patch release imitated: what for_version was given ("3.11.2" -> 2), else the one the
  // traces were blessed with (kBlessedPatches). Only the patch-level members below depend on it.
  int patch = 0;

  // ---- The differences, one per member, each with the versions and the behaviour. ----

  // base_events._run_once, the selector timeout computed from the head timer.
  //   3.8-3.12: `timeout = min(max(0, when - now), MAXIMUM_SELECT_TIMEOUT)`: a NaN deadline
  //             compares false both times and becomes 0 (the timer runs at once; tmr-0023).
  //   3.13:     `if timeout > MAXIMUM_SELECT_TIMEOUT: ... elif timeout < 0: timeout = 0`: NaN
  //             passes both tests and reaches the selector, which raises ValueError out of
  //             run_forever (tmr-0024).
  bool nan_timeout_reaches_selector = false;

  // format_helpers._format_callback_source(func, args, debug=) (EXC-05): callback reprs ("Exception
  // in callback h(...)", <Handle h(...)>, a done callback's future):
  //   3.8-3.12: always with the arguments: dcb(<Future finished result=1>).
  //   3.13:     the arguments only in debug mode; dcb() otherwise.
  bool callback_args_only_in_debug = false;

  // Task.__repr__'s state word 'cancelling' (base_tasks._task_repr_info):
  //   3.8-3.10: when _must_cancel is set (a cancel not yet delivered).
  //   3.11+:    when task.cancelling() and not task.done().
  // (Profile::task_has_cancelling tells the two apart.)

  // ---- Futures and cancellation (futures.py, tasks.py) ----

  // Future.set_exception(StopIteration(...)) (FUT-05; the class itself, as only names cross the
  // adapter seam), which would end a coroutine awaiting the future as if it returned:
  //   3.8-3.12: TypeError("StopIteration interacts badly with generators and cannot be raised
  //             into a Future"); the future stays pending.
  //   3.13:     the future finishes with RuntimeError(that text) raised from the StopIteration
  //             (__cause__ and __context__ both it).
  bool future_wraps_stop_iteration = false;

  // Future.cancel(msg) and Task.cancel(msg), _GatheringFuture.cancel(msg).
  //   3.8:  no message parameter: a message is TypeError("cancel() takes no arguments (1 given)")
  //         (the C Future and Task; the pure-Python _GatheringFuture words it its own way).
  //   3.9+: the message becomes the args of the CancelledError the cancellation raises.
  bool cancel_takes_message = true;

  // Future._make_cancelled_error() when a Task saved the CancelledError its coroutine ended with
  // (_cancelled_exc), i.e. what an awaiter of a cancelled task, and its result(), raise:
  //   3.8:       a fresh CancelledError(), nothing chained (both members false).
  //   3.9-3.10:  a fresh CancelledError(msg) whose __context__ is the saved one. The C
  //              accelerator keeps the saved one (pure Python drops it after the first call), so
  //              every later result()/exception()/await chains it again.
  //   3.11+:     the saved object itself (args (msg,)), handed out once; later calls make a fresh
  //              CancelledError(msg) with nothing chained.
  bool cancelled_error_chains_saved = false;
  bool cancelled_error_is_saved = true;

  // gather(): how a cancelled child turns into an exception.
  //   3.8:  CancelledError() everywhere: in the result list (return_exceptions=True), as the
  //         outer's exception (return_exceptions=False) and when the outer was cancelled.
  //   3.9+: the result list holds CancelledError('' if child._cancel_message is None else it)
  //         (a Task's own message is lost: CancelledError('')); the outer's exception is
  //         child._make_cancelled_error() (for a cancelled outer, of the *last* child: the loop
  //         variable leaks out of the results loop).
  bool gather_cancelled_error_from_child = true;

  // gather() of children that are already done.
  //   3.8-3.11: their _done_callback is added with add_done_callback, so it runs one iteration
  //             later (call_soon).
  //   3.12+:    _done_callback runs synchronously for each of them once the outer exists: a
  //             gather of done children returns a done future.
  bool gather_handles_done_children_at_once = true;

  // Task.cancelling() / Task.uncancel() and the count of cancel requests (3.11+). Before 3.11
  // the methods do not exist: AttributeError("'_asyncio.Task' object has no attribute ...").
  bool task_has_cancelling = true;

  // Task.uncancel() bringing the count to 0:
  //   3.11-3.12: only decrements; a cancel still pending (_must_cancel) is delivered anyway.
  //   3.13:      also clears _must_cancel: the pending cancel is rescinded.
  bool uncancel_rescinds_pending_cancel = false;

  // asyncio.wait_for(aw, timeout).
  //   until_3_8:  a Task and a waiter future; on timeout the inner is cancelled and awaited, then
  //               TimeoutError() is raised whatever the inner did (a value it returned after
  //               swallowing the cancel is discarded), nothing chained. 3 iterations of overhead.
  //   until_3_11: the same machinery; after the cancel, the inner's result is returned if it
  //               swallowed the cancellation, else TimeoutError() raised from its CancelledError.
  //   timeout_scope (3.12+): `async with timeouts.timeout(t): return await aw`: the inner runs
  //               inline in the caller's task (0 iterations of overhead), the timeout cancels the
  //               caller's task and __aexit__ turns the CancelledError into TimeoutError.
  enum class WaitFor { until_3_8, until_3_11, timeout_scope };
  WaitFor wait_for = WaitFor::timeout_scope;

  // Eager tasks (3.12+): Task(coro, eager_start=True) runs the first step inside the
  // constructor when the loop is running; asyncio.eager_task_factory makes such tasks. Before
  // 3.12: TypeError("Task.__init__() got an unexpected keyword argument 'eager_start'").
  bool eager_tasks = true;

  // asyncio.sleep(nan): 3.8-3.12 sleeps 0 s (a timer at NaN runs at once); 3.13 raises
  // ValueError("Invalid delay: NaN (not a number)").
  bool sleep_rejects_nan = false;

  // timeouts.Timeout.__aexit__ after the timeout expired (3.11+; wait_for uses it from 3.12):
  //   3.11-3.12: only an exception of exactly CancelledError becomes TimeoutError.
  //   3.13:      any CancelledError subclass too; any other exception gets a TimeoutError spliced
  //              into its __context__ chain in front of the first CancelledError there, and so
  //              does each member of an ExceptionGroup (not of a BaseExceptionGroup).
  bool timeout_exit_handles_every_exception = false;

  // asyncio.wait(fs) (tasks.py wait/_wait):
  //   3.8-3.10: coroutines are wrapped in tasks, every future goes through
  //             ensure_future(f, loop=loop) (ValueError for a future of another loop), and an
  //             empty fs is ValueError('Set of coroutines/Futures is empty.').
  //   3.11+:    coroutines are a TypeError, futures are taken as they are (no loop check), and
  //             an empty fs is ValueError('Set of Tasks/Futures is empty.').
  bool wait_takes_only_futures = true;

  // tasks.shield, once the outer future is done (cancelled) before the inner:
  //   3.8-3.13: the inner's exception, when it comes, is marked retrieved by _inner_done_callback
  //             and never reported.
  //   3.14+:    _outer_done_callback gives the inner one _log_on_exception callback, which
  //             reports "<Class> exception in shielded future" to the exception handler when the
  //             inner fails (exc-0039).
  bool shield_logs_orphaned_exception = false;

  // ---- TaskGroup (taskgroups.py, 3.11+) ----

  // TaskGroup.create_task for a task that is already done when create_task returns (an eager
  // task that finished without suspending):
  //   3.11:  (no eager tasks) every task gets _on_task_done as a done callback (call_soon).
  //   3.12+: _on_task_done runs at once and the task never joins the group's set.
  //   3.13.2+ and 3.14+: always the done callback again (gh-128550: an eager task that failed
  //          would otherwise cancel the parent too early), so the exit waits one iteration
  //          (tsk-0039).
  bool task_group_handles_done_task_at_once = true;

  // TaskGroup.create_task(coro, name=name):
  //   3.11-3.12: loop.create_task(coro), then tasks._set_task_name(task, name): the task gets a
  //              Task-N name first (the counter advances) and an eager first step sees it.
  //   3.13:      loop.create_task(coro, name=name).
  bool task_group_names_task_at_creation = false;

  // TaskGroup.__aexit__, which CancelledError counts as "the body was cancelled":
  //   3.11-3.12: `et is CancelledError`, that exact class.
  //   3.13:      issubclass(et, CancelledError).
  bool task_group_exit_matches_cancelled_subclasses = false;

  // TaskGroup.__aexit__ and the parent's uncancel() when the group cancelled the parent
  // (_parent_cancel_requested):
  //   3.11-3.12: at the start of __aexit__, before waiting for the children; if the count
  //              reaches 0 the body's CancelledError is not propagated.
  //   3.13:      after the children are done (and after a SystemExit/KeyboardInterrupt is
  //              re-raised, which then skips it).
  bool task_group_uncancels_after_wait = false;

  // TaskGroup.__aexit__ raising the ExceptionGroup while the parent task has cancel requests of
  // its own (an external cancel that coincided with the errors):
  //   3.11-3.12: nothing: the external cancel is absorbed ("survived external cancel").
  //   3.13:      parent.uncancel(); parent.cancel(): the count stays, and the cancel is
  //              delivered again at the parent's next await.
  bool task_group_redelivers_external_cancel = false;

  // TaskGroup.cancel() and _cancel_on_enter (3.15+): cancel the unfinished children and the
  // parent, so the `async with` exits without CancelledError. It comes with __aexit__'s final
  // `return True`, which is what suppresses the body's CancelledError:
  //   3.11-3.14: no cancel() (AttributeError); __aexit__ returns None.
  //   3.15+:     cancel(); __aexit__ returns True.
  bool task_group_has_cancel = false;

  // Not modelled: 3.13's TaskGroup.create_task closing a coroutine it refuses (coro.close());
  // 3.11-3.12 leave it to the garbage collector, which only prints a "never awaited" warning.
  // A C++ coroutine handed over is destroyed either way, and a refused one has never run.

  // ---- asyncio.run (runners.py) ----

  // The teardown of asyncio.run / Runner.close after _cancel_all_tasks:
  //   3.8:  loop.run_until_complete(loop.shutdown_asyncgens()), then close.
  //   3.9+: also loop.run_until_complete(loop.shutdown_default_executor()): one more trivial
  //         coroutine run to completion (two loop iterations) before close.
  bool run_shuts_down_default_executor = true;

  // Not modelled: Runner's SIGINT handler (no signals here), contextvars, debug mode.

  // asyncio.run(main) of a main that is no coroutine (runners.run_not_awaitable):
  //   3.8-3.10: asyncio.run checks it before making a loop (ValueError).
  //   3.11+:    Runner.run checks it, after `with Runner()` made the loop, which __exit__ closes.
  bool run_checks_main_inside_runner = true;
  //   3.8-3.13: ValueError("a coroutine was expected, got <repr>").
  //   3.14+:    any awaitable is wrapped in a coroutine; anything else is TypeError("An
  //             asyncio.Future, a coroutine or an awaitable is required").
  bool run_accepts_any_awaitable = false;

  // ---- Patch-level differences (a minor's profile for another patch release) ----

  // Timeout.__aexit__ after expiry (3.11.0-3.11.2 vs 3.11.3+, gh-102780 and its follow-up):
  //   3.11.0-3.11.2: `raise TimeoutError`: __context__ the CancelledError, no __cause__.
  //   3.11.3+:       `raise TimeoutError from exc_val`: both.
  bool timeout_error_raised_from_cancel = true;
  //   3.11.0-3.11.2: the CancelledError becomes TimeoutError when `task.uncancel() == 0`.
  //   3.11.3+:       when uncancel() <= the task's cancelling() at __aenter__ (nested scopes and
  //                  a task already being cancelled at entry work).
  bool timeout_counts_cancels_from_entry = true;
  // Not modelled (no scenario can reach them): 3.11.0-3.11.2's Timeout.__aenter__ has no "has
  // already been entered" check, and reschedule() before entering is an AssertionError there.

  // Not modelled: the 3.13.0-3.13.2 run_forever clean-up that also runs when the "already
  // running" checks fail (gh-130145, fixed in 3.13.3). The scenario that would see it stops at
  // python max 3.12 (lif-0028) and its copy starts at 3.14 (lif-0040).

  // The profile of CPython `version`: a minor ("3.12", meaning its blessed patch release) or a
  // patch release ("3.11.2"); ValueError for a version outside 3.8-3.13 or a malformed one.
  static Profile for_version(std::string_view version);
  // Every version for_version accepts, oldest first.
  static const std::vector<std::string>& versions();
};

}  // namespace aiospec::ref
