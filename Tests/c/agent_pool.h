/*
 * agent_pool.h — the agents of one test section and its runtime: made with
 * mk() / spawn_new(), all freed together by agents_free_all() (which also
 * checks none was left blocked past its limit). Include after agent.h.
 */
#ifndef SWERL_TEST_AGENT_POOL_H
#define SWERL_TEST_AGENT_POOL_H

#include "agent.h"

#define MAX_AGENTS 256
static agent *g_agents[MAX_AGENTS];
static int g_nagents;
static swerl_runtime *g_rt;   /* the current section's runtime */

/* A new agent (not spawned), freed by agents_free_all. */
static inline agent *mk(const char *label)
{
    agent *a = agent_new(g_rt, label);
    if (g_nagents >= MAX_AGENTS) abort();
    g_agents[g_nagents++] = a;
    return a;
}

/* Spawn it from main and wait for its init. */
static inline agent *up_opts(agent *a, const swerl_spawn_opts *o)
{
    check_event e;
    if (CHECK_EQ_INT(agent_spawn(a, o), 0)) agent_take(a, em(EV_INIT, -1), &e);
    return a;
}

static inline agent *spawn_new(const char *label) { return up_opts(mk(label), NULL); }

/* After the runtime is freed: every agent, checked and released. */
static inline void agents_free_all(void)
{
    int i;
    for (i = 0; i < g_nagents; i++) {
        CHECK_MSG(AT_LOAD(&g_agents[i]->gate_timeouts) == 0, "agent %s blocked past its limit",
                  g_agents[i]->label);
        agent_free(g_agents[i]);
    }
    g_nagents = 0;
}

#endif
