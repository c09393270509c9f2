#!/usr/bin/env escript
%% -*- erlang -*-
%%! +P 4194304
%%
%% The Erlang peer of the Swerl benchmark comparison (issue 5).
%%
%%     escript bench.escript <bench> key=value ... warmup=W runs=R
%%
%% follows Comparison/PROTOCOL.md: one `RESULT {json}` line on stdout,
%% progress and errors on stderr, non-zero exit when a check fails.
%%
%% Schedulers: the runner passes emulator flags through ERL_FLAGS, e.g.
%%
%%     ERL_FLAGS="+S 1:1" escript bench.escript pingpong n=2000000 warmup=1 runs=3
%%
%% (escript starts `erl`, which reads ERL_FLAGS; the `%%!` line above adds
%% `+P`, the process limit, which the spawn benchmark needs for 1M+
%% processes). `schedulers=N` on the command line is also understood: it
%% sets schedulers_online to N at start (N must not exceed the scheduler
%% threads the emulator was started with); ERL_FLAGS="+S N:N" is the
%% cleaner way, as it starts only N scheduler threads. The RESULT line
%% reports erlang:system_info(schedulers_online).
%%
%% `-mode(compile)` below makes escript compile this file to BEAM code
%% (run by the JIT like any module) instead of interpreting it.
%%
%% Every iteration runs in a fresh driver process (a clean mailbox and
%% heap), and every benchmark leaves no process behind: whatever is still
%% alive after the measured part is killed and its 'DOWN' awaited, outside
%% the measured part. Completion is always a message (or the atomic counter
%% that the last finisher sees, which then sends a message); no sleeps. A
%% wait that takes more than 10 minutes fails the run.
%%
%% Logging: the primary logger level is set to `none`, otherwise every
%% crash in the restart benchmarks formats a gen_server crash report and a
%% supervisor report; with `none` the log macros cost one level check.
-module(swerl_erlang_bench).
-mode(compile).

-export([main/1]).
%% Callbacks: this module is both the supervisor callback module and the
%% gen_server callback module of the restart benchmarks (init/1 tells the
%% two apart by its argument), and holds the proc_lib worker.
-export([init/1, handle_call/3, handle_cast/2, handle_info/2,
         start_worker/2, start_plain_worker/2, plain_init/3]).

-define(TIMEOUT, 600000).

%%% ---------------------------------------------------------------------
%%% Command line, iterations, RESULT line
%%% ---------------------------------------------------------------------

