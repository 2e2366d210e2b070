// time.monotonic(): where EventLoop::time() comes from. A seam, so that the conformance harness
// and the unit tests can run the real loop on a virtual clock.
#pragma once

#include <atomic>

namespace aiospec::ref {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual double time() = 0;
  // BaseEventLoop._clock_resolution: "expired" means when < time() + resolution.
  virtual double resolution() const { return 1e-9; }
};

// time.monotonic(): CLOCK_MONOTONIC converted the way CPython converts it, so that a delay
// added to it rounds the same way as in Python.
class MonotonicClock final : public Clock {
 public:
  double time() override;
  double resolution() const override;  // time.get_clock_info('monotonic').resolution
};

// Moves only when told to. Atomic because the harness may read it from an external-event
// thread while the loop thread waits for that thread.
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(double start = 0.0) : now_(start) {}
  double time() override { return now_.load(); }
  void set(double t) { now_.store(t); }
  void advance(double dt) { now_.store(now_.load() + dt); }

 private:
  std::atomic<double> now_;
};

}  // namespace aiospec::ref
