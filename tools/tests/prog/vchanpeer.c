// SPDX-License-Identifier: GPL-2.0
/*
 * vchanpeer: one end of a byte stream through vchan-socket-proxy.
 *
 *   vchanpeer listen|connect SOCKET -n BYTES -s SEND_SEED -r RECV_SEED
 *             [-K BYTES -k PIDFILE] [-w]
 *
 * Listens on (and accepts one connection) or connects to the UNIX socket
 * SOCKET, then at the same time sends BYTES bytes of the stream SEND_SEED
 * and receives BYTES bytes, checking every one against the stream
 * RECV_SEED. Once all has arrived it sends one more byte and waits for the
 * other end's extra byte (or end of stream), so neither end closes while its
 * data is still on the way. With -w it then waits for the other end to close
 * first (vchan-socket-proxy's server takes the end of its socket for the end
 * of the session and reconnects at once, while the client still holds the
 * vchan). listen gives up after 120 s without a connection. With -K, after receiving that many bytes it
 * sends SIGKILL to the process whose id PIDFILE holds and reads on until the
 * stream ends. Prints one line:
 *
 *   vchanpeer sent S received R match ok|bad@OFFSET [killed@K] MS ms
 *
 * After a mismatch a second line shows what arrived against what was sent
 * from that offset on, and whether the rest is the stream shifted (bytes
 * lost or repeated on the way) or overwritten.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct stream {
	uint64_t s;
	unsigned char buf[8];
	int have;
};

static unsigned char next_byte(struct stream *st)
{
	if (!st->have) {
		st->s ^= st->s << 13;
		st->s ^= st->s >> 7;
		st->s ^= st->s << 17;
		memcpy(st->buf, &st->s, 8);
		st->have = 8;
	}
	return st->buf[8 - st->have--];
}

static long long parse_size(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 0);

	if (*end == 'K')
		v <<= 10;
	else if (*end == 'M')
		v <<= 20;
	return v;
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

#define PROBE 64
#define HIST 65536

/* The last HIST bytes of each stream, to tell where stray bytes came from. */
static unsigned char hist[2][HIST];
static long long hist_n[2];

static unsigned char next_logged(struct stream *st, int which)
{
	unsigned char b = next_byte(st);

	hist[which][hist_n[which]++ % HIST] = b;
	return b;
}

/* Where in the last HIST bytes of stream WHICH the N bytes P appear. */
static long long hist_find(int which, const unsigned char *p, int n)
{
	long long end = hist_n[which], start = end > HIST ? end - HIST : 0;

	for (long long i = end - n; i >= start; i--) {
		int j = 0;

		while (j < n && hist[which][(i + j) % HIST] == p[j])
			j++;
		if (j == n)
			return i;
	}
	return -1;
}

/* What arrived from the first bad byte on, against the stream. */
struct probe {
	unsigned char want[2 * PROBE], got[PROBE];
	int n;
	long long here, sent;	/* where got[0..7] appear in each stream */
};

static void probe_start(struct probe *p, struct stream st)
{
	for (int i = 0; i < 2 * PROBE; i++)
		p->want[i] = next_byte(&st);
}

static void probe_report(const struct probe *p, long long bad_at)
{
	int shift = 0, found = 0, nbad = 0, last = -1;

	for (int k = -PROBE / 2; k <= PROBE / 2 && !found; k++) {
		int ok = 1;

		for (int j = PROBE / 2; j < p->n && ok; j++)
			if (j + k >= 0 && p->got[j] != p->want[j + k])
				ok = 0;
		if (ok) {
			shift = k;
			found = 1;
		}
	}
	printf("vchanpeer probe got ");
	for (int i = 0; i < 16 && i < p->n; i++)
		printf("%02x", p->got[i]);
	printf(" want ");
	for (int i = 0; i < 16; i++)
		printf("%02x", p->want[i]);
	for (int i = 0; i < p->n; i++)
		if (p->got[i] != p->want[i]) {
			nbad++;
			last = i;
		}
	printf(" differ %d last +%d", nbad, last);
	if (p->here >= 0)
		printf(" (this stream at %+lld)", p->here - bad_at);
	if (p->sent >= 0)
		printf(" (sent stream at byte %lld)", p->sent);
	if (!found)
		printf(" overwritten\n");
	else if (shift)
		printf(" shifted %+d (%s)\n", shift, shift > 0 ? "bytes lost" : "bytes repeated");
	else
		printf(" same stream after %d bytes\n", PROBE / 2);
}

