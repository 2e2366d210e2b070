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

struct Profile {
  std::string version;  // "3.8" .. "3.13"

  // ---- The differences, one per member, each with the versions and the behaviour. ----

  // base_events._run_once, the selector timeout computed from the head timer.
  //   3.8-3.12: `timeout = min(max(0, when - now), MAXIMUM_SELECT_TIMEOUT)`: a NaN deadline
  //             compares false both times and becomes 0 (the timer runs at once; tmr-0023).
  //   3.13:     `if timeout > MAXIMUM_SELECT_TIMEOUT: ... elif timeout < 0: timeout = 0`: NaN
  //             passes both tests and reaches the selector, which raises ValueError out of
  //             run_forever (tmr-0024).
  bool nan_timeout_reaches_selector = false;

  // Not modelled: the 3.13.0-3.13.2 run_forever clean-up that also runs when the "already
  // running" checks fail (gh-130145, fixed in 3.13.3). Scenarios that would see it (lif-0028)
  // stop at python max 3.12.

  // The profile of CPython `version` ("3.12"); ValueError for a version outside 3.8-3.13.
  static Profile for_version(std::string_view version);
  // Every version for_version accepts, oldest first.
  static const std::vector<std::string>& versions();
};

}  // namespace aiospec::ref
