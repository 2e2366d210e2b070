// threadsafe_producers' scaffolding, the same on both sides of the pair: a pool of producer
// threads created once per benchmark run (outside the timing) and released once per iteration,
// and the loop-side tally that proves every callback ran exactly once and in per-thread order.
#pragma once

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace aiospec::bench {

// `threads` threads; release() starts one round, in which thread t calls post(t, seq) for
// seq = 0 .. per_thread-1 and then waits for the next round. Waiting is std::atomic::wait (a
// futex), so an idle producer costs nothing while the loop runs. A thread that is still returning
// from its last post() when the next round is released simply sees the new round at once: a round
// cannot be skipped, because the next one is only released after the loop ran every callback of
// this one. Destroy the pool before the loop it posts to (declare it after the loop).
class ProducerPool {
 public:
  using Post = std::function<void(int thread, int seq)>;

  ProducerPool(int threads, int per_thread, Post post) : post_(std::move(post)) {
    threads_.reserve(threads);
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t, per_thread] {
        unsigned seen = 0;
        for (;;) {
          round_.wait(seen, std::memory_order_acquire);
          seen = round_.load(std::memory_order_acquire);
          if (quit_.load(std::memory_order_acquire)) return;
          for (int seq = 0; seq < per_thread; ++seq) post_(t, seq);
        }
      });
    }
  }
  ~ProducerPool() {
    quit_.store(true, std::memory_order_release);
    round_.fetch_add(1, std::memory_order_acq_rel);
    round_.notify_all();
    for (auto& thread : threads_) thread.join();
  }
  ProducerPool(const ProducerPool&) = delete;
  ProducerPool& operator=(const ProducerPool&) = delete;

  void release() {
    round_.fetch_add(1, std::memory_order_acq_rel);
    round_.notify_all();
  }

 private:
  Post post_;
  std::atomic<unsigned> round_{0};
  std::atomic<bool> quit_{false};
  std::vector<std::thread> threads_;
};

// Touched on the loop thread only. record() returns true for the callback that completes the
// round; ok() is false if any callback ran out of order or twice (sequence != last + 1).
class Tally {
 public:
  Tally(int threads, int per_thread) : last_(threads, -1), per_thread_(per_thread), total_(threads * per_thread) {}
  void reset() {
    for (auto& last : last_) last = -1;
    count_ = 0;
    in_order_ = true;
  }
  bool record(int thread, int seq) {
    in_order_ &= seq == last_[thread] + 1;
    last_[thread] = seq;
    return ++count_ == total_;
  }
  bool ok() const {
    if (!in_order_ || count_ != total_) return false;
    for (int last : last_) {
      if (last != per_thread_ - 1) return false;
    }
    return true;
  }

 private:
  std::vector<int> last_;
  int per_thread_;
  int total_;
  int count_ = 0;
  bool in_order_ = true;
};

}  // namespace aiospec::bench
