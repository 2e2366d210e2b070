#include "aiospec/ref/profile.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <system_error>

#include "aiospec/ref/exceptions.hpp"

namespace aiospec::ref {

const std::vector<std::string>& Profile::versions() {
  static const std::vector<std::string> all = {"3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"};
  return all;
}

Profile Profile::for_version(std::string_view version) {
  const auto refuse = [&]() -> Profile {
    throw ValueError("no reference-loop profile for CPython '" + std::string(version) + "' (3.8-3.15)");
  };
  // "3.11.2": the minor, then the patch number.
  std::string_view minor = version;
  std::optional<int> patch;
  if (const auto first = version.find('.'); first != std::string_view::npos) {
    if (const auto second = version.find('.', first + 1); second != std::string_view::npos) {
      minor = version.substr(0, second);
      const std::string_view digits = version.substr(second + 1);
      int n = 0;
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) return refuse();
      patch = n;
    }
  }
  const auto& all = versions();
  const auto it = std::find(all.begin(), all.end(), minor);
  if (it == all.end()) return refuse();
  Profile p;
  p.version = *it;
  for (const auto& blessed : kBlessedPatches) {
    if (blessed.minor == p.version) p.patch = patch.value_or(blessed.patch);
  }
  const auto at_least_patch = [&](std::string_view v, int n) {
    return p.version != v ? std::find(all.begin(), all.end(), v) < it : p.patch >= n;
  };
  const auto at_least = [&](std::string_view v) {
    return it >= std::find(all.begin(), all.end(), v);
  };
  p.nan_timeout_reaches_selector = at_least("3.13");
  p.future_wraps_stop_iteration = at_least("3.13");
  p.callback_args_only_in_debug = at_least("3.13");
  p.cancel_takes_message = at_least("3.9");
  p.cancelled_error_chains_saved = at_least("3.9") && !at_least("3.11");
  p.cancelled_error_is_saved = at_least("3.11");
  p.gather_cancelled_error_from_child = at_least("3.9");
  p.gather_handles_done_children_at_once = at_least("3.12");
  p.task_has_cancelling = at_least("3.11");
  p.uncancel_rescinds_pending_cancel = at_least("3.13");
  p.wait_for = !at_least("3.9")    ? Profile::WaitFor::until_3_8
               : !at_least("3.12") ? Profile::WaitFor::until_3_11
                                   : Profile::WaitFor::timeout_scope;
  p.eager_tasks = at_least("3.12");
  p.sleep_rejects_nan = at_least("3.13");
  p.timeout_exit_handles_every_exception = at_least("3.13");
  p.wait_takes_only_futures = at_least("3.11");
  p.task_group_handles_done_task_at_once = at_least("3.12") && !at_least_patch("3.13", 2);
  p.shield_logs_orphaned_exception = at_least("3.14");
  p.task_group_names_task_at_creation = at_least("3.13");
  p.task_group_exit_matches_cancelled_subclasses = at_least("3.13");
  p.task_group_uncancels_after_wait = at_least("3.13");
  p.task_group_redelivers_external_cancel = at_least("3.13");
  p.task_group_has_cancel = at_least("3.15");
  p.run_shuts_down_default_executor = at_least("3.9");
  p.run_checks_main_inside_runner = at_least("3.11");
  p.run_accepts_any_awaitable = at_least("3.14");
  p.timeout_error_raised_from_cancel = at_least_patch("3.11", 3);
  p.timeout_counts_cancels_from_entry = at_least_patch("3.11", 3);
  return p;
}

}  // namespace aiospec::ref
