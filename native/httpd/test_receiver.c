/*
 * test_receiver: a minimal receiver for mod_reqin_log, for the tests and the
 * benchmark (the product's receiver lives in the Node addon).
 *
 *   test_receiver [-t seqpacket|dgram] [-q] [-r RCVBUF] PATH
 *
 * Listens on PATH (an existing file there is removed; the socket is made
 * mode 0666 so that Apache's children, running as another user, may
 * connect), says "ready" on stderr, and writes each message received as one
 * line on stdout (-q: count only). stdout is flushed whenever no message is
 * waiting, so a reader sees records promptly without a write per record.
 * SIGUSR1 prints "received N" on stderr; SIGTERM or SIGINT prints
 * "received N messages, B bytes, T truncated", removes PATH and exits 0.
 * Plain C11 + POSIX/Linux (signalfd), single thread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CLIENTS 1024
#define MAX_MESSAGE (256 * 1024)

static void usage(void)
{
    fprintf(stderr, "usage: test_receiver [-t seqpacket|dgram] [-q] "
                    "[-r RCVBUF] PATH\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int type = SOCK_SEQPACKET, quiet = 0, rcvbuf = 0, opt;
    while ((opt = getopt(argc, argv, "t:qr:")) != -1) {
        switch (opt) {
        case 't':
            if (strcmp(optarg, "seqpacket") == 0) type = SOCK_SEQPACKET;
            else if (strcmp(optarg, "dgram") == 0) type = SOCK_DGRAM;
            else usage();
            break;
        case 'q': quiet = 1; break;
        case 'r': rcvbuf = atoi(optarg); break;
        default: usage();
        }
    }
    if (optind != argc - 1) usage();
    const char *path = argv[optind];

    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "test_receiver: path too long: %s\n", path);
        return 2;
    }
    strcpy(addr.sun_path, path);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

    int lfd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (lfd < 0 || sfd < 0) {
        perror("test_receiver: socket");
        return 1;
    }
    if (rcvbuf > 0) {
        setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    unlink(path);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        perror("test_receiver: bind");
        return 1;
    }
    chmod(path, 0666);
    if (type == SOCK_SEQPACKET && listen(lfd, 512) != 0) {
        perror("test_receiver: listen");
        return 1;
    }

    static struct pollfd fds[MAX_CLIENTS + 2];
    static char buf[MAX_MESSAGE + 1];
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    int nfds = 2;
    fds[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
    fds[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
    uint64_t messages = 0, bytes = 0, truncated = 0;
    int pending_flush = 0;

    fprintf(stderr, "ready\n");
    for (;;) {
        int timeout = pending_flush ? 0 : -1;
        int n = poll(fds, (nfds_t)nfds, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("test_receiver: poll");
            return 1;
        }
        if (n == 0) {
            fflush(stdout);
            pending_flush = 0;
            continue;
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                fflush(stdout);
                if (si.ssi_signo == SIGUSR1) {
                    fprintf(stderr, "received %llu\n", (unsigned long long)messages);
                }
                else {
                    fprintf(stderr, "received %llu messages, %llu bytes, %llu truncated\n",
                            (unsigned long long)messages, (unsigned long long)bytes,
                            (unsigned long long)truncated);
                    unlink(path);
                    return 0;
                }
            }
        }
        if (type == SOCK_SEQPACKET && (fds[1].revents & POLLIN)) {
            int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (cfd >= 0) {
                if (nfds < MAX_CLIENTS + 2) {
                    fds[nfds++] = (struct pollfd){ .fd = cfd, .events = POLLIN };
                }
                else {
                    close(cfd);
                }
            }
        }
        for (int i = type == SOCK_SEQPACKET ? 2 : 1; i < nfds; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            /* drain what is there, a bounded number of messages per turn */
            for (int k = 0; k < 256; k++) {
                ssize_t len = recv(fds[i].fd, buf, MAX_MESSAGE + 1,
                                   MSG_DONTWAIT | MSG_TRUNC);
                if (len < 0) {
                    if (errno == EINTR) continue;
                    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                    len = 0;   /* error: treat as closed */
                }
                if (len == 0 && type == SOCK_SEQPACKET) {
                    close(fds[i].fd);
                    fds[i] = fds[--nfds];
                    i--;
                    break;
                }
                if (len > MAX_MESSAGE) {
                    truncated++;
                    len = MAX_MESSAGE;
                }
                messages++;
                bytes += (uint64_t)len;
                if (!quiet) {
                    fwrite(buf, 1, (size_t)len, stdout);
                    fputc('\n', stdout);
                    pending_flush = 1;
                }
            }
        }
    }
}
