/*
 * test_receiver: a minimal receiver for mod_reqin_log, for the tests and the
 * benchmark (the product's receiver lives in the Node addon).
 *
 *   test_receiver [-t seqpacket|dgram] [-q] [-r RCVBUF] [-n NAP_US] PATH
 *
 * Listens on PATH (an existing file there is removed; the socket is made
 * mode 0666 so that Apache's children, running as another user, may
 * connect), says "ready" on stderr, and writes the records on stdout, one
 * per line (-q: count only). A message holds one or more records, each
 * ending in '\n' (mod_reqin_log batches them); a message without a final
 * '\n' counts as one record and gets one. stdout is flushed whenever no message is
 * waiting, so a reader sees records promptly without a write per record.
 * Messages are drained in batches (recvmmsg), and after a round that found
 * any, the receiver naps NAP_US microseconds (default 1000; 0: never) so
 * that records accumulate in the senders' socket buffers and one wakeup
 * serves many: at 20k records/s that is ~20 records per wakeup instead of
 * one, which matters when the receiver shares CPUs with Apache. The senders'
 * buffers (ReqinLogSendBuffer) hold far more than a nap's worth.
 * SIGUSR1 prints "received N" on stderr; SIGTERM or SIGINT prints
 * "received N records, B bytes, T truncated", removes PATH and exits 0.
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
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 1024
#define MAX_MESSAGE (64 * 1024)
#define BATCH 64

static void usage(void)
{
    fprintf(stderr, "usage: test_receiver [-t seqpacket|dgram] [-q] "
                    "[-r RCVBUF] [-n NAP_US] PATH\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int type = SOCK_SEQPACKET, quiet = 0, rcvbuf = 0, nap_us = 1000, opt;
    while ((opt = getopt(argc, argv, "t:qr:n:")) != -1) {
        switch (opt) {
        case 't':
            if (strcmp(optarg, "seqpacket") == 0) type = SOCK_SEQPACKET;
            else if (strcmp(optarg, "dgram") == 0) type = SOCK_DGRAM;
            else usage();
            break;
        case 'q': quiet = 1; break;
        case 'r': rcvbuf = atoi(optarg); break;
        case 'n': nap_us = atoi(optarg); break;
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
    static char bufs[BATCH][MAX_MESSAGE + 1];
    static struct mmsghdr msgs[BATCH];
    static struct iovec iovs[BATCH];
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    for (int k = 0; k < BATCH; k++) {
        iovs[k] = (struct iovec){ .iov_base = bufs[k], .iov_len = MAX_MESSAGE + 1 };
    }
    int nfds = 2;
    fds[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
    fds[1] = (struct pollfd){ .fd = lfd, .events = POLLIN };
    uint64_t records = 0, bytes = 0, truncated = 0;
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
                    fprintf(stderr, "received %llu\n", (unsigned long long)records);
                }
                else {
                    fprintf(stderr, "received %llu records, %llu bytes, %llu truncated\n",
                            (unsigned long long)records, (unsigned long long)bytes,
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
        int got_any = 0;
        for (int i = type == SOCK_SEQPACKET ? 2 : 1; i < nfds; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            /* drain what is there, a bounded number of batches per turn */
            for (int round = 0; round < 16; round++) {
                for (int k = 0; k < BATCH; k++) {
                    memset(&msgs[k].msg_hdr, 0, sizeof(msgs[k].msg_hdr));
                    msgs[k].msg_hdr.msg_iov = &iovs[k];
                    msgs[k].msg_hdr.msg_iovlen = 1;
                }
                int got = recvmmsg(fds[i].fd, msgs, BATCH, MSG_DONTWAIT, NULL);
                if (got < 0 && errno == EINTR) continue;
                if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                int closed = got <= 0;   /* 0 or an error: the sender is gone */
                for (int k = 0; k < got; k++) {
                    size_t len = msgs[k].msg_len;
                    if (len == 0 && type == SOCK_SEQPACKET) {
                        closed = 1;
                        break;
                    }
                    if (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
                        truncated++;
                    }
                    if (len > MAX_MESSAGE) len = MAX_MESSAGE;
                    const char *p = bufs[k], *end = bufs[k] + len;
                    while (p < end) {
                        const char *nl = memchr(p, '\n', (size_t)(end - p));
                        records++;
                        p = nl ? nl + 1 : end;
                    }
                    bytes += len;
                    got_any = 1;
                    if (!quiet) {
                        fwrite(bufs[k], 1, len, stdout);
                        if (bufs[k][len - 1] != '\n') fputc('\n', stdout);
                        pending_flush = 1;
                    }
                }
                if (closed && type == SOCK_SEQPACKET) {
                    close(fds[i].fd);
                    fds[i] = fds[--nfds];
                    i--;
                    break;
                }
                if (got < BATCH) break;
            }
        }
        if (got_any && nap_us > 0) {
            if (pending_flush) {
                fflush(stdout);
                pending_flush = 0;
            }
            struct timespec ts = { .tv_sec = nap_us / 1000000,
                                   .tv_nsec = (long)(nap_us % 1000000) * 1000 };
            nanosleep(&ts, NULL);
        }
    }
}
