# The Elixir peer of the Swerl benchmark comparison (issue 5).
#
#     elixir bench.exs <bench> key=value ... warmup=W runs=R
#     ERL_FLAGS="+S 1:1" elixir bench.exs counting n=2000000 warmup=1 runs=3
#
# follows Comparison/PROTOCOL.md: one `RESULT {json}` line on stdout,
# progress and errors on stderr, non-zero exit when a check fails.
# `schedulers=N` sets schedulers_online (ERL_FLAGS="+S N:N" is the cleaner
# way); the RESULT line reports :erlang.system_info(:schedulers_online).
#
# Why only some benchmarks: Elixir runs on the same BEAM as Erlang, with
# the same processes, mailboxes, send, receive, spawn, link and monitor;
# `send/2` and `receive` in Elixir compile to exactly the BEAM instructions
# that Erlang's `!` and `receive` do. A benchmark written with those is the
# Erlang peer's benchmark again (Comparison/peers/erlang/bench.escript).
# What differs is how an Elixir user writes it: with GenServer, Supervisor
# and Task. So this file implements the benchmarks where that idiom changes
# the work done:
#
#   pingpong          the pong side is a GenServer; the ping side is a
#                     Task doing GenServer.call/2 n times (each call
#                     monitors the server and waits on a reply alias)
#   counting          the counter is a GenServer: n GenServer.cast/2, then
#                     a GenServer.call/2 for the count
#   restart_short,    an Elixir Supervisor (one_for_one, max_restarts
#   restart_sustained 2^40 in max_seconds 1: never reached) of
#                     `use GenServer` workers
#   fib               each fib node is a Task: Task.async/1 for the two
#                     children, Task.await/2 for their answers
#   fjcreate          the driver starts n Tasks (Task.async/1) and awaits
#                     them all (Task.await_many/2)
#
# and prints a skipped RESULT line for the others (threadring, chameneos,
# big, fjthrput, spawn, pingpong_payload, fanout, link_cascade, monitors): their
# idiomatic Elixir form is plain processes and messages, the same as the
# Erlang peer.
#
# Modules defined in an .exs file are compiled to BEAM code in memory (not
# interpreted), so the code runs like the Erlang peer's. Logging is off
# (primary logger level :none): otherwise every crash in the restart
# benchmarks goes through Logger's crash-report translation.

