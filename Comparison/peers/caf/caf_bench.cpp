// CAF (C++ Actor Framework 0.17) peer for the Swerl benchmark comparison.
//
// Follows Comparison/PROTOCOL.md:
//
//     caf_bench <bench> key=value ... [schedulers=N] [warmup=W] [runs=R]
//
// prints one `RESULT {json}` line on stdout; progress and errors go to
// stderr; a wrong result exits non-zero. All actors are event-based; the
// main thread drives each iteration through a `scoped_actor` and waits on
// its mailbox (never sleeps). After each iteration the driver checks that
// every actor it started has terminated (`await_all_actors_done`).

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "caf/all.hpp"

using namespace caf;

namespace {

// -- atoms --------------------------------------------------------------------

using ping_atom = atom_constant<atom("ping")>;
using pong_atom = atom_constant<atom("pong")>;
using inc_atom = atom_constant<atom("inc")>;
using get_atom = atom_constant<atom("get")>;
using count_atom = atom_constant<atom("count")>;
using next_atom = atom_constant<atom("next")>;
using token_atom = atom_constant<atom("token")>;
using done_atom = atom_constant<atom("done")>;
using stop_atom = atom_constant<atom("stop")>;
using meet_atom = atom_constant<atom("meet")>;
using change_atom = atom_constant<atom("change")>;
using faded_atom = atom_constant<atom("faded")>;
using peers_atom = atom_constant<atom("peers")>;
using go_atom = atom_constant<atom("go")>;
using work_atom = atom_constant<atom("work")>;
using result_atom = atom_constant<atom("result")>;
using ready_atom = atom_constant<atom("ready")>;
using ack_atom = atom_constant<atom("ack")>;

// -- helpers ------------------------------------------------------------------

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "caf_bench: FAILED: " << what << std::endl;
  std::fflush(stdout);
  std::_Exit(1);
}

// Watchdog for the driver's blocking receives: a hung benchmark fails
// instead of blocking CI forever (this is a timeout, not a sleep).
constexpr auto watchdog = std::chrono::seconds(600);

void on_timeout() {
  fail("timed out waiting for the iteration to finish");
}

// Savina's performComputation(37.2). `theta` is volatile so that the
// compiler cannot fold sin(37.2) at compile time.
volatile double theta = 37.2;

inline double perform_computation() {
  double s = std::sin(theta);
  return s * s;
}

// CPU seconds (user + system, all threads) of this process so far.
double cpu_seconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

long rss_bytes() {
  long pages_total = 0, pages_rss = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr)
    fail("cannot open /proc/self/statm");
  if (std::fscanf(f, "%ld %ld", &pages_total, &pages_rss) != 2)
    fail("cannot parse /proc/self/statm");
  std::fclose(f);
  return pages_rss * sysconf(_SC_PAGESIZE);
}

long heap_bytes() {
  auto mi = mallinfo2();
  return static_cast<long>(mi.uordblks + mi.hblkhd);
}

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  auto n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

// -- command line -------------------------------------------------------------

struct params {
  std::vector<std::pair<std::string, std::string>> given; // for the JSON
  std::map<std::string, std::string> kv;

  int64_t get(const std::string& key, int64_t dflt) const {
    auto i = kv.find(key);
    if (i == kv.end())
      return dflt;
    char* end = nullptr;
    auto v = std::strtoll(i->second.c_str(), &end, 10);
    if (end == i->second.c_str() || *end != '\0')
      fail("parameter " + key + " is not an integer: " + i->second);
    return v;
  }
};

// Per-iteration measurement: wall seconds of the measured part, plus
// optional secondary metrics (medians over the measured runs go to `extra`).
struct sample {
  double seconds = 0;
  std::map<std::string, double> extra;
};

// ============================================================================
// pingpong / pingpong_payload
// ============================================================================

struct ping_state {
  int64_t left = 0;
};

behavior pong_actor(event_based_actor* self) {
  return {
    [](ping_atom) { return pong_atom::value; },
    // Payload variant: answer with a fresh copy of what arrived.
    [](ping_atom, const std::string& payload) {
      return make_message(pong_atom::value, std::string(payload));
    },
    [=](stop_atom) { self->quit(); },
  };
}

