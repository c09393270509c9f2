/* socket_check.h — what the socket tests share: a socket's info and port,
 * and a plain blocking loopback client (the other end of a connection). */
#ifndef SWERL_SOCKET_CHECK_H
#define SWERL_SOCKET_CHECK_H

#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

/* A snapshot of socket `s`, which must be open. */
static inline swerl_socket_info check_socket_info(swerl_runtime *rt, swerl_socket s)
{
    swerl_socket_info in;
    memset(&in, 0, sizeof in);
    in.size = sizeof in;
    CHECK_EQ_INT(swerl_socket_info_get(rt, s, &in), 0);
    return in;
}

/* The port of a TCP socket's own address, or -1. */
static inline int check_socket_port(swerl_runtime *rt, swerl_socket s)
{
    swerl_socket_info in = check_socket_info(rt, s);
    const char *colon = strrchr(in.local, ':');
    return colon ? atoi(colon + 1) : -1;
}

/* A blocking connection to 127.0.0.1:port whose receives wait 10 s at most;
   -1 if it was refused. */
static inline int check_loopback_connect(int port)
{
    struct sockaddr_in a;
    struct timeval tv = {10, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

#endif