defmodule SwerlElixirBench do
  @timeout 600_000

  @benches %{
    "pingpong" => %{n: 40_000},
    "counting" => %{n: 1_000_000},
    "restart_short" => %{children: 100, crashes: 10},
    "restart_sustained" => %{children: 1000, n: 100_000},
    "fib" => %{n: 25},
    "fjcreate" => %{n: 40_000}
  }

  @skipped ~w(threadring chameneos big fjthrput spawn pingpong_payload
              fanout link_cascade monitors)

  def main([bench | args]) do
    :logger.set_primary_config(:level, :none)

    cond do
      Map.has_key?(@benches, bench) ->
        opts = Map.new(args, &parse_arg/1)
        {warmup, opts} = Map.pop(opts, :warmup, 1)
        {runs, opts} = Map.pop(opts, :runs, 3)
        {schedulers, opts} = Map.pop(opts, :schedulers, 0)
        set_schedulers(schedulers)
        defaults = @benches[bench]
        params = Map.merge(defaults, opts)

        case Map.keys(params) -- Map.keys(defaults) do
          [] -> :ok
          unknown -> fail("unknown parameter(s) #{inspect(unknown)} for #{bench}")
        end

        w = for i <- 1..warmup//1, do: iteration(bench, params, :warmup, i)
        r = for i <- 1..runs//1, do: iteration(bench, params, :run, i)
        extras = for {_, e} <- if(r == [], do: w, else: r), do: e

        result([
          {"system", "elixir"},
          {"bench", bench},
          {"params", params},
          {"schedulers", :erlang.system_info(:schedulers_online)},
          {"warmups", for({t, _} <- w, do: t)},
          {"runs", for({t, _} <- r, do: t)},
          {"extra", median_extras(extras)}
        ])

      bench in @skipped ->
        result([
          {"system", "elixir"},
          {"bench", bench},
          {"skipped",
           "same BEAM processes and messages as the Erlang peer; " <>
             "Elixir's idiom (send/receive) adds nothing to measure"}
        ])

      true ->
        result([{"system", "elixir"}, {"bench", bench}, {"skipped", "unknown benchmark"}])
    end

    System.halt(0)
  end

  def main([]) do
    IO.puts(:stderr, "usage: elixir bench.exs <bench> key=value ... warmup=W runs=R")
    System.halt(2)
  end

  defp parse_arg(arg) do
    case String.split(arg, "=", parts: 2) do
      [k, v] ->
        value =
          case Integer.parse(v) do
            {i, ""} -> i
            _ -> v
          end

        {String.to_atom(k), value}

      _ ->
        fail("bad argument #{arg} (expected key=value)")
    end
  end

  defp set_schedulers(0), do: :ok

  defp set_schedulers(n) when is_integer(n) and n > 0 do
    max = :erlang.system_info(:schedulers)

    if n > max,
      do: fail("schedulers=#{n} but the emulator has #{max} (use ERL_FLAGS=\"+S N:N\")")

    :erlang.system_flag(:schedulers_online, n)
    :ok
  end

  # One iteration in a fresh driver process; returns {seconds, extra}.
  defp iteration(bench, params, kind, i) do
    :erlang.garbage_collect()
    parent = self()

    {pid, ref} =
      spawn_monitor(fn -> send(parent, {self(), :done, run(bench, params)}) end)

    receive do
      {^pid, :done, {t, extra} = res} ->
        receive do
          {:DOWN, ^ref, :process, ^pid, _} -> :ok
        end

        IO.puts(:stderr, "#{bench} #{kind} #{i}: #{Float.round(t, 3)} s #{inspect(extra)}")
        res

      {:DOWN, ^ref, :process, ^pid, reason} ->
        fail("#{bench} #{kind} #{i}: the driver died: #{inspect(reason)}")
    end
  end

  defp median_extras([]), do: %{}

  defp median_extras([first | _] = extras) do
    Map.new(first, fn {k, v0} ->
      vs = Enum.map(extras, & &1[k])
      if Enum.all?(vs, &is_number/1), do: {k, median(vs)}, else: {k, v0}
    end)
  end

  defp median(vs) do
    s = Enum.sort(vs)
    l = length(s)

    if rem(l, 2) == 1,
      do: Enum.at(s, div(l, 2)),
      else: (Enum.at(s, div(l, 2) - 1) + Enum.at(s, div(l, 2))) / 2
  end

  def fail(msg) do
    IO.puts(:stderr, "elixir bench: FAILED: " <> msg)
    System.halt(1)
  end

  defp check(true, _msg), do: :ok
  defp check(false, msg), do: fail(msg)

  defp now, do: System.monotonic_time()

  defp secs(t0),
    do: (System.monotonic_time() - t0) / System.convert_time_unit(1, :second, :native)

  # JSON (Elixir 1.14 has none built in): maps with sorted keys, or
  # [{key, value}] lists for the top-level object (order kept).
  defp result(fields), do: IO.puts("RESULT " <> IO.iodata_to_binary(obj(fields)))

  defp obj(kvs), do: ["{", Enum.intersperse(Enum.map(kvs, fn {k, v} -> [json(k), ":", json(v)] end), ","), "}"]

  defp json(m) when is_map(m), do: obj(Enum.sort(Map.to_list(m)))
  defp json(l) when is_list(l), do: ["[", Enum.intersperse(Enum.map(l, &json/1), ","), "]"]
  defp json(b) when is_boolean(b), do: to_string(b)
  defp json(a) when is_atom(a), do: json(Atom.to_string(a))
  defp json(i) when is_integer(i), do: Integer.to_string(i)
  defp json(f) when is_float(f), do: :erlang.float_to_binary(f, [:short])

  defp json(s) when is_binary(s) do
    escaped =
      for <<c <- s>>, into: "" do
        case c do
          ?" -> "\\\""
          ?\\ -> "\\\\"
          c when c < 32 -> "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")
          c -> <<c>>
        end
      end

    [?", escaped, ?"]
  end

  # ---------------------------------------------------------------------
  # the benchmarks; each returns {seconds, extra}

  defp run("pingpong", %{n: n}) do
    {:ok, pong} = Pong.start_link()
    t0 = now()
    task = Task.async(fn -> ping(pong, n) end)
    :ok = Task.await(task, @timeout)
    t = secs(t0)
    count = GenServer.call(pong, :count)
    check(count == n, "pong answered #{count} pings, expected #{n}")
    GenServer.stop(pong)
    {t, %{}}
  end

  defp run("counting", %{n: n}) do
    {:ok, counter} = Counter.start_link()
    t0 = now()

    task =
      Task.async(fn ->
        produce(counter, n)
        GenServer.call(counter, :get, @timeout)
      end)

    count = Task.await(task, @timeout)
    t = secs(t0)
    check(count == n, "counter counted #{count}, expected #{n}")
    GenServer.stop(counter)
    {t, %{}}
  end

  defp run("restart_short", %{children: c, crashes: k}),
    do: restart_bench(c, c * k, k)

  defp run("restart_sustained", %{children: c, n: n}),
    do: restart_bench(c, n, :infinity)

  defp run("fib", %{n: n}) do
    t0 = now()
    r = Task.async(fn -> fib_task(n) end) |> Task.await(@timeout)
    t = secs(t0)
    expected = fib_seq(n)
    check(r == expected, "fib(#{n}) = #{r}, expected #{expected}")
    {t, %{}}
  end

  defp run("fjcreate", %{n: n}) do
    x = 37.2
    t0 = now()
    sum = 1..n |> Enum.map(fn _ -> Task.async(fn -> computation(x) end) end)
                |> Task.await_many(@timeout) |> Enum.sum()
    t = secs(t0)
    expected = n * computation(x)
    check(abs(sum - expected) < 1.0e-6 * n + 1.0e-9, "fjcreate sum #{sum}, expected #{expected}")
    {t, %{}}
  end

  defp ping(_pong, 0), do: :ok

  defp ping(pong, k) do
    :pong = GenServer.call(pong, :ping, @timeout)
    ping(pong, k - 1)
  end

  defp produce(_counter, 0), do: :ok

  defp produce(counter, k) do
    GenServer.cast(counter, :inc)
    produce(counter, k - 1)
  end

  defp fib_task(n) when n <= 2, do: 1

  defp fib_task(n) do
    a = Task.async(fn -> fib_task(n - 1) end)
    b = Task.async(fn -> fib_task(n - 2) end)
    Task.await(a, @timeout) + Task.await(b, @timeout)
  end

  defp fib_seq(n), do: fib_seq(n, 1, 1)
  defp fib_seq(n, a, _b) when n <= 2, do: a
  defp fib_seq(n, a, b), do: fib_seq(n - 1, a + b, a)

  # Savina's performComputation(37.2); x arrives as a parameter, so the
  # compiler cannot fold it.
  def computation(x) do
    s = :math.sin(x)
    s * s
  end

  # The Supervisor and Worker below; what they count is the Erlang peer's
  # (see restart_bench there): the first incarnation crashes on :go, later
  # ones by a message to themselves, up to incarnation `crashes`
  # (restart_short) or forever (restart_sustained); the init that brings the
  # init counter to children + restarts tells the driver.
  defp restart_bench(children, restarts, crashes) do
    cfg = %{
      driver: self(),
      inits: :atomics.new(1, []),
      incarnations: :atomics.new(children, []),
      target: children + restarts,
      crashes: crashes
    }

    specs = for i <- 1..children, do: Supervisor.child_spec({Worker, {i, cfg}}, id: i)

    {:ok, sup} =
      Supervisor.start_link(specs,
        strategy: :one_for_one,
        max_restarts: Bitwise.bsl(1, 40),
        max_seconds: 1
      )

    kids = for {_, pid, :worker, _} <- Supervisor.which_children(sup), is_pid(pid), do: pid
    check(length(kids) == children, "#{length(kids)} children running, expected #{children}")
    t0 = now()
    Enum.each(kids, &send(&1, :go))

    receive do
      :restarts_done -> :ok
    after
      @timeout -> fail("timed out waiting for the restarts")
    end

    t = secs(t0)
    counts = Supervisor.count_children(sup)
    total = :atomics.get(cfg.inits, 1)

    if crashes == :infinity do
      check(counts.specs == children, "#{counts.specs} child specs, expected #{children}")
      check(total >= cfg.target, "#{total} inits, expected >= #{cfg.target}")
    else
      check(counts.active == children, "#{counts.active} children active, expected #{children}")
      check(total == cfg.target, "#{total} inits, expected #{cfg.target}")

      for i <- 1..children do
        inc = :atomics.get(cfg.incarnations, i)
        check(inc == crashes + 1, "child #{i} in incarnation #{inc}, expected #{crashes + 1}")
      end
    end

    Process.unlink(sup)
    ref = Process.monitor(sup)
    Process.exit(sup, :shutdown)

    receive do
      {:DOWN, ^ref, :process, ^sup, _} -> :ok
    after
      @timeout -> fail("timed out waiting for the supervisor to stop")
    end

    {t, %{restarts_per_s: restarts / t, us_per_restart: t * 1.0e6 / restarts}}
  end
