%% The Erlang peer of the distribution benchmark (Benchmarks/dist/README.md):
%% the same program as dist_peer.c. A node that hosts
%%   dist_sink  counts the data messages of a throughput run and acks them,
%%   dist_echo  sends every ping back,
%%   dist_ctl   (this process) runs the tests the runner asks for on stdin,
%% one command a line, one result line each on stdout:
%%   tput NODE N SIZE BATCH WINDOW TIMEOUT_MS
%%   ping NODE COUNT WARMUP SIZE TIMEOUT_MS
%%   quit
%% Every message is a binary sent to a registered name ({Name, Node} ! Bin),
%% in both directions, as the Swerl peer sends (swerl_send_remote):
%%   "S N BATCH SIZE DRIVER" to the sink: a run starts; it answers "R"
%%   "D..." (SIZE bytes)       a data message; every BATCH of them and at N
%%                             the sink answers "A<count>"; a data message
%%                             of another size is answered "X<count>"
%%   "H DRIVER" to the echo:   it answers "H", then sends back all else
%%   "P..." (SIZE bytes)       a ping, sent back as it came
%%
%%   erl -noshell -name a@127.0.0.1 -setcookie C -pa DIR -run dist_peer main
-module(dist_peer).
-export([main/0]).

main() ->
    register(dist_sink, spawn_link(fun() -> sink_idle() end)),
    register(dist_echo, spawn_link(fun() -> echo(undefined) end)),
    register(dist_ctl, self()),
    io:format("ready ~s~n", [node()]),
    loop().

loop() ->
    case io:get_line("") of
        Line when is_list(Line) ->
            case string:lexemes(string:trim(Line), " ") of
                ["quit"] -> halt(0);
                [] -> loop();
                Words ->
                    Out = try command(Words)
                          catch Class:Reason -> io_lib:format("error ~p:~p", [Class, Reason])
                          end,
                    io:format("~s~n", [Out]),
                    loop()
            end;
        _ -> halt(0)                                    % eof: the runner is gone
    end.

int(S) -> list_to_integer(S).

command(["tput", Node, N, Size, Batch, Window, Timeout]) ->
    tput(list_to_atom(Node), int(N), int(Size), int(Batch), int(Window), int(Timeout));
command(["ping", Node, Count, Warmup, Size, Timeout]) ->
    ping(list_to_atom(Node), int(Count), int(Warmup), int(Size), int(Timeout));
command(Other) ->
    io_lib:format("error unknown command ~p", [Other]).

flush() -> receive _ -> flush() after 0 -> ok end.

connect(Node) ->
    case net_kernel:connect_node(Node) of
        true -> ok;
        _ -> throw(noconnection)
    end.

now_ns() -> erlang:monotonic_time(nanosecond).

%% Throughput: N data messages of SIZE bytes to {dist_sink, Node}, at most
%% WINDOW batches of BATCH not yet acked; the clock runs from the first send
%% to the ack of the Nth.
tput(Node, N, Size, Batch, Window, Timeout) ->
    connect(Node),
    flush(),
    Sink = {dist_sink, Node},
    Sink ! iolist_to_binary(io_lib:format("S ~b ~b ~b ~s", [N, Batch, Size, node()])),
    receive <<"R">> -> ok after Timeout -> throw(no_ready) end,
    Data = binary:copy(<<"D">>, Size),
    T0 = now_ns(),
    Sent = fill(Sink, Data, 0, 0, N, Batch, Window),
    Deadline = erlang:monotonic_time(millisecond) + Timeout,
    tput_wait(Sink, Data, Sent, N, Batch, Window, Deadline, T0).

