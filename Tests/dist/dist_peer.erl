%% The BEAM side of Swerl's distribution tests (Tests/c/test_dist.c): a node
%% runs main/0, which registers `ctl` and runs the scenarios the C test asks
%% for. A command is a binary, "Scenario SwerlNode Arg...": the scenario does
%% its part against that node, checks what it sees, and tells the node's
%% `probe` process <<"ok">> or <<"fail: ...">>. Scenarios that need the C
%% side to act in between talk to `probe` too (each step is named).
-module(dist_peer).
-behaviour(supervisor).
-export([main/0, init/1, start_worker/1]).

main() ->
    register(ctl, self()),
    io:format("ready~n"),
    loop().

loop() ->
    receive
        Command when is_binary(Command) ->
            [Name, NodeText | Args] = binary:split(Command, <<" ">>, [global]),
            Node = binary_to_atom(NodeText),
            spawn(fun() ->
                Result = try run(Name, Node, Args) of
                             ok -> <<"ok">>;
                             Other -> iolist_to_binary(io_lib:format("fail: ~0p", [Other]))
                         catch Class:Reason:Stack ->
                             iolist_to_binary(io_lib:format("fail: ~0p:~0p ~0p", [Class, Reason, Stack]))
                         end,
                {probe, Node} ! <<Name/binary, " ", Result/binary>>
            end),
            loop();
        _ ->
            loop()
    end.

%% Waits for a message matching Pattern, at most 10 s.
-define(WAIT(Pattern, Result), receive Pattern -> Result after 10000 -> {timeout, ??Pattern} end).

tell(Node, Text) -> {probe, Node} ! Text.

%% Polls until F() is true, at most 10 s.
until(F) -> until(F, 1000).
until(_, 0) -> timeout;
until(F, N) -> case F() of true -> ok; false -> timer:sleep(10), until(F, N - 1) end.

run(<<"ping">>, Node, []) ->
    pong = net_adm:ping(Node),
    true = lists:member(Node, nodes(hidden)),
    ok;

