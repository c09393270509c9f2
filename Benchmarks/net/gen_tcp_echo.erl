%% gen_tcp_echo: the Erlang peer of the echo benchmark, the textbook
%% gen_tcp echo server.
%%
%%     erlc -o build gen_tcp_echo.erl
%%     erl -noshell -pa build -run gen_tcp_echo main [PORT]    (0 or nothing: a free port)
%%
%% Binary mode, {packet, raw}, nodelay; one acceptor (the process erl starts)
%% spawns a process per connection and hands it the socket with
%% controlling_process; that process echoes with {active, once}, re-armed
%% after each message, so a fast client cannot flood its mailbox. Listens on
%% 127.0.0.1 only and prints "listening PORT" once it accepts. Emulator
%% flags (+S, +sbwt ...) can be given through ERL_FLAGS.
-module(gen_tcp_echo).
-export([main/0, main/1]).

main() -> main([]).

main(Args) ->
    Port = case Args of [] -> 0; [P] -> list_to_integer(P) end,
    %% backlog: the default (5) would drop SYNs when 100 clients connect at
    %% once. buffer: the driver reads at most this much into one message;
    %% the default, 1460 bytes, cuts a 16 KiB request into 12 messages and 12
    %% sends, where the other servers read 64 KiB at a time.
    {ok, Listen} = gen_tcp:listen(Port, [binary, {packet, raw}, {active, false},
                                         {nodelay, true}, {reuseaddr, true},
                                         {buffer, 65536}, {ip, {127, 0, 0, 1}},
                                         {backlog, 1024}]),
    {ok, Bound} = inet:port(Listen),
    io:format("listening ~b~n", [Bound]),
    accept(Listen).

accept(Listen) ->
    {ok, Socket} = gen_tcp:accept(Listen),
    Pid = spawn(fun() -> receive {go, S} -> echo(S) end end),
    %% The new process may use the socket only once it owns it: hence `go`.
    ok = gen_tcp:controlling_process(Socket, Pid),
    Pid ! {go, Socket},
    accept(Listen).

echo(Socket) ->
    case inet:setopts(Socket, [{active, once}]) of
        ok -> ok;
        {error, _} -> gen_tcp:close(Socket), exit(normal)    % the client is gone
    end,
    receive
        {tcp, Socket, Data} ->
            case gen_tcp:send(Socket, Data) of
                ok -> echo(Socket);
                {error, _} -> gen_tcp:close(Socket)
            end;
        {tcp_closed, Socket} -> ok;
        {tcp_error, Socket, _} -> gen_tcp:close(Socket)
    end.
