# The Elixir node of the cluster example: it drives the story against the
# Swerl node (swerl_node.py) and prints each step, "elixir | ..." (run.sh
# starts both; see README.md). Any step that goes wrong raises, and the
# script exits 1.
#
# SWERL_CLUSTER_NODE names the Swerl node (swerl@127.0.0.1).

defmodule Say do
  # Each line is written to the output at once, with write(2), before the
  # message it announces is sent: IO.puts hands its text to the IO server,
  # which writes it later, so the Swerl node's answer could print first.
  # (Only the main process prints.)
  def line(text), do: write("elixir | " <> text <> "\n")
  def step(text), do: write("elixir | -- " <> text <> "\n")

  defp write(text) do
    out =
      case Process.get(:say_out) do
        nil ->
          {:ok, out} = :file.open(~c"/dev/stdout", [:append, :raw, :binary])
          Process.put(:say_out, out)
          out

        out ->
          out
      end

    :ok = :file.write(out, text)
  end

  # Waits for a message that `match` accepts (it returns {:ok, value}),
  # at most `ms`; other messages stay in the mailbox.
  defmacro expect(what, ms \\ 5000, do: clauses) do
    quote do
      receive do
        unquote(clauses)
      after
        unquote(ms) -> raise "no #{unquote(what)} within #{unquote(ms)} ms"
      end
    end
  end
end

defmodule Worker do
  # An Elixir GenServer linked to a Python process on the Swerl node (its
  # "partner", started for it by the Python process "python"): when the
  # partner crashes, the link kills this worker, and its Supervisor starts
  # a new one, which gets a new partner.
  use GenServer

  def start_link(swerl), do: GenServer.start_link(__MODULE__, swerl, name: :worker)

  @impl true
  def init(swerl) do
    partner = GenServer.call({:python, swerl}, :new_partner)
    true = Process.link(partner)
    send(:cluster, {:worker_up, self(), partner})
    {:ok, partner}
  end

  @impl true
  def handle_call(:ping_partner, _from, partner), do: {:reply, GenServer.call(partner, :ping), partner}
end

defmodule Cluster do
  import Say

  def main do
    swerl = String.to_atom(System.fetch_env!("SWERL_CLUSTER_NODE"))
    Process.register(self(), :cluster)
    # The supervisor's reports of the worker's exit: this script prints its own lines.
    Logger.configure(level: :none)

    step("1. connect")
    true = Node.connect(swerl)
    line("#{node()} connected to #{swerl} (hidden nodes: #{inspect(Node.list(:hidden))})")

    step("2. messages both ways, as terms")
    line("send {:python, #{swerl}} {:hello, self(), \"hello from Elixir\"}")
    send({:python, swerl}, {:hello, self(), "hello from Elixir"})

    expect "hello_back from Python" do
      {:hello_back, pid, %{"from" => "Python", "primes" => [2, 3, 5, 7] = primes, "pi" => pi}}
      when is_pid(pid) and node(pid) == swerl ->
        line("got {:hello_back, #{inspect(pid)}, %{\"from\" => \"Python\", \"primes\" => #{inspect(primes)}, \"pi\" => #{pi}}} (matched)")
    end

    step("3. GenServer.call into the C key-value server")
    kv = {:kv, swerl}
    call = fn request, want ->
      answer = GenServer.call(kv, request)
      line("GenServer.call({:kv, #{swerl}}, #{inspect(request)}) -> #{inspect(answer)}")
      if answer != want, do: raise("expected #{inspect(want)}")
      answer
    end

    call.({:put, "language", "Elixir"}, :ok)
    call.({:get, "language"}, {:ok, "Elixir"})
    call.({:put, :point, %{x: 1, y: 2.5, tags: [:a, :b]}}, :ok)
    call.({:get, :point}, {:ok, %{x: 1, y: 2.5, tags: [:a, :b]}})
    call.({:get, "nothing"}, :not_found)

    step("4. a crash in C, seen as DOWN here; the Swerl supervisor restarts it")
    ref = Process.monitor(kv)
    line("Process.monitor({:kv, #{swerl}}); send it {:crash, \"asked to crash\"}")
    send(kv, {:crash, "asked to crash"})

    expect "DOWN of the C kv" do
      {:DOWN, ^ref, :process, {:kv, ^swerl}, reason} ->
        line("DOWN {:kv, #{swerl}}: reason #{inspect(reason)}")
        if reason != {:error, "asked to crash"}, do: raise("unexpected reason #{inspect(reason)}")
    end

    expect "kv_up from the Swerl side" do
      {:kv_up, pid} -> line("the Swerl side says the supervisor restarted kv: #{inspect(pid)}")
    end

    call.({:get, "language"}, :not_found)
    call.({:put, "language", "Elixir, again"}, :ok)
    call.({:get, "language"}, {:ok, "Elixir, again"})

    step("5. the Swerl side monitors an Elixir process")
    victim = spawn(fn -> receive do: (:stop -> exit(:boom)) end)
    Process.register(victim, :victim)
    :ok = GenServer.call({:python, swerl}, {:watch, :victim})
    line("#{inspect(victim)} registered as :victim, watched from Python; it exits with :boom")
    send(victim, :stop)

    expect "saw_down from Python" do
      {:saw_down, :victim, reason, detail} ->
        line("Python saw :victim go down: reason #{inspect(reason)}, detail #{inspect(detail)}")
        if {reason, detail} != {:error, "boom"}, do: raise("unexpected #{inspect({reason, detail})}")
    end

    step("6. an Elixir Supervisor restarts a worker linked to a Swerl process that crashed")
    {:ok, sup} = Supervisor.start_link([{Worker, swerl}], strategy: :one_for_one, max_restarts: 3)

    {w1, p1} =
      expect "the first worker" do
        {:worker_up, w, p} -> {w, p}
      end

    line("worker #{inspect(w1)} linked to Python partner #{inspect(p1)}; ping -> #{inspect(GenServer.call(:worker, :ping_partner))}")
    wref = Process.monitor(w1)
    line("send the partner {:crash, \"asked to crash\"}")
    send(p1, {:crash, "asked to crash"})

    expect "the first worker's DOWN" do
      {:DOWN, ^wref, :process, ^w1, {:error, traceback}} when is_binary(traceback) ->
        last = traceback |> String.trim() |> String.split("\n") |> List.last()
        line("worker #{inspect(w1)} exited through the link: {:error, \"...#{last}\"}")
    end

    {w2, p2} =
      expect "the restarted worker" do
        {:worker_up, w, p} when w != w1 -> {w, p}
      end

    pong = GenServer.call(:worker, :ping_partner)
    line("the Supervisor restarted it: worker #{inspect(w2)} linked to partner #{inspect(p2)}; ping -> #{inspect(pong)}")
    if pong != :pong or p2 == p1, do: raise("the restarted worker does not work")

    step("7. done")
    :ok = Supervisor.stop(sup)
    {:ok, steps} = GenServer.call({:python, swerl}, :done)
    line("the Swerl side saw: #{Enum.join(steps, ", ")}")
    line("all steps ok")
  end
end

Cluster.main()