%% 200 binaries, then a tuple, to `echo`, which sends each back as bytes:
%% the binaries in order, the tuple as its term's bytes.
run(<<"echo">>, Node, []) ->
    [{echo, Node} ! <<I:32>> || I <- lists:seq(1, 200)],
    Got = [?WAIT(<<I:32>>, I) || I <- lists:seq(1, 200)],
    Got = lists:seq(1, 200),
    Me = self(),
    {echo, Node} ! {Me, hello, [1, 2.5, "text", #{a => <<"b">>}]},
    Back = ?WAIT(Bin when is_binary(Bin), Bin),
    {Me, hello, [1, 2.5, "text", #{a := <<"b">>}]} = binary_to_term(Back),
    ok;

run(<<"call">>, Node, []) ->
    <<"value:get">> = gen_server:call({kv, Node}, <<"get">>),
    {ok, key} = gen_server:call({kv, Node}, {get, key}),
    {'EXIT', {timeout, _}} = (catch gen_server:call({kv, Node}, <<"slow">>, 300)),
    {'EXIT', {noproc, _}} = (catch gen_server:call({nosuch, Node}, <<"x">>, 2000)),
    ok;

%% A server here that the C side calls with swerl_call: "pong:" ++ request;
%% `die` kills it before it answers; `slow` is never answered. A binary
%% sent to it is checked and said ("binary Size ok").
run(<<"serve">>, Node, []) ->
    Serve = fun Serve() ->
        receive
            {'$gen_call', _From, <<"die">>} -> exit(crashed);
            {'$gen_call', _From, <<"slow">>} -> Serve();
            {'$gen_call', From, Request} when is_binary(Request) ->
                gen_server:reply(From, <<"pong:", Request/binary>>), Serve();
            {'$gen_call', From, Request} ->
                gen_server:reply(From, {echo, Request}), Serve();
            %% A shared binary sent from Swerl: "ab" repeated, as a binary.
            Bin when is_binary(Bin) ->
                Expected = binary:copy(<<"ab">>, byte_size(Bin) div 2),
                Verdict = case Bin of Expected -> <<"ok">>; _ -> <<"wrong bytes">> end,
                tell(Node, <<"binary ", (integer_to_binary(byte_size(Bin)))/binary, " ", Verdict/binary>>),
                Serve()
        end
    end,
    spawn(fun() -> tell(Node, <<"server">>), Serve() end),
    ok;

%% An Erlang process asks the probe to link to it, waits for the link, and
%% exits with the reason given (after the C side says go).
run(<<"linkexit">>, Node, [ReasonText]) ->
    Reason = case ReasonText of
                 <<"boom">> -> boom;
                 <<"user">> -> {swerl_reason, 300, <<"x">>};
                 <<"normal">> -> normal
             end,
    Ctl = self(),
    spawn(fun() ->
        tell(Node, <<"link me">>),
        ok = until(fun() -> linked_to(Node) end),
        Ctl ! linked,
        receive <<"die">> -> exit(Reason) end
    end),
    ok = ?WAIT(linked, ok),
    tell(Node, <<"linked">>),
    ok;

%% The probe links to this process, then the C side makes its `victim` fail:
%% the exit signal comes here with the reason as an Erlang term.
run(<<"swerldies">>, Node, []) ->
    process_flag(trap_exit, true),
    tell(Node, <<"victim link me">>),
    ok = until(fun() -> linked_to(Node) end),
    tell(Node, <<"crash victim">>),
    ?WAIT({'EXIT', _, {error, <<"bad">>}}, ok);

%% Monitors both ways: this node monitors {victim, Node}, which the C side
%% kills; the probe monitors a process here, which then exits normally.
run(<<"monitor">>, Node, []) ->
    Ref = erlang:monitor(process, {victim, Node}),
    tell(Node, <<"kill victim">>),
    ok = ?WAIT({'DOWN', Ref, process, {victim, Node}, killed}, ok),
    NoRef = erlang:monitor(process, {nosuch, Node}),
    ok = ?WAIT({'DOWN', NoRef, process, {nosuch, Node}, noproc}, ok),
    Ctl = self(),
    spawn(fun() ->
        tell(Node, <<"monitor me">>),
        ok = until(fun() -> {monitored_by, M} = process_info(self(), monitored_by), M =/= [] end),
        Ctl ! monitored,
        receive <<"die">> -> ok end
    end),
    ok = ?WAIT(monitored, ok),
    tell(Node, <<"monitored">>),
    ok;

%% The probe links to and monitors a process here; then this node drops the
%% connection: both come back as noconnection, once.
run(<<"disconnect">>, Node, []) ->
    Ctl = self(),
    Pid = spawn(fun() ->
        tell(Node, <<"link me">>),
        tell(Node, <<"monitor me">>),
        ok = until(fun() -> linked_to(Node) end),
        ok = until(fun() -> {monitored_by, M} = process_info(self(), monitored_by), M =/= [] end),
        Ctl ! ready,
        receive never -> ok end
    end),
    ok = ?WAIT(ready, ok),
    true = erlang:disconnect_node(Node),
    exit(Pid, kill),
    ok;

%% A wrong cookie: this node's ping is refused.
run(<<"badcookie">>, Node, []) ->
    Right = erlang:get_cookie(),
    true = erlang:disconnect_node(Node),
    true = erlang:set_cookie(Node, wrong_cookie),
    pang = net_adm:ping(Node),
    true = erlang:set_cookie(Node, Right),
    pong = net_adm:ping(Node),
    ok;

%% Handshakes by hand over gen_tcp: a wrong digest, a frame cut in half,
%% and a frame that is not one: each closes that connection only.
run(<<"fake">>, Node, [PortText]) ->
    Port = binary_to_integer(PortText),
    Cookie = atom_to_list(erlang:get_cookie()),
    {error, closed} = fake_handshake(Port, Node, "not" ++ Cookie, fun(_) -> ok end),
    {ok, S1} = fake_handshake(Port, Node, Cookie, fun(S) -> gen_tcp:send(S, <<0, 0, 0, 100, 112, 131>>) end),
    gen_tcp:close(S1),
    {ok, S2} = fake_handshake(Port, Node, Cookie, fun(S) -> gen_tcp:send(S, <<0, 0, 0, 3, 1, 2, 3>>) end),
    {error, closed} = gen_tcp:recv(S2, 0, 5000),
    {ok, S3} = fake_handshake(Port, Node, Cookie, fun(S) -> gen_tcp:send(S, <<0, 0, 0, 8, 112, 131, 104, 1, 97, 99, 97, 1>>) end),
    {error, closed} = gen_tcp:recv(S3, 0, 5000),
    pong = net_adm:ping(Node),
    ok;

%% A binary larger than the Swerl node's max_frame: that node closes the
%% connection (and says why in its log); the next message connects again.
run(<<"oversized">>, Node, []) ->
    {echo, Node} ! <<0:(64 * 1024 * 8)>>,
    ok = until(fun() -> not lists:member(Node, nodes(hidden)) end),
    pong = net_adm:ping(Node),
    ok;

%% 2,000 binaries of 10 KiB to a slow process of a node whose memory
%% ceiling is far below 20 MB: they all arrive, in order (the node stops
%% reading while the ceiling is reached; TCP pushes back on this one).
run(<<"flood">>, Node, []) ->
    [{slow, Node} ! <<I:32, 0:(10236 * 8)>> || I <- lists:seq(1, 2000)],
    ok;

%% A process here asks the probe to link to and monitor it, says "held" once
%% both are in place, and waits (for its node to be killed or stopped).
run(<<"hold">>, Node, []) ->
    Ctl = self(),
    spawn(fun() ->
        tell(Node, <<"link me">>),
        tell(Node, <<"monitor me">>),
        ok = until(fun() -> linked_to(Node) end),
        ok = until(fun() -> {monitored_by, M} = process_info(self(), monitored_by), M =/= [] end),
        Ctl ! held,
        receive never -> ok end
    end),
    ok = ?WAIT(held, ok),
    tell(Node, <<"held">>),
    ok;

%% Swerl's side acts on a process here: exit/2 with a user reason (trapped
%% here), then link and unlink, after which this process's exit is not seen
%% there; the probe also monitors `target` here by name.
run(<<"signals">>, Node, []) ->
    process_flag(trap_exit, true),
    register(target, self()),
    tell(Node, <<"exit me">>),
    {swerl_reason, 301, <<"from swerl">>} = ?WAIT({'EXIT', _, Reason}, Reason),
    tell(Node, <<"link me">>),
    ok = until(fun() -> linked_to(Node) end),
    tell(Node, <<"unlink me">>),
    ok = until(fun() -> not linked_to(Node) end),
    tell(Node, <<"monitor target">>),
    ok = until(fun() -> {monitored_by, M} = process_info(self(), monitored_by), M =/= [] end),
    unregister(target),
    ok;

%% A process here that Swerl's supervised `sworker` links to; it dies of
%% <<"die">>, and with it the worker.
run(<<"victimfor">>, Node, []) ->
    spawn(fun() ->
        {sworker, Node} ! <<"link me">>,
        ok = until(fun() -> linked_to(Node) end),
        tell(Node, <<"vheld">>),
        receive <<"die">> -> exit(boom) end
    end),
    ok;

%% A supervisor here whose worker links to the Swerl `victim`, which the C
%% side then crashes: the worker dies of it and is restarted.
run(<<"supervise">>, Node, []) ->
    {ok, Sup} = supervisor:start_link(?MODULE, Node),
    unlink(Sup),
    [{worker, First, _, _}] = supervisor:which_children(Sup),
    ok = until(fun() -> linked_to_pid(First, Node) end),
    tell(Node, <<"crash victim">>),
    ok = until(fun() ->
        case supervisor:which_children(Sup) of
            [{worker, P, _, _}] when is_pid(P), P =/= First -> true;
            _ -> false
        end
    end),
    exit(Sup, shutdown),
    ok.

%% A version-6 handshake as a node named fake_N@127.0.0.1; with the right
%% cookie {ok, Socket} after `After(Socket)` (4-byte frames from there).
fake_handshake(Port, Node, Cookie, After) ->
    {ok, S} = gen_tcp:connect({127, 0, 0, 1}, Port, [binary, {packet, 2}, {active, false}]),
    Name = list_to_binary("fake_" ++ integer_to_list(erlang:unique_integer([positive])) ++ "@127.0.0.1"),
    Flags = 16#1 bor 16#4 bor 16#100 bor 16#800 bor 16#10000 bor 16#20000 bor 16#40000 bor 16#80000 bor 16#400000 bor 16#1000000 bor 16#2000000,
    ok = gen_tcp:send(S, <<$N, Flags:64, 1:32, (byte_size(Name)):16, Name/binary>>),
    {ok, <<$s, "ok">>} = gen_tcp:recv(S, 0, 5000),
    {ok, <<$N, _PeerFlags:64, Challenge:32, _Creation:32, NameLen:16, PeerName:NameLen/binary>>} = gen_tcp:recv(S, 0, 5000),
    PeerName = atom_to_binary(Node),
    Mine = 12345,
    ok = gen_tcp:send(S, <<$r, Mine:32, (erlang:md5(Cookie ++ integer_to_list(Challenge)))/binary>>),
    case gen_tcp:recv(S, 0, 5000) of
        {ok, <<$a, Digest:16/binary>>} ->
            Digest = erlang:md5(Cookie ++ integer_to_list(Mine)),
            ok = inet:setopts(S, [{packet, 4}]),
            After(S),
            {ok, S};
        {error, closed} ->
            {error, closed}
    end.

linked_to(Node) ->
    {links, Links} = process_info(self(), links),
    lists:any(fun(P) -> is_pid(P) andalso node(P) =:= Node end, Links).

linked_to_pid(Pid, Node) ->
    {links, Links} = process_info(Pid, links),
    lists:any(fun(P) -> is_pid(P) andalso node(P) =:= Node end, Links).

%% The supervisor of run(<<"supervise">>): one worker, restarted at most 5
%% times in 10 s.
init(Node) ->
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10},
          [#{id => worker, start => {?MODULE, start_worker, [Node]}}]}}.

%% The worker asks the Swerl `victim` (through the probe) to link to it.
start_worker(Node) ->
    Pid = spawn_link(fun() -> tell(Node, <<"victim link me">>), receive never -> ok end end),
    {ok, Pid}.