int main(int argc, char **argv)
{
	struct probe pr = { .n = -1, .here = -1, .sent = -1 };
	long long n = 0, kill_at = -1, sent = 0, got = 0, bad_at = -1, killed = -1;
	struct stream tx = { 1 }, rx = { 2 };
	const char *pidfile = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char out[65536], in[65536];
	int o, fd, acked = 0, ack_sent = 0, eof = 0, wait_close = 0;
	int out_len = 0, out_off = 0;
	double t0;

	if (argc < 3) {
		fprintf(stderr, "usage: vchanpeer listen|connect SOCKET -n BYTES -s SEED -r SEED\n");
		return 2;
	}
	optind = 3;
	while ((o = getopt(argc, argv, "n:s:r:K:k:w")) != -1) {
		switch (o) {
		case 'n':
			n = parse_size(optarg);
			break;
		case 's':
			tx.s = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'r':
			rx.s = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'K':
			kill_at = parse_size(optarg);
			break;
		case 'w':
			wait_close = 1;
			break;
		case 'k':
			pidfile = optarg;
			break;
		default:
			return 2;
		}
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[2]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (!strcmp(argv[1], "listen")) {
		struct pollfd lp = { .fd = fd, .events = POLLIN };
		int l = fd;

		unlink(sa.sun_path);
		if (bind(l, (void *)&sa, sizeof(sa)) || listen(l, 1)) {
			perror("vchanpeer: listen");
			return 1;
		}
		if (poll(&lp, 1, 120000) <= 0) {
			fprintf(stderr, "vchanpeer: nobody connected\n");
			return 1;
		}
		fd = accept(l, NULL, NULL);
		close(l);
	} else if (connect(fd, (void *)&sa, sizeof(sa))) {
		perror("vchanpeer: connect");
		return 1;
	}
	if (fd < 0) {
		perror("vchanpeer");
		return 1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	t0 = now_ms();
	while (!eof && !(got >= n && acked && ack_sent && !wait_close)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (out_off < out_len || sent < n || (got >= n && !ack_sent))
			p.events |= POLLOUT;
		if (poll(&p, 1, 120000) <= 0) {
			fprintf(stderr, "vchanpeer: stalled\n");
			break;
		}
		if (p.revents & POLLOUT) {
			if (out_off == out_len && sent < n) {
				out_len = n - sent < (long long)sizeof(out) ? n - sent : sizeof(out);
				for (int i = 0; i < out_len; i++)
					out[i] = next_logged(&tx, 0);
				out_off = 0;
				sent += out_len;
			} else if (out_off == out_len && got >= n && !ack_sent) {
				out[0] = 0xac;
				out_len = 1;
				out_off = 0;
				ack_sent = 1;
			}
			r = write(fd, out + out_off, out_len - out_off);
			if (r > 0)
				out_off += r;
			else if (r < 0 && errno != EAGAIN)
				eof = 1;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = read(fd, in, sizeof(in));
			if (r <= 0) {
				if (r == 0 || errno != EAGAIN)
					eof = 1;
				continue;
			}
			for (ssize_t i = 0; i < r; i++) {
				if (got >= n) {
					acked = 1;
					continue;
				}
				struct stream before = rx;

				if (in[i] != next_logged(&rx, 1) && bad_at < 0) {
					bad_at = got;
					probe_start(&pr, before);
					pr.n = 0;
				}
				if (pr.n >= 0 && pr.n < PROBE) {
					pr.got[pr.n++] = in[i];
					if (pr.n == 8) {
						pr.here = hist_find(1, pr.got, 8);
						pr.sent = hist_find(0, pr.got, 8);
					}
				}
				got++;
			}
			if (kill_at >= 0 && killed < 0 && got >= kill_at && pidfile) {
				FILE *f = fopen(pidfile, "r");
				int pid = 0;

				if (f && fscanf(f, "%d", &pid) == 1 && pid > 0)
					kill(pid, SIGKILL);
				if (f)
					fclose(f);
				killed = got;
			}
		}
	}
	/* Unsent data still counts as not sent. */
	sent -= out_len - out_off;
	printf("vchanpeer sent %lld received %lld match ", sent < 0 ? 0 : sent, got);
	if (bad_at >= 0)
		printf("bad@%lld", bad_at);
	else
		printf("ok");
	if (killed >= 0)
		printf(" killed@%lld", killed);
	printf(" %.0f ms\n", now_ms() - t0);
	if (pr.n > 0)
		probe_report(&pr, bad_at);
	close(fd);
	return 0;
}
