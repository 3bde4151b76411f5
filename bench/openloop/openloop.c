// openloop: the bench's fixed-arrival-rate load generator (bench/README.md, "The open loop").
//
// Requests fall due at fixed times (start + i / rate). Each is sent on an idle keep-alive connection
// as soon as it is due, and its latency runs from the due time to the end of its answer, so a server
// that stalls is charged for the requests that could not be sent meanwhile (no coordinated omission).
// Requests still unanswered at the end are counted with their age then (a lower bound of their latency).
//
// Why not wrk with a Lua open loop: on the bench's two cores that cost wrk about 25 us of CPU per
// request (Lua callbacks per request, an epoll_ctl pair per request, a table of every answer's
// headers), as much as the HTTP thread of the server under test. Here a request costs one write(),
// its answer one read(), and the wait for the next due time is epoll_pwait2's nanosecond timeout, so
// requests go out when due rather than on a millisecond tick.
//
// Usage: openloop <http://host:port/path> <pool file> <content-encoding or -> <requests/s> <connections> <seconds>
// The pool file holds records `<byte length>\n<bytes>` (bench/bodies.ts); bodies are sent in turn.
// Prints one line `BENCH_RESULT {json}` in the shape of bench/wrk/load.lua's (latencies in microseconds),
// with two more sets of percentiles that split each answered request's latency: due to sent
// (`send_lag_us`, the generator's own lag) and sent to answered (`in_flight_us`, the server's part);
// `connections_exhausted_us` is how long due requests waited with every connection busy.
// `run_queue_wait_us` is how long the generator itself was ready to run but waited for a CPU (-1: unknown).

#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536 /* free space a read may fill */
#define TIMEOUT_US 2000000 /* as wrk's default: an answer later than this is a timeout */

typedef struct {
  char *bytes;
  size_t length;
} request_t;

typedef struct {
  int fd;
  int connected;
  int busy;            /* a request is in flight */
  int idle_slot;       /* its place on the idle stack, -1 when not there */
  int64_t due_us;      /* the in-flight request's due time */
  int64_t sent_us;     /* when its first byte was written */
  const request_t *request;
  size_t written;
  char *in;            /* bytes of the answer read so far */
  size_t in_length, in_capacity;
} connection_t;

static struct {
  int status, connect, read, write, timeout;
} errors;