%% bench => {default params (Savina's where it has one), function}
benches() ->
    #{pingpong          => {#{n => 40000}, fun pingpong/1},
      counting          => {#{n => 1000000}, fun counting/1},
      %% A burst is counting's program: the producer sends all n at once
      %% (Swerl's in one turn; BEAM's until its reductions run out).
      burst             => {#{n => 1000000}, fun counting/1},
      threadring        => {#{actors => 100, n => 100000}, fun threadring/1},
      chameneos         => {#{creatures => 100, n => 200000}, fun chameneos/1},
      big               => {#{workers => 120, n => 20000}, fun big/1},
      fjthrput          => {#{actors => 60, n => 10000}, fun fjthrput/1},
      fjcreate          => {#{n => 40000}, fun fjcreate/1},
      fib               => {#{n => 25}, fun fib/1},
      spawn             => {#{n => 1000000}, fun spawn_bench/1},
      pingpong_payload  => {#{size => 0, n => 40000, copy => 0},
                            fun pingpong_payload/1},
      fanout            => {#{size => 1048576, receivers => 1000,
                              rounds => 1000, copy => 0},
                            fun fanout/1},
      restart_short     => {#{children => 100, crashes => 10,
                              worker => <<"gen_server">>},
                            fun restart_short/1},
      restart_sustained => {#{children => 1000, n => 100000,
                              worker => <<"gen_server">>},
                            fun restart_sustained/1},
      link_cascade      => {#{n => 100000}, fun link_cascade/1},
      monitors          => {#{n => 10000}, fun monitors/1}}.

main([BenchName | Args]) ->
    logger:set_primary_config(level, none),
    Bench = list_to_atom(BenchName),
    case maps:find(Bench, benches()) of
        error ->
            result([{system, <<"erlang">>}, {bench, Bench},
                    {skipped, <<"unknown benchmark">>}]),
            halt(0);
        {ok, {Defaults, Fun}} ->
            Opts = maps:from_list([parse_arg(A) || A <- Args]),
            Warmup = maps:get(warmup, Opts, 1),
            Runs = maps:get(runs, Opts, 3),
            set_schedulers(maps:get(schedulers, Opts, 0)),
            Params = maps:merge(Defaults,
                                maps:without([warmup, runs, schedulers], Opts)),
            Unknown = maps:keys(Params) -- maps:keys(Defaults),
            Unknown =:= [] orelse fail("unknown parameter(s) ~p for ~p",
                                       [Unknown, Bench]),
            W = [iteration(Bench, Fun, Params, warmup, I)
                 || I <- lists:seq(1, Warmup)],
            R = [iteration(Bench, Fun, Params, run, I)
                 || I <- lists:seq(1, Runs)],
            Extras = [E || {_, E} <- case R of [] -> W; _ -> R end],
            result([{system, <<"erlang">>}, {bench, Bench}, {params, Params},
                    {schedulers, erlang:system_info(schedulers_online)},
                    {warmups, [T || {T, _} <- W]},
                    {runs, [T || {T, _} <- R]},
                    {extra, median_extras(Extras)}]),
            halt(0)
    end;
main([]) ->
    io:format(standard_error,
              "usage: bench.escript <bench> key=value ... warmup=W runs=R~n"
              "benches: ~p~n", [lists:sort(maps:keys(benches()))]),
    halt(2).

parse_arg(Arg) ->
    case string:split(Arg, "=") of
        [K, V] -> {list_to_atom(K), parse_value(V)};
        _ -> fail("bad argument ~s (expected key=value)", [Arg])
    end.

parse_value(V) ->
    try list_to_integer(V)
    catch error:badarg ->
        try list_to_float(V)
        catch error:badarg -> list_to_binary(V)
        end
    end.

set_schedulers(0) -> ok;
set_schedulers(N) when is_integer(N), N > 0 ->
    Max = erlang:system_info(schedulers),
    N =< Max orelse fail("schedulers=~b but the emulator has only ~b "
                         "scheduler threads (use ERL_FLAGS=\"+S N:N\")",
                         [N, Max]),
    erlang:system_flag(schedulers_online, N),
    ok.

%% One iteration in a fresh driver process; returns {Seconds, Extra}.
iteration(Bench, Fun, Params, Kind, I) ->
    erlang:garbage_collect(),
    Parent = self(),
    {Pid, Ref} = spawn_monitor(fun() -> Parent ! {self(), done, Fun(Params)} end),
    receive
        {Pid, done, {T, Extra} = Res} when is_float(T), is_map(Extra) ->
            receive {'DOWN', Ref, process, Pid, _} -> ok end,
            io:format(standard_error, "~p ~p ~b: ~.3f s~n", [Bench, Kind, I, T]),
            Res;
        {'DOWN', Ref, process, Pid, Reason} ->
            fail("~p ~p ~b: the driver died: ~p", [Bench, Kind, I, Reason])
    end.

median_extras([]) -> #{};
median_extras([First | _] = Extras) ->
    maps:map(fun(K, V0) ->
                     Vs = [maps:get(K, E) || E <- Extras],
                     case lists:all(fun is_number/1, Vs) of
                         true -> median(Vs);
                         false -> V0
                     end
             end, First).

median(Vs) ->
    S = lists:sort(Vs),
    L = length(S),
    case L rem 2 of
        1 -> lists:nth(L div 2 + 1, S);
        0 -> (lists:nth(L div 2, S) + lists:nth(L div 2 + 1, S)) / 2
    end.

fail(Fmt, Args) ->
    io:format(standard_error, "erlang bench: FAILED: " ++ Fmt ++ "~n", Args),
    erlang:halt(1).

check(true, _Fmt, _Args) -> ok;
check(false, Fmt, Args) -> fail(Fmt, Args).

now_() -> erlang:monotonic_time().

secs(T0) ->
    (erlang:monotonic_time() - T0) / erlang:convert_time_unit(1, second, native).

%% Kill what is left and wait until it is gone (never inside a measured part).
stop_all(Pids) ->
    Refs = [erlang:monitor(process, P) || P <- Pids],
    lists:foreach(fun(P) -> exit(P, kill) end, Pids),
    lists:foreach(fun(R) -> receive {'DOWN', R, process, _, _} -> ok
                            after ?TIMEOUT -> fail("stop_all timed out", [])
                            end
                  end, Refs).

%% Wait for one message matching Pattern; the value is Value (a macro so
%% that the pattern can bind what Value uses).
-define(AWAIT(Pattern, What), ?AWAIT(Pattern, ok, What)).
-define(AWAIT(Pattern, Value, What),
        receive Pattern -> Value
        after ?TIMEOUT -> fail("timed out waiting for ~s", [What])
        end).

%%% JSON (OTP 25 has no json module). Objects are maps (keys sorted) or
%%% {obj, [{Key, Value}]} (order kept).

result(Fields) ->
    io:format("RESULT ~s~n", [iolist_to_binary(json({obj, Fields}))]).

json({obj, KVs}) ->
    ["{", lists:join(",", [[json(K), ":", json(V)] || {K, V} <- KVs]), "}"];
json(M) when is_map(M) -> json({obj, lists:sort(maps:to_list(M))});
json(L) when is_list(L) -> ["[", lists:join(",", [json(X) || X <- L]), "]"];
json(true) -> "true";
json(false) -> "false";
json(null) -> "null";
json(A) when is_atom(A) -> json(atom_to_binary(A, utf8));
json(I) when is_integer(I) -> integer_to_list(I);
json(F) when is_float(F) -> float_to_list(F, [short]);
json(B) when is_binary(B) ->
    [$", [escape(C) || <<C>> <= B], $"].

escape($") -> "\\\"";
escape($\\) -> "\\\\";
escape(C) when C < 32 -> io_lib:format("\\u~4.16.0b", [C]);
escape(C) -> C.

%%% ---------------------------------------------------------------------
%%% pingpong, pingpong_payload
%%% ---------------------------------------------------------------------

%% The ping process sends {ping, self()} and waits for pong, n times; the
%% pong process answers every ping and, when told to stop, reports how
%% many it answered.
pingpong(#{n := N}) ->
    Me = self(),
    Pong = spawn(fun() -> pong_loop(0) end),
    Ping = spawn(fun() -> receive go -> ok end,
                          ping_loop(Pong, N),
                          Me ! {self(), ping_done} end),
    T0 = now_(),
    Ping ! go,
    ?AWAIT({Ping, ping_done}, "the ping process"),
    T = secs(T0),
    Pong ! {stop, self()},
    Count = ?AWAIT({pong_count, C}, C, "the pong count"),
    check(Count =:= N, "pong answered ~b pings, expected ~b", [Count, N]),
    {T, #{}}.

ping_loop(_Pong, 0) -> ok;
ping_loop(Pong, K) ->
    Pong ! {ping, self()},
    receive pong -> ping_loop(Pong, K - 1) end.

pong_loop(C) ->
    receive
        {ping, From} -> From ! pong, pong_loop(C + 1);
        {stop, From} -> From ! {pong_count, C}
    end.

%% The payload is a binary of `size` bytes. copy=0 (default) sends it as the
%% BEAM does: binaries up to 64 bytes live on the heap and are copied into
%% the receiver; larger ones are reference counted and only the reference
%% travels. copy=1 makes each side send a fresh binary:copy/1 of what it
%% received, so `size` bytes are copied each way.
pingpong_payload(#{n := N, size := Size, copy := Copy}) ->
    Me = self(),
    Payload = binary:copy(<<7>>, Size),
    CopyP = Copy =/= 0,
    Pong = spawn(fun() -> ppong_loop(CopyP, Size, 0) end),
    Ping = spawn(fun() -> receive go -> ok end,
                          pping_loop(Pong, Payload, CopyP, Size, N),
                          Me ! {self(), ping_done} end),
    T0 = now_(),
    Ping ! go,
    ?AWAIT({Ping, ping_done}, "the ping process"),
    T = secs(T0),
    Pong ! {stop, self()},
    Count = ?AWAIT({pong_count, C}, C, "the pong count"),
    check(Count =:= N, "pong answered ~b pings, expected ~b", [Count, N]),
    {T, #{payload_send => case {CopyP, Size > 64} of
                             {true, _} -> <<"binary:copy each way">>;
                             {false, true} -> <<"refc binary, shared">>;
                             {false, false} -> <<"heap binary, copied">>
                         end}}.

pping_loop(_Pong, _Bin, _CopyP, _Size, 0) -> ok;
pping_loop(Pong, Bin, CopyP, Size, K) ->
    Pong ! {ping, self(), maybe_copy(CopyP, Bin)},
    receive
        {pong, Back} when byte_size(Back) =:= Size ->
            pping_loop(Pong, Back, CopyP, Size, K - 1);
        {pong, Back} ->
            fail("pong payload of ~b bytes, expected ~b", [byte_size(Back), Size])
    end.

ppong_loop(CopyP, Size, C) ->
    receive
        {ping, From, Bin} when byte_size(Bin) =:= Size ->
            From ! {pong, maybe_copy(CopyP, Bin)},
            ppong_loop(CopyP, Size, C + 1);
        {ping, _From, Bin} ->
            fail("ping payload of ~b bytes, expected ~b", [byte_size(Bin), Size]);
        {stop, From} ->
            From ! {pong_count, C}
    end.

maybe_copy(true, Bin) -> binary:copy(Bin);
maybe_copy(false, Bin) -> Bin.

%%% ---------------------------------------------------------------------
%%% fanout
%%% ---------------------------------------------------------------------

%% A sender sends one binary of `size` bytes with ! to each of `receivers`
%% processes, each answers `ack` when it has it (checking its size), and the
%% round ends when every ack is in; `rounds` rounds. Above 64 bytes the
%% binary is reference counted: every message carries a reference to the
%% one binary. copy=1 sends each receiver a fresh binary:copy/1 instead.
fanout(#{size := Size, receivers := N, rounds := Rounds, copy := Copy}) ->
    Me = self(),
    CopyP = Copy =/= 0,
    Sender = spawn(fun() ->
                           Bin = binary:copy(<<7>>, Size),
                           S = self(),
                           Rs = [spawn(fun() -> fan_receiver(S, Size) end)
                                 || _ <- lists:seq(1, N)],
                           Me ! {self(), ready, Rs},
                           receive go -> ok end,
                           fan_rounds(Rs, Bin, CopyP, N, Rounds),
                           Me ! {self(), fan_done}
                   end),
    Rs = ?AWAIT({Sender, ready, Rs0}, Rs0, "the receivers to start"),
    T0 = now_(),
    Sender ! go,
    ?AWAIT({Sender, fan_done}, "the rounds"),
    T = secs(T0),
    stop_all(Rs),
    {T, #{us_per_round => T * 1.0e6 / Rounds,
          receives_per_s => N * Rounds / T,
          payload_send => case {CopyP, Size > 64} of
                              {true, _} -> <<"binary:copy per receiver">>;
                              {false, true} -> <<"refc binary, shared">>;
                              {false, false} -> <<"heap binary, copied">>
                          end}}.

fan_rounds(_Rs, _Bin, _CopyP, _N, 0) -> ok;
fan_rounds(Rs, Bin, CopyP, N, K) ->
    lists:foreach(fun(R) -> R ! maybe_copy(CopyP, Bin) end, Rs),
    fan_acks(N),
    fan_rounds(Rs, Bin, CopyP, N, K - 1).

fan_acks(0) -> ok;
fan_acks(K) ->
    receive
        ack -> fan_acks(K - 1);
        {nack, Got} -> fail("a fanout receiver got ~b bytes", [Got])
    after ?TIMEOUT -> fail("timed out waiting for the acks", [])
    end.

fan_receiver(Sender, Size) ->
    receive
        Bin when byte_size(Bin) =:= Size -> Sender ! ack;
        Bin -> Sender ! {nack, byte_size(Bin)}
    end,
    fan_receiver(Sender, Size).

%%% ---------------------------------------------------------------------
%%% counting
%%% ---------------------------------------------------------------------

counting(#{n := N}) ->
    Me = self(),
    Counter = spawn(fun() -> counter_loop(0) end),
    Producer = spawn(fun() -> receive go -> ok end,
                              produce(Counter, N),
                              Counter ! {get, self()},
                              receive {count, C} -> Me ! {self(), C} end
                     end),
    T0 = now_(),
    Producer ! go,
    Count = ?AWAIT({Producer, C}, C, "the count"),
    T = secs(T0),
    check(Count =:= N, "counter counted ~b, expected ~b", [Count, N]),
    {T, #{}}.

produce(_Counter, 0) -> ok;
produce(Counter, K) -> Counter ! inc, produce(Counter, K - 1).

counter_loop(C) ->
    receive
        inc -> counter_loop(C + 1);
        {get, From} -> From ! {count, C}
    end.

%%% ---------------------------------------------------------------------
%%% threadring
%%% ---------------------------------------------------------------------

threadring(#{actors := A, n := N}) ->
    Me = self(),
    Pids = [spawn(fun() -> receive {next, Next} -> ring_loop(Next, Me) end end)
            || _ <- lists:seq(1, A)],
    lists:foreach(fun({P, Next}) -> P ! {next, Next} end,
                  lists:zip(Pids, tl(Pids) ++ [hd(Pids)])),
    T0 = now_(),
    hd(Pids) ! {token, N},
    Who = ?AWAIT({ring_done, W}, W, "the token to reach 0"),
    T = secs(T0),
    %% The first process sees N, the k-th (0-based) sees N - k.
    Expected = lists:nth(N rem A + 1, Pids),
    check(Who =:= Expected, "token reached 0 at the wrong process", []),
    stop_all(Pids),
    {T, #{}}.

ring_loop(Next, Me) ->
    receive
        {token, 0} -> Me ! {ring_done, self()}, ring_loop(Next, Me);
        {token, K} -> Next ! {token, K - 1}, ring_loop(Next, Me)
    end.

%%% ---------------------------------------------------------------------
%%% chameneos
%%% ---------------------------------------------------------------------

%% Savina's version: every creature asks the mall for a meeting; the mall
%% keeps at most one waiting creature and pairs it with the next one that
%% asks (sending the waiting one the newcomer's pid and colour); the waiting
%% creature takes the complement colour, tells the newcomer (which takes it
%% too), and both ask again. After n meetings the mall answers every request
%% with stop; a stopping creature reports its meetings to the mall, and when
%% all have, the mall reports their sum (2n) to the driver.
chameneos(#{creatures := C, n := N}) ->
    Me = self(),
    Mall = spawn(fun() -> receive go -> mall(N, none, C, 0, Me) end end),
    Colours = {red, yellow, blue},
    Creatures = [spawn(fun() -> creature_start(Mall, element(I rem 3 + 1, Colours)) end)
                 || I <- lists:seq(0, C - 1)],
    T0 = now_(),
    Mall ! go,
    lists:foreach(fun(P) -> P ! go end, Creatures),
    Sum = ?AWAIT({mall_done, S}, S, "the mall"),
    T = secs(T0),
    check(Sum =:= 2 * N, "creatures met ~b times, expected ~b", [Sum, 2 * N]),
    {T, #{}}.

mall(N, Waiting, Alive, Sum, Me) ->
    receive
        {meet, P, Colour} when N > 0 ->
            case Waiting of
                none -> mall(N, {P, Colour}, Alive, Sum, Me);
                {W, _} -> W ! {meet, P, Colour},
                          mall(N - 1, none, Alive, Sum, Me)
            end;
        {meet, P, _} ->
            P ! stop,
            mall(0, none, Alive, Sum, Me);
        {faded, M} when Alive =:= 1 ->
            Me ! {mall_done, Sum + M};
        {faded, M} ->
            mall(N, Waiting, Alive - 1, Sum + M, Me)
    end.

creature_start(Mall, Colour) ->
    receive go -> ok end,
    Mall ! {meet, self(), Colour},
    creature(Mall, Colour, 0).

creature(Mall, Colour, Meetings) ->
    receive
        {meet, Other, OtherColour} ->
            New = complement(Colour, OtherColour),
            Other ! {change, New},
            Mall ! {meet, self(), New},
            creature(Mall, New, Meetings + 1);
        {change, New} ->
            Mall ! {meet, self(), New},
            creature(Mall, New, Meetings + 1);
        stop ->
            Mall ! {faded, Meetings}
    end.

complement(C, C) -> C;
complement(red, yellow) -> blue;
complement(red, blue) -> yellow;
complement(yellow, red) -> blue;
complement(yellow, blue) -> red;
complement(blue, red) -> yellow;
complement(blue, yellow) -> red.

%%% ---------------------------------------------------------------------
%%% big
%%% ---------------------------------------------------------------------

%% Savina's: a worker that receives a pong (the driver's first message is a
%% pong too) sends a ping to a random other worker, until it has sent n;
%% then it tells the sink (the driver) and keeps answering pings. After the
%% measured part every worker reports how many pings it answered: the sum
%% must be workers * n.
big(#{workers := W, n := N}) ->
    W >= 2 orelse fail("big needs workers >= 2", []),
    Me = self(),
    Pids = [spawn(fun() -> big_start(Me, N) end) || _ <- lists:seq(1, W)],
    Tuple = list_to_tuple(Pids),
    lists:foreach(fun({I, P}) -> P ! {neighbours, I, Tuple} end,
                  lists:zip(lists:seq(1, W), Pids)),
    T0 = now_(),
    lists:foreach(fun(P) -> P ! pong end, Pids),
    lists:foreach(fun(_) -> ?AWAIT(big_done, "the workers") end, Pids),
    T = secs(T0),
    lists:foreach(fun(P) -> P ! {report, Me} end, Pids),
    Answered = lists:sum([receive {answered, A} -> A after ?TIMEOUT -> 0 end
                          || _ <- Pids]),
    check(Answered =:= W * N, "~b pings answered, expected ~b",
          [Answered, W * N]),
    stop_all(Pids),
    {T, #{}}.

big_start(Sink, N) ->
    receive {neighbours, I, Tuple} -> ok end,
    rand:seed(exsss, {I, 2014, 3}),
    big_loop(Sink, I, Tuple, tuple_size(Tuple), N, 0).

big_loop(Sink, I, Tuple, W, Left, Answered) ->
    receive
        {ping, From} ->
            From ! pong,
            big_loop(Sink, I, Tuple, W, Left, Answered + 1);
        pong when Left =:= 0 ->
            Sink ! big_done,
            big_loop(Sink, I, Tuple, W, -1, Answered);
        pong ->
            R = rand:uniform(W - 1),
            Target = element(if R >= I -> R + 1; true -> R end, Tuple),
            Target ! {ping, self()},
            big_loop(Sink, I, Tuple, W, Left - 1, Answered);
        {report, From} ->
            From ! {answered, Answered},
            big_loop(Sink, I, Tuple, W, Left, Answered)
    end.

%%% ---------------------------------------------------------------------
%%% fjthrput, fjcreate: Savina's performComputation(37.2)
%%% ---------------------------------------------------------------------

%% The argument reaches the computation through a function parameter or a
%% message, so the compiler cannot fold math:sin/1 of a constant; the
%% results are summed and the sum is checked.
computation(X) ->
    S = math:sin(X),
    S * S.

fjthrput(#{actors := A, n := N}) ->
    Me = self(),
    X = 37.2,
    Pids = [spawn(fun() -> fj_actor(Me, N, X, 0.0) end) || _ <- lists:seq(1, A)],
    T0 = now_(),
    fj_send(N, Pids),
    Sums = [receive {fj_done, S} -> S after ?TIMEOUT -> fail("fjthrput timed out", []) end
            || _ <- Pids],
    T = secs(T0),
    Expected = N * computation(X),
    lists:foreach(fun(S) -> check(abs(S - Expected) < 1.0e-6 * N + 1.0e-9,
                                  "fjthrput sum ~p, expected ~p", [S, Expected])
                  end, Sums),
    {T, #{}}.

fj_send(0, _Pids) -> ok;
fj_send(K, Pids) ->
    lists:foreach(fun(P) -> P ! work end, Pids),
    fj_send(K - 1, Pids).

fj_actor(Me, 0, _X, Sum) -> Me ! {fj_done, Sum};
fj_actor(Me, K, X, Sum) ->
    receive work -> fj_actor(Me, K - 1, X, Sum + computation(X)) end.

fjcreate(#{n := N}) ->
    Me = self(),
    X = 37.2,
    T0 = now_(),
    fjc_spawn(N, Me, X),
    Sum = fjc_collect(N, 0.0),
    T = secs(T0),
    Expected = N * computation(X),
    check(abs(Sum - Expected) < 1.0e-6 * N + 1.0e-9,
          "fjcreate sum ~p, expected ~p", [Sum, Expected]),
    {T, #{}}.

fjc_spawn(0, _Me, _X) -> ok;
fjc_spawn(K, Me, X) ->
    P = spawn(fun() -> receive {work, Y} -> Me ! {fjc_done, computation(Y)} end end),
    P ! {work, X},
    fjc_spawn(K - 1, Me, X).

fjc_collect(0, Sum) -> Sum;
fjc_collect(K, Sum) ->
    receive {fjc_done, R} -> fjc_collect(K - 1, Sum + R)
    after ?TIMEOUT -> fail("fjcreate timed out with ~b left", [K])
    end.

%%% ---------------------------------------------------------------------
%%% fib
%%% ---------------------------------------------------------------------

fib(#{n := N}) ->
    Me = self(),
    T0 = now_(),
    spawn(fun() -> fib_proc(Me, N) end),
    R = ?AWAIT({fib, F}, F, "fib's answer"),
    T = secs(T0),
    Expected = fib_seq(N),
    check(R =:= Expected, "fib(~b) = ~b, expected ~b", [N, R, Expected]),
    {T, #{processes => 2 * Expected - 1}}.

fib_proc(Parent, N) when N =< 2 -> Parent ! {fib, 1};
fib_proc(Parent, N) ->
    Me = self(),
    spawn(fun() -> fib_proc(Me, N - 1) end),
    spawn(fun() -> fib_proc(Me, N - 2) end),
    receive {fib, A} -> receive {fib, B} -> Parent ! {fib, A + B} end end.

fib_seq(N) -> fib_seq(N, 1, 1).
fib_seq(N, A, _B) when N =< 2 -> A;
fib_seq(N, A, B) -> fib_seq(N - 1, A + B, A).

%%% ---------------------------------------------------------------------
%%% spawn
%%% ---------------------------------------------------------------------

%% One process spawns n idle processes. Each child, when it first runs,
%% adds one to an atomic counter; the child that brings it to n tells the
%% spawner. The time is first spawn .. that message.
%% Memory, with all n alive:
%%   bytes_per_process         erlang:memory(processes) delta / n, minus the
%%                             spawner's own growth (its list of n pids)
%%   bytes_per_process_runtime process_info(P, memory) of a child (median of
%%                             the first, middle and last)
%%   bytes_per_process_rss     RSS delta / n (/proc/self/statm). The BEAM
%%                             keeps its allocator carriers, so after the
%%                             first iteration this is near 0: see the first
%%                             warm-up's value in stderr / use warmup=0 runs=1
spawn_bench(#{n := N}) ->
    Me = self(),
    Counter = atomics:new(1, []),
    erlang:garbage_collect(),
    {memory, Self0} = process_info(self(), memory),
    Mem0 = erlang:memory(processes),
    Rss0 = rss(),
    T0 = now_(),
    Pids = spawn_idle(N, N, Counter, Me, []),
    TCalls = secs(T0),
    ?AWAIT(all_started, "the children to start"),
    T = secs(T0),
    Rss1 = rss(),
    Mem1 = erlang:memory(processes),
    {memory, Self1} = process_info(self(), memory),
    Sample = [element(2, process_info(P, memory))
              || P <- [hd(Pids), lists:nth(N div 2 + 1, Pids), lists:last(Pids)]],
    stop_all(Pids),
    {T, #{bytes_per_process => (Mem1 - Mem0 - (Self1 - Self0)) / N,
          bytes_per_process_runtime => median(Sample),
          bytes_per_process_rss => (Rss1 - Rss0) / N,
          us_per_spawn => T * 1.0e6 / N,
          spawn_calls_us => TCalls * 1.0e6 / N}}.

spawn_idle(0, _N, _Counter, _Me, Acc) -> Acc;
spawn_idle(K, N, Counter, Me, Acc) ->
    P = spawn(fun() -> idle(Counter, N, Me) end),
    spawn_idle(K - 1, N, Counter, Me, [P | Acc]).

idle(Counter, N, Me) ->
    case atomics:add_get(Counter, 1, 1) of
        N -> Me ! all_started;
        _ -> ok
    end,
    receive stop -> ok end.

rss() ->
    {ok, Statm} = file:read_file("/proc/self/statm"),
    [_Size, Resident | _] = binary:split(Statm, <<" ">>, [global]),
    binary_to_integer(Resident) * 4096.

%%% ---------------------------------------------------------------------
%%% restart_short, restart_sustained: a real OTP supervisor
%%% ---------------------------------------------------------------------

%% A one_for_one `supervisor` (intensity 2^40 restarts in 1 s: never
%% reached; OTP keeps the restarts of the last period in a list it walks on
%% every restart) with `children` permanent workers. The worker is a
%% gen_server by default (worker=gen_server) or a minimal proc_lib process
%% (worker=proc_lib: proc_lib:start_link, init_ack, a plain receive).
%%
%% Each child counts its incarnations in an atomics array (slot = child
%% index) and every init adds one to a shared atomic counter. The first
%% incarnation waits for `go` (sent by the driver to all children at t0)
%% and crashes on it; later incarnations crash at once, through a message
%% the init sends to itself (handle_info returns {stop, crash, State}), in
%% restart_short up to incarnation `crashes`, in restart_sustained forever.
%% The init that brings the counter to children + restarts tells the
%% driver: restart_short ends when the last child's (crashes+1)-th, idle
%% incarnation has started; restart_sustained after n restarts. Then the
%% driver checks the supervisor's children and stops it (exit shutdown).
restart_short(#{children := C, crashes := K, worker := Kind}) ->
    restart_bench(C, C * K, K, Kind).

restart_sustained(#{children := C, n := N, worker := Kind}) ->
    restart_bench(C, N, infinity, Kind).

restart_bench(Children, Restarts, Crashes, Kind) ->
    Start = case Kind of
                <<"gen_server">> -> start_worker;
                <<"proc_lib">> -> start_plain_worker;
                _ -> fail("worker=~s: expected gen_server or proc_lib", [Kind])
            end,
    Me = self(),
    Inits = atomics:new(1, []),
    Incarnations = atomics:new(Children, []),
    Target = Children + Restarts,
    Cfg = #{driver => Me, inits => Inits, incarnations => Incarnations,
            target => Target, crashes => Crashes},
    %% Linked: if the supervisor ever gave up, the driver would die with it
    %% and the run would fail.
    {ok, Sup} = supervisor:start_link(?MODULE, {sup, Children, Start, Cfg}),
    Kids = [P || {_, P, worker, _} <- supervisor:which_children(Sup),
                 is_pid(P)],
    check(length(Kids) =:= Children, "~b children running, expected ~b",
          [length(Kids), Children]),
    T0 = now_(),
    lists:foreach(fun(P) -> P ! go end, Kids),
    ?AWAIT(restarts_done, "the restarts"),
    T = secs(T0),
    Counts = supervisor:count_children(Sup),
    Total = atomics:get(Inits, 1),
    case Crashes of
        infinity ->
            %% Mid-storm most children are dead, waiting to be restarted.
            Specs = proplists:get_value(specs, Counts),
            check(Specs =:= Children, "~b child specs, expected ~b",
                  [Specs, Children]),
            check(Total >= Target, "~b inits, expected >= ~b", [Total, Target]);
        _ ->
            Active = proplists:get_value(active, Counts),
            check(Active =:= Children, "~b children active, expected ~b",
                  [Active, Children]),
            check(Total =:= Target, "~b inits, expected ~b", [Total, Target]),
            lists:foreach(
              fun(I) ->
                      Inc = atomics:get(Incarnations, I),
                      check(Inc =:= Crashes + 1,
                            "child ~b in incarnation ~b, expected ~b",
                            [I, Inc, Crashes + 1])
              end, lists:seq(1, Children))
    end,
    unlink(Sup),
    Ref = erlang:monitor(process, Sup),
    exit(Sup, shutdown),
    ?AWAIT({'DOWN', Ref, process, Sup, _}, "the supervisor to stop"),
    {T, #{restarts_per_s => Restarts / T,
          us_per_restart => T * 1.0e6 / Restarts}}.

init({sup, Children, Start, Cfg}) ->
    Flags = #{strategy => one_for_one, intensity => 1 bsl 40, period => 1},
    Specs = [#{id => I, start => {?MODULE, Start, [I, Cfg]},
               restart => permanent, shutdown => 5000, type => worker}
             || I <- lists:seq(1, Children)],
    {ok, {Flags, Specs}};
init({worker, I, Cfg}) ->
    case incarnation(I, Cfg) of
        first -> ok;
        crash -> self() ! crash;
        idle -> ok
    end,
    {ok, I}.

start_worker(I, Cfg) ->
    gen_server:start_link(?MODULE, {worker, I, Cfg}, []).

handle_info(go, S) -> {stop, crash, S};
handle_info(crash, S) -> {stop, crash, S}.

handle_call(_Req, _From, S) -> {reply, ok, S}.
handle_cast(_Req, S) -> {noreply, S}.

start_plain_worker(I, Cfg) ->
    proc_lib:start_link(?MODULE, plain_init, [self(), I, Cfg]).

plain_init(Parent, I, Cfg) ->
    case incarnation(I, Cfg) of
        crash -> self() ! crash;
        _ -> ok
    end,
    proc_lib:init_ack(Parent, {ok, self()}),
    receive
        go -> exit(crash);
        crash -> exit(crash)
    end.

%% Counts this init; returns what this incarnation does.
incarnation(I, #{driver := Me, inits := Inits, incarnations := Incs,
                 target := Target, crashes := Crashes}) ->
    K = atomics:add_get(Incs, I, 1),
    case atomics:add_get(Inits, 1, 1) of
        Target -> Me ! restarts_done;
        _ -> ok
    end,
    if K =:= 1 -> first;
       K =< Crashes -> crash;   % any integer =< infinity (numbers < atoms)
       true -> idle
    end.

%%% ---------------------------------------------------------------------
%%% link_cascade
%%% ---------------------------------------------------------------------

%% n processes, each spawn_link-ing the next (none traps exits); the driver
%% monitors the last, kills the first with reason `crash` and waits for the
%% last one's 'DOWN' (reason crash).
link_cascade(#{n := N}) ->
    Me = self(),
    First = spawn(fun() -> chain(N - 1, Me) end),
    Last = ?AWAIT({chain_last, L}, L, "the chain to be built"),
    Ref = erlang:monitor(process, Last),
    T0 = now_(),
    exit(First, crash),
    receive
        {'DOWN', Ref, process, Last, crash} -> ok;
        {'DOWN', Ref, process, Last, Other} ->
            fail("the last process died with ~p, expected crash", [Other])
    after ?TIMEOUT -> fail("link_cascade timed out", [])
    end,
    T = secs(T0),
    check(not is_process_alive(First), "the first process is alive", []),
    {T, #{}}.

chain(0, Me) ->
    Me ! {chain_last, self()},
    receive stop -> ok end;
chain(K, Me) ->
    spawn_link(fun() -> chain(K - 1, Me) end),
    receive stop -> ok end.

%%% ---------------------------------------------------------------------
%%% monitors
%%% ---------------------------------------------------------------------

%% n watchers each monitor one target and count themselves ready on an
%% atomic counter (the last tells the driver); at t0 the target is told to
%% stop (exit normal); each watcher handles its 'DOWN' (checks the
%% reason), counts it on a second counter and exits; the watcher that
%% counts the n-th tells the driver.
monitors(#{n := N}) ->
    Me = self(),
    Target = spawn(fun() -> receive stop -> ok end end),
    Counter = atomics:new(2, []),
    lists:foreach(fun(_) -> spawn(fun() -> watcher(Target, Counter, N, Me) end) end,
                  lists:seq(1, N)),
    ?AWAIT(watchers_ready, "the watchers"),
    T0 = now_(),
    Target ! stop,
    ?AWAIT(all_down, "the DOWN messages"),
    T = secs(T0),
    check(atomics:get(Counter, 2) =:= N, "~b DOWNs, expected ~b",
          [atomics:get(Counter, 2), N]),
    {T, #{}}.

watcher(Target, Counter, N, Me) ->
    Ref = erlang:monitor(process, Target),
    case atomics:add_get(Counter, 1, 1) of
        N -> Me ! watchers_ready;
        _ -> ok
    end,
    receive
        {'DOWN', Ref, process, Target, normal} ->
            case atomics:add_get(Counter, 2, 1) of
                N -> Me ! all_down;
                _ -> ok
            end;
        {'DOWN', Ref, process, Target, Reason} ->
            fail("target died with ~p", [Reason])
    end.