behavior ping_actor(stateful_actor<ping_state>* self, actor pong, int64_t n,
                    int64_t size, bool with_payload, actor driver) {
  self->state.left = n;
  if (with_payload)
    self->send(pong, ping_atom::value, std::string(size, 'p'));
  else
    self->send(pong, ping_atom::value);
  return {
    [=](pong_atom) {
      if (--self->state.left == 0) {
        self->send(pong, stop_atom::value);
        self->send(driver, done_atom::value, n);
        self->quit();
      } else {
        self->send(pong, ping_atom::value);
      }
    },
    [=](pong_atom, const std::string& payload) {
      if (static_cast<int64_t>(payload.size()) != size)
        fail("pingpong_payload: payload size changed");
      if (--self->state.left == 0) {
        self->send(pong, stop_atom::value);
        self->send(driver, done_atom::value, n);
        self->quit();
      } else {
        self->send(pong, ping_atom::value, std::string(payload));
      }
    },
  };
}

sample run_pingpong(actor_system& sys, const params& p, bool with_payload) {
  auto n = p.get("n", 40000);
  auto size = with_payload ? p.get("size", 0) : 0;
  if (n < 1 || size < 0)
    fail("pingpong: need n >= 1, size >= 0");
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto pong = sys.spawn(pong_actor);
  sys.spawn(ping_actor, pong, n, size, with_payload, actor{self});
  int64_t got = -1;
  self->receive([&](done_atom, int64_t k) { got = k; },
                after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  if (got != n)
    fail("pingpong: wrong count");
  return s;
}

// ============================================================================
// fanout
// ============================================================================

// A receiver acks every payload that has `size` bytes.
behavior fan_receiver(event_based_actor* self, int64_t size) {
  return {
    [=](const std::string& payload) {
      if (static_cast<int64_t>(payload.size()) != size)
        fail("fanout: a receiver got " + std::to_string(payload.size()) +
             " bytes");
      return ack_atom::value;
    },
    [=](stop_atom) { self->quit(); },
  };
}

struct fan_state {
  std::vector<actor> receivers;
  message payload;
  int64_t acks_left = 0;
  int64_t rounds_left = 0;
};

// The sender makes one message holding the payload and sends that message
// to every receiver: CAF messages are immutable and reference counted, so
// each receiver gets a reference (as BEAM shares a refc binary). copy=1:
// a fresh std::string per receiver. A round ends when every ack is in.
behavior fan_sender(stateful_actor<fan_state>* self, int64_t receivers,
                    int64_t size, int64_t rounds, bool copy, actor driver) {
  auto& st = self->state;
  st.receivers.reserve(receivers);
  for (int64_t i = 0; i < receivers; ++i)
    st.receivers.push_back(self->spawn(fan_receiver, size));
  st.payload = make_message(std::string(size, 'f'));
  st.rounds_left = rounds;
  auto round = [=] {
    auto& st = self->state;
    --st.rounds_left;
    st.acks_left = receivers;
    for (auto& r : st.receivers) {
      if (copy)
        self->send(r, std::string(st.payload.get_as<std::string>(0)));
      else
        self->send(r, st.payload);
    }
  };
  self->send(driver, ready_atom::value);
  return {
    [=](go_atom) { round(); },
    [=](ack_atom) {
      auto& st = self->state;
      if (--st.acks_left > 0)
        return;
      if (st.rounds_left > 0) {
        round();
        return;
      }
      self->send(driver, done_atom::value, rounds);
      for (auto& r : st.receivers)
        self->send(r, stop_atom::value);
      self->quit();
    },
  };
}

sample run_fanout(actor_system& sys, const params& p) {
  auto size = p.get("size", 1048576);
  auto receivers = p.get("receivers", 1000);
  auto rounds = p.get("rounds", 1000);
  auto copy = p.get("copy", 0) != 0;
  if (size < 0 || receivers < 1 || rounds < 1)
    fail("fanout: need size >= 0, receivers >= 1, rounds >= 1");
  scoped_actor self{sys};
  auto sender = sys.spawn(fan_sender, receivers, size, rounds, copy,
                          actor{self});
  self->receive([](ready_atom) {}, after(watchdog) >> on_timeout);
  auto t0 = clock_type::now();
  self->send(sender, go_atom::value);
  int64_t done = -1;
  self->receive([&](done_atom, int64_t k) { done = k; },
                after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  if (done != rounds)
    fail("fanout: wrong number of rounds");
  s.extra["us_per_round"] = s.seconds * 1e6 / rounds;
  s.extra["receives_per_s"] = receivers * rounds / s.seconds;
  return s;
}

// ============================================================================
// counting
// ============================================================================

struct counter_state {
  int64_t count = 0;
};

behavior counter_actor(stateful_actor<counter_state>* self) {
  return {
    [=](inc_atom) { ++self->state.count; },
    [=](get_atom) {
      self->quit();
      return make_message(count_atom::value, self->state.count);
    },
  };
}

behavior producer_actor(event_based_actor* self, int64_t n, actor driver) {
  auto counter = self->spawn(counter_actor);
  for (int64_t i = 0; i < n; ++i)
    self->send(counter, inc_atom::value);
  self->send(counter, get_atom::value);
  return {
    [=](count_atom, int64_t c) {
      if (c != n)
        fail("counting: counter has " + std::to_string(c) + ", expected "
             + std::to_string(n));
      self->send(driver, done_atom::value, c);
      self->quit();
    },
  };
}

sample run_counting(actor_system& sys, const params& p) {
  auto n = p.get("n", 1000000);
  if (n < 0)
    fail("counting: need n >= 0");
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  sys.spawn(producer_actor, n, actor{self});
  int64_t got = -1;
  self->receive([&](done_atom, int64_t c) { got = c; },
                after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  if (got != n)
    fail("counting: wrong count");
  return s;
}

// ============================================================================
// threadring
// ============================================================================

struct ring_state {
  actor next;
};

behavior ring_node(stateful_actor<ring_state>* self, actor driver) {
  return {
    [=](next_atom, const actor& next) { self->state.next = next; },
    [=](token_atom, int64_t t) {
      if (t == 0)
        self->send(driver, done_atom::value);
      else
        self->send(self->state.next, token_atom::value, t - 1);
    },
    [=](stop_atom) {
      self->state.next = nullptr; // break the ring of strong references
      self->quit();
    },
  };
}

sample run_threadring(actor_system& sys, const params& p) {
  auto actors = p.get("actors", 100);
  auto n = p.get("n", 100000);
  if (actors < 1 || n < 0)
    fail("threadring: need actors >= 1, n >= 0");
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  std::vector<actor> ring;
  ring.reserve(actors);
  for (int64_t i = 0; i < actors; ++i)
    ring.push_back(sys.spawn(ring_node, actor{self}));
  for (int64_t i = 0; i < actors; ++i)
    self->send(ring[i], next_atom::value, ring[(i + 1) % actors]);
  self->send(ring[0], token_atom::value, n);
  self->receive([](done_atom) {}, after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  for (auto& a : ring)
    self->send(a, stop_atom::value);
  return s;
}

// ============================================================================
// chameneos
// ============================================================================

enum colour : int32_t { red = 0, yellow = 1, blue = 2 };

inline int32_t complement(int32_t a, int32_t b) {
  return a == b ? a : 3 - a - b;
}

struct creature_state {
  int32_t colour = red;
  int64_t meetings = 0;
};

behavior creature_actor(stateful_actor<creature_state>* self, actor mall,
                        int32_t colour) {
  self->state.colour = colour;
  self->send(mall, meet_atom::value, actor_cast<actor>(self), colour);
  return {
    // The mall paired us with `other`: take the complement colour, tell
    // the other creature, and ask for the next meeting.
    [=](meet_atom, const actor& other, int32_t other_colour) {
      auto& st = self->state;
      st.colour = complement(st.colour, other_colour);
      ++st.meetings;
      self->send(other, change_atom::value, st.colour);
      self->send(mall, meet_atom::value, actor_cast<actor>(self), st.colour);
    },
    [=](change_atom, int32_t c) {
      auto& st = self->state;
      st.colour = c;
      ++st.meetings;
      self->send(mall, meet_atom::value, actor_cast<actor>(self), st.colour);
    },
    [=](stop_atom) {
      self->send(mall, faded_atom::value, self->state.meetings);
      self->quit();
    },
  };
}

struct mall_state {
  int64_t left = 0;
  actor waiting;
  int32_t waiting_colour = 0;
  int64_t faded = 0;
  int64_t sum_meetings = 0;
};

behavior mall_actor(stateful_actor<mall_state>* self, int64_t creatures,
                    int64_t n, actor driver) {
  self->state.left = n;
  for (int64_t i = 0; i < creatures; ++i)
    self->spawn(creature_actor, actor_cast<actor>(self),
                static_cast<int32_t>(i % 3));
  return {
    [=](meet_atom, const actor& who, int32_t c) {
      auto& st = self->state;
      if (st.left > 0) {
        if (!st.waiting) {
          st.waiting = who;
          st.waiting_colour = c;
        } else {
          --st.left;
          self->send(st.waiting, meet_atom::value, who, c);
          st.waiting = nullptr;
        }
      } else {
        self->send(who, stop_atom::value);
      }
    },
    [=](faded_atom, int64_t meetings) {
      auto& st = self->state;
      st.sum_meetings += meetings;
      if (++st.faded == creatures) {
        self->send(driver, done_atom::value, st.sum_meetings);
        self->quit();
      }
    },
  };
}

sample run_chameneos(actor_system& sys, const params& p) {
  auto creatures = p.get("creatures", 100);
  auto n = p.get("n", 200000);
  if (creatures < 2 || n < 0)
    fail("chameneos: need creatures >= 2, n >= 0");
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  sys.spawn(mall_actor, creatures, n, actor{self});
  int64_t sum = -1;
  self->receive([&](done_atom, int64_t x) { sum = x; },
                after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  if (sum != 2 * n)
    fail("chameneos: sum of meetings " + std::to_string(sum) + ", expected "
         + std::to_string(2 * n));
  return s;
}

// ============================================================================
// big
// ============================================================================

struct big_state {
  std::vector<actor> peers;
  int64_t id = 0;
  int64_t left = 0; // pings still to send
  uint64_t rng = 0; // xorshift64 state
};

inline uint64_t xorshift(uint64_t& x) {
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return x;
}

void big_send_ping(stateful_actor<big_state>* self) {
  auto& st = self->state;
  auto k = st.peers.size();
  // A random worker other than ourselves.
  auto j = static_cast<size_t>(xorshift(st.rng) % (k - 1));
  if (j >= static_cast<size_t>(st.id))
    ++j;
  self->send(st.peers[j], ping_atom::value);
}

behavior big_worker(stateful_actor<big_state>* self, int64_t id, int64_t n,
                    actor sink) {
  self->state.id = id;
  self->state.left = n;
  self->state.rng = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(id + 1);
  return {
    [=](peers_atom, const std::vector<actor>& peers) {
      self->state.peers = peers;
    },
    [=](go_atom) {
      if (self->state.left == 0)
        self->send(sink, done_atom::value);
      else
        big_send_ping(self);
    },
    [](ping_atom) { return pong_atom::value; },
    [=](pong_atom) {
      if (--self->state.left == 0)
        self->send(sink, done_atom::value);
      else
        big_send_ping(self);
    },
    [=](stop_atom) {
      self->state.peers.clear();
      self->quit();
    },
  };
}

behavior big_sink(event_based_actor* self, int64_t workers, actor driver) {
  auto heard = std::make_shared<int64_t>(0);
  return {
    [=](done_atom) {
      if (++*heard == workers) {
        self->send(driver, done_atom::value, *heard);
        self->quit();
      }
    },
  };
}

sample run_big(actor_system& sys, const params& p) {
  auto workers = p.get("workers", 120);
  auto n = p.get("n", 20000);
  if (workers < 2 || n < 0)
    fail("big: need workers >= 2, n >= 0");
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  auto sink = sys.spawn(big_sink, workers, actor{self});
  std::vector<actor> ws;
  ws.reserve(workers);
  for (int64_t i = 0; i < workers; ++i)
    ws.push_back(sys.spawn(big_worker, i, n, sink));
  for (auto& w : ws)
    self->send(w, peers_atom::value, ws);
  for (auto& w : ws)
    self->send(w, go_atom::value);
  int64_t heard = -1;
  self->receive([&](done_atom, int64_t h) { heard = h; },
                after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  if (heard != workers)
    fail("big: sink heard from the wrong number of workers");
  for (auto& w : ws)
    self->send(w, stop_atom::value);
  return s;
}

// ============================================================================
// fjthrput
// ============================================================================

struct fj_state {
  int64_t got = 0;
  double acc = 0;
};

behavior fj_thr_worker(stateful_actor<fj_state>* self, int64_t n,
                       actor driver) {
  return {
    [=](work_atom) {
      auto& st = self->state;
      st.acc += perform_computation();
      if (++st.got == n) {
        self->send(driver, done_atom::value, st.got, st.acc);
        self->quit();
      }
    },
  };
}

struct fj_driver_state {
  int64_t heard = 0;
};

behavior fj_thr_driver(stateful_actor<fj_driver_state>* self, int64_t actors,
                       int64_t n, actor main_driver) {
  std::vector<actor> ws;
  ws.reserve(actors);
  for (int64_t i = 0; i < actors; ++i)
    ws.push_back(self->spawn(fj_thr_worker, n, actor_cast<actor>(self)));
  for (int64_t i = 0; i < n; ++i)
    for (auto& w : ws)
      self->send(w, work_atom::value);
  auto expected = static_cast<double>(n) * perform_computation();
  return {
    [=](done_atom, int64_t got, double acc) {
      if (got != n || std::fabs(acc - expected) > 1e-6 * (1 + expected))
        fail("fjthrput: a worker got the wrong number of messages");
      if (++self->state.heard == actors) {
        self->send(main_driver, done_atom::value, self->state.heard);
        self->quit();
      }
    },
  };
}

sample run_fjthrput(actor_system& sys, const params& p) {
  auto actors = p.get("actors", 60);
  auto n = p.get("n", 10000);
  if (actors < 1 || n < 1)
    fail("fjthrput: need actors >= 1, n >= 1");
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  sys.spawn(fj_thr_driver, actors, n, actor{self});
  int64_t heard = -1;
  self->receive([&](done_atom, int64_t h) { heard = h; },
                after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  if (heard != actors)
    fail("fjthrput: wrong number of workers finished");
  return s;
}

// ============================================================================
// fjcreate
// ============================================================================

behavior fj_create_worker(event_based_actor* self) {
  return {
    [=](work_atom) {
      auto r = perform_computation();
      self->quit();
      return make_message(result_atom::value, r);
    },
  };
}

behavior fj_create_driver(stateful_actor<fj_driver_state>* self, int64_t n,
                          actor main_driver) {
  for (int64_t i = 0; i < n; ++i) {
    auto w = self->spawn(fj_create_worker);
    self->send(w, work_atom::value);
  }
  return {
    [=](result_atom, double r) {
      if (!(r > 0))
        fail("fjcreate: bad computation result");
      if (++self->state.heard == n) {
        self->send(main_driver, done_atom::value, self->state.heard);
        self->quit();
      }
    },
  };
}

sample run_fjcreate(actor_system& sys, const params& p) {
  auto n = p.get("n", 40000);
  if (n < 1)
    fail("fjcreate: need n >= 1");
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  sys.spawn(fj_create_driver, n, actor{self});
  int64_t heard = -1;
  self->receive([&](done_atom, int64_t h) { heard = h; },
                after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  if (heard != n)
    fail("fjcreate: wrong number of answers");
  return s;
}

// ============================================================================
// fib
// ============================================================================

struct fib_state {
  int pending = 2;
  int64_t sum = 0;
};

behavior fib_actor(stateful_actor<fib_state>* self, int64_t n, actor parent) {
  if (n <= 2) {
    self->send(parent, result_atom::value, int64_t{1});
    return {}; // an empty behavior: the actor terminates normally
  }
  auto me = actor_cast<actor>(self);
  self->spawn(fib_actor, n - 1, me);
  self->spawn(fib_actor, n - 2, me);
  return {
    [=](result_atom, int64_t v) {
      auto& st = self->state;
      st.sum += v;
      if (--st.pending == 0) {
        self->send(parent, result_atom::value, st.sum);
        self->quit();
      }
    },
  };
}

int64_t fib_reference(int64_t n) {
  int64_t a = 1, b = 1; // fib(1), fib(2)
  for (int64_t i = 3; i <= n; ++i) {
    auto c = a + b;
    a = b;
    b = c;
  }
  return n <= 0 ? 0 : b;
}

sample run_fib(actor_system& sys, const params& p) {
  auto n = p.get("n", 25);
  if (n < 1 || n > 90)
    fail("fib: need 1 <= n <= 90");
  scoped_actor self{sys};
  auto t0 = clock_type::now();
  sys.spawn(fib_actor, n, actor{self});
  int64_t got = -1;
  self->receive([&](result_atom, int64_t v) { got = v; },
                after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  if (got != fib_reference(n))
    fail("fib: got " + std::to_string(got) + ", expected "
         + std::to_string(fib_reference(n)));
  return s;
}

// ============================================================================
// spawn
// ============================================================================

// Shared by the spawned actors of one iteration (lives on the driver's
// stack until all of them have terminated).
struct spawn_shared {
  std::atomic<int64_t> started{0};
  int64_t n = 0;
  actor driver;
};

behavior idle_actor(event_based_actor* self, spawn_shared* sh) {
  // The last actor to start tells the driver. Read n first: once the last
  // one has counted, the driver may move on and `sh` may go away.
  auto n = sh->n;
  if (sh->started.fetch_add(1, std::memory_order_acq_rel) + 1 == n)
    self->send(sh->driver, ready_atom::value);
  return {
    [=](stop_atom) { self->quit(); },
  };
}

struct spawner_state {
  std::vector<actor> children;
};

behavior spawner_actor(stateful_actor<spawner_state>* self, spawn_shared* sh) {
  auto& cs = self->state.children;
  cs.reserve(sh->n);
  for (int64_t i = 0; i < sh->n; ++i)
    cs.push_back(self->spawn(idle_actor, sh));
  return {
    [=](stop_atom) {
      for (auto& c : self->state.children)
        self->send(c, stop_atom::value);
      self->state.children.clear();
      self->quit();
    },
  };
}

sample run_spawn(actor_system& sys, const params& p) {
  auto n = p.get("n", 1000000);
  if (n < 1)
    fail("spawn: need n >= 1");
  spawn_shared sh;
  sh.n = n;
  malloc_trim(0); // give back what the previous iteration freed
  scoped_actor self{sys};
  sh.driver = actor{self};
  auto rss0 = rss_bytes();
  auto heap0 = heap_bytes();
  auto t0 = clock_type::now();
  auto spawner = sys.spawn(spawner_actor, &sh);
  self->receive([](ready_atom) {}, after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  auto rss1 = rss_bytes();
  auto heap1 = heap_bytes();
  if (sh.started.load() != n)
    fail("spawn: not all actors started");
  auto dn = static_cast<double>(n);
  s.extra["bytes_per_process"] = static_cast<double>(rss1 - rss0) / dn;
  s.extra["bytes_per_process_heap"] = static_cast<double>(heap1 - heap0) / dn;
  s.extra["us_per_spawn"] = s.seconds * 1e6 / dn;
  // Stop them all; the driver's await_all_actors_done checks they died.
  self->send(spawner, stop_atom::value);
  sh.driver = nullptr;
  return s;
}

// ============================================================================
// link_cascade
// ============================================================================

// CAF collects actors that nobody references (they die with reason
// `unreachable`), so the driver keeps a handle to every chain member: each
// one can then die only through its link.

struct chain_shared {
  std::atomic<int64_t> linked{0};
  int64_t n = 0;
  actor driver;
};

behavior chain_actor(event_based_actor* self, actor prev, chain_shared* sh) {
  if (prev)
    self->link_to(prev);
  // The last actor to get linked tells the driver that the chain is ready
  // (n is read first, as in idle_actor).
  auto n = sh->n;
  if (sh->linked.fetch_add(1, std::memory_order_acq_rel) + 1 == n)
    self->send(sh->driver, ready_atom::value);
  // Waits forever (no handler is ever used); dies only through the link.
  return {
    [](stop_atom) {},
  };
}

sample run_link_cascade(actor_system& sys, const params& p) {
  auto n = p.get("n", 100000);
  if (n < 2)
    fail("link_cascade: need n >= 2");
  chain_shared sh;
  sh.n = n;
  scoped_actor self{sys};
  sh.driver = actor{self};
  std::vector<actor> chain;
  chain.reserve(n);
  for (int64_t i = 0; i < n; ++i)
    chain.push_back(sys.spawn(chain_actor, i > 0 ? chain[i - 1] : actor{},
                              &sh));
  self->receive([](ready_atom) {}, after(watchdog) >> on_timeout);
  self->monitor(chain.back());
  auto last_addr = chain.back().address();
  auto t0 = clock_type::now();
  self->send_exit(chain.front(), exit_reason::kill);
  error reason;
  self->receive(
    [&](down_msg& dm) {
      if (dm.source != last_addr)
        fail("link_cascade: unexpected DOWN");
      reason = dm.reason;
    },
    after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  if (!reason)
    fail("link_cascade: last actor exited normally");
  chain.clear();
  sh.driver = nullptr;
  return s;
}

// ============================================================================
// monitors
// ============================================================================

struct monitors_shared {
  std::atomic<int64_t> ready{0};
  std::atomic<int64_t> downs{0};
  int64_t n = 0;
  actor driver;
  actor target;
};

behavior watcher_actor(event_based_actor* self, monitors_shared* sh) {
  self->monitor(sh->target);
  auto target_addr = sh->target.address();
  auto n = sh->n; // `sh` may be gone once the last watcher has counted
  self->set_down_handler([=](down_msg& dm) {
    if (dm.source != target_addr)
      fail("monitors: DOWN from an unexpected actor");
    if (sh->downs.fetch_add(1, std::memory_order_acq_rel) + 1 == n)
      self->send(sh->driver, done_atom::value);
    self->quit();
  });
  if (sh->ready.fetch_add(1, std::memory_order_acq_rel) + 1 == n)
    self->send(sh->driver, ready_atom::value);
  return {
    [](stop_atom) {},
  };
}

behavior target_actor(event_based_actor* self) {
  return {
    [=](stop_atom) { self->quit(); },
  };
}

sample run_monitors(actor_system& sys, const params& p) {
  auto n = p.get("n", 10000);
  if (n < 1)
    fail("monitors: need n >= 1");
  monitors_shared sh;
  sh.n = n;
  scoped_actor self{sys};
  sh.driver = actor{self};
  sh.target = sys.spawn(target_actor);
  // The driver holds the watchers: CAF would collect unreferenced actors.
  std::vector<actor> watchers;
  watchers.reserve(n);
  for (int64_t i = 0; i < n; ++i)
    watchers.push_back(sys.spawn(watcher_actor, &sh));
  self->receive([](ready_atom) {}, after(watchdog) >> on_timeout);
  auto t0 = clock_type::now();
  self->send(sh.target, stop_atom::value);
  self->receive([](done_atom) {}, after(watchdog) >> on_timeout);
  sample s;
  s.seconds = seconds_since(t0);
  if (sh.downs.load() != n)
    fail("monitors: wrong number of DOWN messages");
  watchers.clear();
  sh.driver = nullptr;
  sh.target = nullptr;
  return s;
}

// ============================================================================
// main
// ============================================================================

void print_params(std::ostream& out, const params& p) {
  out << "{";
  bool first = true;
  for (auto& kv : p.given) {
    if (!first)
      out << ", ";
    first = false;
    out << "\"" << kv.first << "\": ";
    char* end = nullptr;
    std::strtoll(kv.second.c_str(), &end, 10);
    if (!kv.second.empty() && *end == '\0')
      out << kv.second;
    else
      out << "\"" << kv.second << "\"";
  }
  out << "}";
}

void print_list(std::ostream& out, const std::vector<double>& xs) {
  out << "[";
  for (size_t i = 0; i < xs.size(); ++i)
    out << (i ? ", " : "") << xs[i];
  out << "]";
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: caf_bench <bench> key=value ... [schedulers=N] "
                 "[warmup=W] [runs=R]\n";
    return 2;
  }
  std::string bench = argv[1];
  params p;
  int64_t schedulers = 0, warmup = 1, runs = 3;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    auto eq = arg.find('=');
    if (eq == std::string::npos)
      fail("argument without '=': " + arg);
    auto key = arg.substr(0, eq);
    auto val = arg.substr(eq + 1);
    if (key == "schedulers" || key == "warmup" || key == "runs") {
      char* end = nullptr;
      auto v = std::strtoll(val.c_str(), &end, 10);
      if (end == val.c_str() || *end != '\0' || v < 0)
        fail("bad value for " + key + ": " + val);
      (key == "schedulers" ? schedulers : key == "warmup" ? warmup : runs) = v;
    } else {
      // caf_policy is a CAF-only knob: recorded in extra, not in params,
      // so that params stay comparable across systems.
      if (key != "caf_policy")
        p.given.emplace_back(key, val);
      p.kv[key] = val;
    }
  }
  std::cout.precision(9);

  if (bench == "restart_short" || bench == "restart_sustained") {
    std::cout << "RESULT {\"system\": \"caf\", \"bench\": \"" << bench
              << "\", \"skipped\": \"CAF has no supervisors\"}" << std::endl;
    return 0;
  }

  sample (*fn)(actor_system&, const params&) = nullptr;
  if (bench == "pingpong")
    fn = [](actor_system& s, const params& q) {
      return run_pingpong(s, q, false);
    };
  else if (bench == "pingpong_payload")
    fn = [](actor_system& s, const params& q) {
      return run_pingpong(s, q, true);
    };
  else if (bench == "fanout")
    fn = run_fanout;
  else if (bench == "counting" || bench == "burst")
    fn = run_counting;  // a burst is counting's program: CAF's producer sends all n in one behaviour run
  else if (bench == "threadring")
    fn = run_threadring;
  else if (bench == "chameneos")
    fn = run_chameneos;
  else if (bench == "big")
    fn = run_big;
  else if (bench == "fjthrput")
    fn = run_fjthrput;
  else if (bench == "fjcreate")
    fn = run_fjcreate;
  else if (bench == "fib")
    fn = run_fib;
  else if (bench == "spawn")
    fn = run_spawn;
  else if (bench == "link_cascade")
    fn = run_link_cascade;
  else if (bench == "monitors")
    fn = run_monitors;
  else
    fail("unknown benchmark: " + bench);

  actor_system_config cfg;
  if (schedulers > 0)
    cfg.set("scheduler.max-threads", static_cast<size_t>(schedulers));
  // CAF-specific and optional: caf_policy=stealing (CAF's default) or
  // caf_policy=sharing (one central job queue). See README.md for why.
  std::string policy = "stealing";
  if (p.kv.count("caf_policy")) {
    policy = p.kv.at("caf_policy");
    if (policy == "sharing")
      cfg.set("scheduler.policy", atom("sharing"));
    else if (policy != "stealing")
      fail("caf_policy must be stealing or sharing");
  }
  actor_system sys{cfg};
  auto workers = sys.scheduler().num_workers();

  std::vector<double> warmups, measured;
  std::map<std::string, std::vector<double>> extras;
  for (int64_t i = 0; i < warmup + runs; ++i) {
    auto cpu0 = cpu_seconds();
    auto s = fn(sys, p);
    // CPU time of the whole iteration (including set-up and tear-down);
    // a hint when the wall times are disturbed by a loaded machine.
    s.extra["cpu_seconds"] = cpu_seconds() - cpu0;
    // Every actor of the iteration must have terminated.
    sys.await_all_actors_done();
    if (sys.registry().running() != 0)
      fail("actors still running after the iteration");
    bool is_warmup = i < warmup;
    std::cerr << bench << (is_warmup ? " warmup " : " run ")
              << (is_warmup ? i + 1 : i - warmup + 1) << ": " << s.seconds
              << " s" << std::endl;
    if (is_warmup) {
      warmups.push_back(s.seconds);
    } else {
      measured.push_back(s.seconds);
      for (auto& kv : s.extra)
        extras[kv.first].push_back(kv.second);
    }
  }

  std::ostringstream out;
  out.precision(9);
  out << "RESULT {\"system\": \"caf\", \"bench\": \"" << bench
      << "\", \"params\": ";
  print_params(out, p);
  out << ", \"schedulers\": " << workers << ", \"warmups\": ";
  print_list(out, warmups);
  out << ", \"runs\": ";
  print_list(out, measured);
  out << ", \"extra\": {\"caf_version\": \"" << CAF_MAJOR_VERSION << "."
      << CAF_MINOR_VERSION << "." << CAF_PATCH_VERSION << "\"";
  out << ", \"caf_policy\": \"" << policy << "\"";
  for (auto& kv : extras)
    out << ", \"" << kv.first << "\": " << median(kv.second);
  out << "}}";
  std::cout << out.str() << std::endl;
  return 0;
}