static void die(const char *what) {
  perror(what);
  exit(2);
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Nanoseconds this process has spent ready to run but waiting for a CPU (the second field of
   /proc/self/schedstat); -1 where the kernel keeps no schedstat. On a loaded two-core machine the
   generator competes with the server for the cores, and this says how much. */
static long long run_queue_wait_ns(void) {
  FILE *file = fopen("/proc/self/schedstat", "r");
  if (!file) return -1;
  unsigned long long on_cpu, waiting;
  int fields = fscanf(file, "%llu %llu", &on_cpu, &waiting);
  fclose(file);
  return fields == 2 ? (long long)waiting : -1;
}

static char *read_file(const char *name, size_t *length) {
  FILE *file = fopen(name, "rb");
  if (!file) die(name);
  size_t capacity = 1 << 20, used = 0;
  char *data = malloc(capacity);
  size_t got;
  while ((got = fread(data + used, 1, capacity - used, file)) > 0) {
    used += got;
    if (used == capacity) data = realloc(data, capacity *= 2);
  }
  fclose(file);
  *length = used;
  return data;
}

/* Every pool body formatted once as a whole request, so sending one is a single write(). */
static request_t *format_requests(const char *pool_file, const char *host, const char *path,
                                  const char *encoding, size_t *count) {
  size_t length;
  char *data = read_file(pool_file, &length);
  size_t capacity = 1024, used = 0, position = 0;
  request_t *requests = malloc(capacity * sizeof *requests);
  while (position < length) {
    char *end;
    unsigned long body_length = strtoul(data + position, &end, 10);
    if (end == data + position || *end != '\n' || end + 1 + body_length > data + length) {
      fprintf(stderr, "openloop: %s is not a pool file (record at byte %zu)\n", pool_file, position);
      exit(2);
    }
    const char *body = end + 1;
    char head[512];
    int head_length = snprintf(head, sizeof head,
                               "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%s%s%s"
                               "X-Request-ID: o%zu\r\nContent-Length: %lu\r\n\r\n",
                               path, host, encoding ? "Content-Encoding: " : "", encoding ? encoding : "",
                               encoding ? "\r\n" : "", used, body_length);
    if (used == capacity) requests = realloc(requests, (capacity *= 2) * sizeof *requests);
    request_t *request = &requests[used++];
    request->length = (size_t)head_length + body_length;
    request->bytes = malloc(request->length);
    memcpy(request->bytes, head, (size_t)head_length);
    memcpy(request->bytes + head_length, body, body_length);
    position = (size_t)(body - data) + body_length;
  }
  free(data);
  if (used == 0) {
    fprintf(stderr, "openloop: no bodies in %s\n", pool_file);
    exit(2);
  }
  *count = used;
  return requests;
}

static int compare_samples(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Durations in microseconds, kept whole for exact percentiles. */
typedef struct {
  uint32_t *values;
  size_t count, capacity;
} samples_t;

/* From due to answer, of all answered (and, at the end, unanswered) requests: the latency reported. */
static samples_t latencies;
/* Its two parts for answered requests: due to sent (the generator's lag, for want of a free connection
   or of a core) and sent to answered (the server's part, and the kernel's). */
static samples_t send_lags, in_flights;

static void record(samples_t *s, int64_t microseconds) {
  if (s->count == s->capacity) {
    s->capacity = s->capacity ? s->capacity * 2 : 1 << 16;
    s->values = realloc(s->values, s->capacity * sizeof *s->values);
  }
  s->values[s->count++] = microseconds < 0 ? 0 : (uint32_t)microseconds;
}

/* The value at percentile p of sorted samples: the ceil(n * p / 100)-th, as load.lua takes it. */
static uint32_t percentile(const samples_t *s, double p) {
  if (s->count == 0) return 0;
  size_t rank = (size_t)((double)s->count * p / 100.0);
  if ((double)rank < (double)s->count * p / 100.0) rank++;
  return s->values[rank > 0 ? rank - 1 : 0];
}

/* Sorts the samples and prints them as a JSON object of percentiles (and the mean, if asked). */
static void print_samples(const char *name, samples_t *s, int with_mean) {
  qsort(s->values, s->count, sizeof *s->values, compare_samples);
  printf("\"%s\":{\"count\":%zu,", name, s->count);
  if (with_mean) {
    double sum = 0;
    for (size_t i = 0; i < s->count; i++) sum += s->values[i];
    printf("\"mean\":%.1f,", s->count ? sum / (double)s->count : 0.0);
  }
  printf("\"max\":%u,\"p50\":%u,\"p90\":%u,\"p99\":%u,\"p99_9\":%u}", s->count ? s->values[s->count - 1] : 0,
         percentile(s, 50), percentile(s, 90), percentile(s, 99), percentile(s, 99.9));
}

/* Every connection busy with a request due since `due`: that began when it fell due or when the last
   free connection was taken, whichever was later (with none free, only an answer wakes the loop, so
   the loop sees it late). */
static void note_exhausted(int64_t *since, int64_t due, int64_t last_sent_us) {
  if (*since < 0) *since = due > last_sent_us ? due : last_sent_us;
}

static int epoll_fd;
static struct addrinfo *server_address;

/* The connections free to send on, most recently freed on top. A connection is on it at most once:
   one closed while idle (the server's idle timeout) is taken off before it is reopened. */
static connection_t **idle;
static int idle_count;

static void push_idle(connection_t *c) {
  c->idle_slot = idle_count;
  idle[idle_count++] = c;
}

static connection_t *pop_idle(void) {
  connection_t *c = idle[--idle_count];
  c->idle_slot = -1;
  return c;
}

static void remove_idle(connection_t *c) {
  if (c->idle_slot < 0) return;
  connection_t *top = idle[--idle_count];
  idle[c->idle_slot] = top;
  top->idle_slot = c->idle_slot;
  c->idle_slot = -1;
}

static void watch(connection_t *c, int op, uint32_t events) {
  struct epoll_event event = {.events = events, .data.ptr = c};
  if (epoll_ctl(epoll_fd, op, c->fd, &event) != 0) die("epoll_ctl");
}

static void open_connection(connection_t *c) {
  c->fd = socket(server_address->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->connected = 0;
  c->busy = 0;
  c->in_length = 0;
  if (connect(c->fd, server_address->ai_addr, server_address->ai_addrlen) != 0 && errno != EINPROGRESS) die("connect");
  watch(c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* Requests due but never answered: lost with a failed connection, or still waiting at the end. */
static long unanswered;

/* A connection's handshake ended: 0 and the connection is ready (reading only), or its error. */
static int finish_connect(connection_t *c) {
  int error = 0;
  socklen_t size = sizeof error;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &size);
  if (error) return error;
  c->connected = 1;
  watch(c, EPOLL_CTL_MOD, EPOLLIN);
  return 0;
}

/* The server closed the connection or it failed: the request in flight is lost (timed until now and
   counted as unanswered), the error counted (unless `counter` is NULL), and a new connection opens in
   its place. */
static void reopen_connection(connection_t *c, int *counter) {
  if (counter) (*counter)++;
  if (c->busy) {
    record(&latencies, now_us() - c->due_us);
    unanswered++;
  }
  remove_idle(c);
  close(c->fd); /* also drops it from the epoll set */
  open_connection(c);
}

/* Writes what is left of the request; 0 when the connection failed. */
static int write_request(connection_t *c) {
  while (c->written < c->request->length) {
    ssize_t n = write(c->fd, c->request->bytes + c->written, c->request->length - c->written);
    if (n > 0) {
      c->written += (size_t)n;
    } else if (n < 0 && errno == EAGAIN) {
      watch(c, EPOLL_CTL_MOD, EPOLLIN | EPOLLOUT); /* rare: the rest goes when the socket drains */
      return 1;
    } else {
      return 0;
    }
  }
  return 1;
}

/* Length of the whole answer at the start of c->in, 0 if not all of it is in yet, -1 if unreadable
   (chunked, which the bench's servers never send, or not HTTP/1.x). */
static long answer_length(connection_t *c, int *status, int *closes) {
  char *in = c->in;
  char *head_end = memmem(in, c->in_length, "\r\n\r\n", 4);
  if (!head_end) return 0;
  if (c->in_length < 12 || memcmp(in, "HTTP/1.", 7) != 0) return -1;
  *status = atoi(in + 9);
  long content_length = 0;
  for (char *line = memchr(in, '\n', (size_t)(head_end - in)); line && line < head_end;
       line = memchr(line + 1, '\n', (size_t)(head_end - line))) {
    if (strncasecmp(line + 1, "content-length:", 15) == 0) content_length = atol(line + 16);
    if (strncasecmp(line + 1, "transfer-encoding:", 18) == 0) return -1;
    if (strncasecmp(line + 1, "connection:", 11) == 0) {
      char value[64] = {0};
      char *value_end = memchr(line + 12, '\r', (size_t)(head_end + 1 - (line + 12)));
      size_t value_length = value_end ? (size_t)(value_end - (line + 12)) : 0;
      memcpy(value, line + 12, value_length < sizeof value - 1 ? value_length : sizeof value - 1);
      if (strcasestr(value, "close")) *closes = 1;
    }
  }
  long total = (long)(head_end - in) + 4 + content_length;
  return (long)c->in_length >= total ? total : 0;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: openloop <http://host:port/path> <pool file> <content-encoding or -> <requests/s> <connections> <seconds>\n");
    return 2;
  }
  const char *url = argv[1];
  double rate = atof(argv[4]);
  int connection_count = atoi(argv[5]);
  double seconds = atof(argv[6]);
  if (strncmp(url, "http://", 7) != 0 || rate <= 0 || connection_count <= 0 || seconds <= 0) {
    fprintf(stderr, "openloop: want an http:// URL and positive rate, connections and seconds\n");
    return 2;
  }
  char host[256], port[16] = "80", path[1024] = "/";
  const char *authority = url + 7, *slash = strchr(authority, '/');
  size_t authority_length = slash ? (size_t)(slash - authority) : strlen(authority);
  if (authority_length == 0 || authority_length >= sizeof host) die("openloop: host");
  memcpy(host, authority, authority_length);
  host[authority_length] = 0;
  if (slash) snprintf(path, sizeof path, "%s", slash);
  char host_only[256];
  snprintf(host_only, sizeof host_only, "%s", host);
  char *colon = strrchr(host_only, ':');
  if (colon) {
    snprintf(port, sizeof port, "%s", colon + 1);
    *colon = 0;
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  int resolved = getaddrinfo(host_only, port, &hints, &server_address);
  if (resolved != 0) {
    fprintf(stderr, "openloop: %s: %s\n", host_only, gai_strerror(resolved));
    return 2;
  }

  const char *encoding = strcmp(argv[3], "-") == 0 ? NULL : argv[3];
  size_t request_count;
  request_t *requests = format_requests(argv[2], host, path, encoding, &request_count);

  epoll_fd = epoll_create1(0);
  if (epoll_fd < 0) die("epoll_create1");

  connection_t *connections = calloc((size_t)connection_count, sizeof *connections);
  idle = malloc((size_t)connection_count * sizeof *idle);
  for (int i = 0; i < connection_count; i++) {
    connections[i].idle_slot = -1;
    open_connection(&connections[i]);
  }

  /* Connect all before the clock starts, so the first requests do not wait for handshakes. */
  int connected = 0;
  struct epoll_event events[256];
  int64_t connect_deadline = now_us() + 5000000;
  while (connected < connection_count) {
    if (now_us() > connect_deadline) {
      fprintf(stderr, "openloop: only %d of %d connections opened in 5 s\n", connected, connection_count);
      return 1;
    }
    int n = epoll_wait(epoll_fd, events, 256, 100);
    for (int i = 0; i < n; i++) {
      connection_t *c = events[i].data.ptr;
      if (c->connected) continue;
      int error = finish_connect(c);
      if (error) {
        fprintf(stderr, "openloop: connect: %s\n", strerror(error));
        return 1;
      }
      push_idle(c);
      connected++;
    }
  }

  double interval_us = 1e6 / rate;
  long long waited_at_start = run_queue_wait_ns();
  int64_t start = now_us();
  int64_t end = start + (int64_t)(seconds * 1e6);
  uint64_t next_index = 0; /* the next request to fall due */
  size_t next_body = 0;
  long answered = 0;
  /* Time a due request waited with every connection busy: the send lag that more connections would
     have moved into the server's queue, as against lag for want of a core. */
  int64_t exhausted_us = 0, exhausted_since = -1, last_sent_us = 0;
  long long bytes_read = 0;

  for (;;) {
    int64_t now = now_us();
    /* Send every request now due on an idle connection; the rest wait for one to free up. */
    int64_t due = start + (int64_t)((double)next_index * interval_us);
    while (due <= now && due < end && idle_count > 0) {
      connection_t *c = pop_idle();
      c->busy = 1;
      c->due_us = due;
      c->sent_us = now_us();
      c->request = &requests[next_body];
      next_body = (next_body + 1) % request_count;
      c->written = 0;
      if (!write_request(c)) {
        c->busy = 0; /* not sent: the same request goes out on another connection */
        reopen_connection(c, &errors.write);
        continue;
      }
      last_sent_us = c->sent_us;
      next_index++;
      due = start + (int64_t)((double)next_index * interval_us);
    }
    if (due <= now && due < end && idle_count == 0) {
      note_exhausted(&exhausted_since, due, last_sent_us);
    } else if (exhausted_since >= 0) {
      exhausted_us += now - exhausted_since;
      exhausted_since = -1;
    }
    if (now >= end) break;
    /* Wake for the next due time only if a connection is free to send it; else an answer wakes us. */
    int64_t wake = due < end && idle_count > 0 ? due : end;
    int64_t wait_us = wake - now;
    struct timespec timeout = {.tv_sec = wait_us / 1000000, .tv_nsec = (wait_us % 1000000) * 1000};
    int n = epoll_pwait2(epoll_fd, events, 256, &timeout, NULL);
    if (n < 0 && errno != EINTR) die("epoll_pwait2");
    if (idle_count == 0 && due < end && due <= now_us()) note_exhausted(&exhausted_since, due, last_sent_us);
    for (int i = 0; i < n; i++) {
      connection_t *c = events[i].data.ptr;
      if (!c->connected) { /* a reopened connection's handshake finished */
        if (finish_connect(c)) {
          errors.connect++;
          close(c->fd);
          open_connection(c);
        } else {
          push_idle(c);
        }
        continue;
      }
      if ((events[i].events & EPOLLOUT) && c->busy && c->written < c->request->length) {
        if (!write_request(c)) {
          reopen_connection(c, &errors.write);
          continue;
        }
        if (c->written == c->request->length) watch(c, EPOLL_CTL_MOD, EPOLLIN);
      }
      if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      if (c->in_capacity - c->in_length < READ_CHUNK) { /* read straight into the answer buffer */
        c->in_capacity = c->in_length + READ_CHUNK;
        c->in = realloc(c->in, c->in_capacity);
      }
      ssize_t got = read(c->fd, c->in + c->in_length, c->in_capacity - c->in_length);
      if (got < 0 && errno == EAGAIN) continue;
      if (got <= 0) {
        /* End of stream with nothing asked: the server closed a keep-alive connection it found idle. */
        int closed_while_idle = got == 0 && !c->busy && c->in_length == 0;
        reopen_connection(c, closed_while_idle ? NULL : &errors.read);
        continue;
      }
      bytes_read += got;
      c->in_length += (size_t)got;
      int status = 0, closes = 0;
      long length = answer_length(c, &status, &closes);
      if (length < 0 || (length > 0 && !c->busy)) {
        static int told;
        if (!told++) fprintf(stderr, "openloop: an answer it cannot read (chunked, not HTTP/1.x, or unasked): read errors\n");
        reopen_connection(c, &errors.read);
        continue;
      }
      if (length == 0) continue;
      int64_t answered_us = now_us();
      int64_t latency = answered_us - c->due_us;
      record(&latencies, latency);
      record(&send_lags, c->sent_us - c->due_us);
      record(&in_flights, answered_us - c->sent_us);
      if (latency > TIMEOUT_US) errors.timeout++;
      if (status >= 400) errors.status++;
      answered++;
      c->in_length -= (size_t)length;
      memmove(c->in, c->in + length, c->in_length);
      c->busy = 0;
      if (closes) {
        close(c->fd); /* the server's choice, not an error: a new connection goes idle once open */
        open_connection(c);
        continue;
      }
      push_idle(c);
    }
  }

  /* Requests due but unanswered at the end: in flight, or never sent for want of a free connection. */
  int64_t stop = now_us();
  if (exhausted_since >= 0) exhausted_us += stop - exhausted_since;
  for (int i = 0; i < connection_count; i++) {
    if (connections[i].busy) {
      record(&latencies, stop - connections[i].due_us);
      unanswered++;
    }
  }
  for (int64_t due = start + (int64_t)((double)next_index * interval_us); due < end;
       due = start + (int64_t)((double)++next_index * interval_us)) {
    record(&latencies, stop - due);
    unanswered++;
  }

  long long waited_at_stop = run_queue_wait_ns();
  long long run_queue_wait_us = waited_at_start < 0 || waited_at_stop < 0 ? -1 : (waited_at_stop - waited_at_start) / 1000;
  printf("BENCH_RESULT {\"requests\":%ld,\"duration_us\":%lld,\"bytes\":%lld,\"open_loop\":true,\"unanswered\":%ld,"
         "\"connections_exhausted_us\":%lld,\"run_queue_wait_us\":%lld,\"errors\":{\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d,\"timeout\":%d},",
         answered, (long long)(stop - start), bytes_read, unanswered, (long long)exhausted_us, run_queue_wait_us, errors.connect, errors.read,
         errors.write, errors.status, errors.timeout);
  print_samples("latency_us", &latencies, 1);
  printf(",");
  print_samples("send_lag_us", &send_lags, 0);
  printf(",");
  print_samples("in_flight_us", &in_flights, 0);
  printf("}\n");
  return 0;
}