tput_wait(Sink, Data, Sent, N, Batch, Window, Deadline, T0) ->
    Left = max(0, Deadline - erlang:monotonic_time(millisecond)),
    receive
        <<"A", C/binary>> ->
            case binary_to_integer(C) of
                N ->
                    Ns = now_ns() - T0,
                    io_lib:format("ok msgs=~b seconds=~.6f msgs_per_s=~.1f", [N, Ns / 1.0e9, N * 1.0e9 / Ns]);
                Acked ->
                    Sent1 = fill(Sink, Data, Sent, Acked, N, Batch, Window),
                    tput_wait(Sink, Data, Sent1, N, Batch, Window, Deadline, T0)
            end;
        <<"X", C/binary>> ->
            io_lib:format("error sink saw a message of another size after ~s", [C])
    after Left ->
        io_lib:format("error timeout sent=~b", [Sent])
    end.

%% Send batches while fewer than WINDOW batches are unacked.
fill(Sink, Data, Sent, Acked, N, Batch, Window) when Sent < N, Sent - Acked < Window * Batch ->
    K = min(Batch, N - Sent),
    send_n(Sink, Data, K),
    fill(Sink, Data, Sent + K, Acked, N, Batch, Window);
fill(_, _, Sent, _, _, _, _) ->
    Sent.

send_n(_, _, 0) -> ok;
send_n(Sink, Data, K) -> Sink ! Data, send_n(Sink, Data, K - 1).

sink_idle() ->
    receive
        <<"S ", Args/binary>> -> sink_start(Args);
        _ -> sink_idle()
    end.

sink_start(Args) ->
    [N, Batch, Size, Driver] = binary:split(Args, <<" ">>, [global]),
    Ctl = {dist_ctl, binary_to_atom(Driver)},
    Ctl ! <<"R">>,
    sink(0, binary_to_integer(N), binary_to_integer(Batch), binary_to_integer(Size), Ctl).

sink(N, N, _, _, _) ->
    sink_idle();
sink(Count, N, Batch, Size, Ctl) ->
    receive
        <<"D", _/binary>> = Data when byte_size(Data) =:= Size ->
            C = Count + 1,
            if C rem Batch =:= 0; C =:= N -> Ctl ! <<"A", (integer_to_binary(C))/binary>>;
               true -> ok
            end,
            sink(C, N, Batch, Size, Ctl);
        <<"S ", Args/binary>> ->
            sink_start(Args);
        _ ->
            Ctl ! <<"X", (integer_to_binary(Count))/binary>>,
            sink(Count, N, Batch, Size, Ctl)
    end.

echo(Ctl) ->
    receive
        <<"H ", Driver/binary>> ->
            Ctl1 = {dist_ctl, binary_to_atom(Driver)},
            Ctl1 ! <<"H">>,
            echo(Ctl1);
        Bin when Ctl =/= undefined ->
            Ctl ! Bin,
            echo(Ctl);
        _ ->
            echo(Ctl)
    end.

%% Round trips: one SIZE-byte ping in flight to {dist_echo, Node}; WARMUP of
%% them unmeasured, then COUNT timed one by one.
ping(Node, Count, Warmup, Size, Timeout) ->
    connect(Node),
    flush(),
    Echo = {dist_echo, Node},
    Echo ! <<"H ", (atom_to_binary(node()))/binary>>,
    receive <<"H">> -> ok after Timeout -> throw(no_hello) end,
    Ping = <<"P", (binary:copy(<<0>>, Size - 1))/binary>>,
    _ = [round_trip(Echo, Ping, Timeout) || _ <- lists:seq(1, Warmup)],
    T0 = now_ns(),
    Samples = lists:sort([round_trip(Echo, Ping, Timeout) || _ <- lists:seq(1, Count)]),
    Total = now_ns() - T0,
    Tuple = list_to_tuple(Samples),
    Pct = fun(P) -> element(min(Count, 1 + (Count * P) div 1000), Tuple) / 1000 end,
    io_lib:format("ok rtts=~b mean_us=~.2f p50_us=~.2f p99_us=~.2f max_us=~.2f",
                  [Count, Total / Count / 1000, Pct(500), Pct(990), lists:last(Samples) / 1000]).

round_trip(Echo, Ping, Timeout) ->
    T = now_ns(),
    Echo ! Ping,
    receive <<"P", _/binary>> -> now_ns() - T
    after Timeout -> throw(ping_timeout)
    end.