end

defmodule Pong do
  use GenServer

  def start_link, do: GenServer.start_link(__MODULE__, 0)

  @impl true
  def init(count), do: {:ok, count}

  @impl true
  def handle_call(:ping, _from, count), do: {:reply, :pong, count + 1}
  def handle_call(:count, _from, count), do: {:reply, count, count}
end

defmodule Counter do
  use GenServer

  def start_link, do: GenServer.start_link(__MODULE__, 0)

  @impl true
  def init(count), do: {:ok, count}

  @impl true
  def handle_cast(:inc, count), do: {:noreply, count + 1}

  @impl true
  def handle_call(:get, _from, count), do: {:reply, count, count}
end

defmodule Worker do
  use GenServer

  def start_link({i, cfg}), do: GenServer.start_link(__MODULE__, {i, cfg})

  @impl true
  def init({i, cfg}) do
    k = :atomics.add_get(cfg.incarnations, i, 1)

    if :atomics.add_get(cfg.inits, 1, 1) == cfg.target,
      do: send(cfg.driver, :restarts_done)

    # the first incarnation waits for :go; any integer < :infinity
    if k > 1 and k <= cfg.crashes, do: send(self(), :crash)
    {:ok, i}
  end

  @impl true
  def handle_info(:go, i), do: {:stop, :crash, i}
  def handle_info(:crash, i), do: {:stop, :crash, i}
end

SwerlElixirBench.main(System.argv())
