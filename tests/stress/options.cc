// SPDX-License-Identifier: BSD-3-Clause
// mx_soak's command line.
#include "soak.h"

namespace mx_soak {

void Usage(FILE* out) {
  fprintf(
      out,
      "usage: mx_soak [--seconds S] [--seed X] [--workers N] [--threads M] [--degree D]\n"
      "               [--roaming R] [--call-links K] [--callers C] [--kill-every S | --no-kill]\n"
      "               [--call-timeout S] [--max-bytes B] [--buffer-bytes B] [--drain S]\n"
      "               [--verbose]\n"
      "  --seconds S      how long traffic runs (default 10)\n"
      "  --seed X         seed for the graph, traffic and kill schedule (default: from the "
      "clock)\n"
      "  --workers N      worker processes alive at any time (default 4, min 2)\n"
      "  --threads M      threads per worker (default 3)\n"
      "  --degree D       static links each new worker opens to others (default 2)\n"
      "  --roaming R      roaming links (endpoints that hop) per new worker (default 2)\n"
      "  --call-links K   call links per new worker, on which it calls another (default 1)\n"
      "  --callers C      threads per worker calling concurrently on its call links (default 2)\n"
      "  --call-timeout S deadline of each call (default 30)\n"
      "  --kill-every S   mean seconds between SIGKILLs of a random worker (default 2)\n"
      "  --no-kill        no kills\n"
      "  --max-bytes B    largest message (default 65536)\n"
      "  --buffer-bytes B MX_CHANNEL_BUFFER_BYTES for workers (default 262144; 0 = libmx's)\n"
      "  --drain S        how long the stop phase may take before it is a failure (default 60)\n"
      "  --verbose        log kills, spawns and per-worker reports\n");
}

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "mx_soak: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    const char* v = nullptr;
    if (a == "--seconds") {
      if (!(v = value("--seconds"))) return false;
      o->seconds = atof(v);
    } else if (a == "--seed") {
      if (!(v = value("--seed"))) return false;
      o->seed = strtoull(v, nullptr, 0);
      o->seed_given = true;
    } else if (a == "--workers") {
      if (!(v = value("--workers"))) return false;
      o->workers = atoi(v);
    } else if (a == "--threads") {
      if (!(v = value("--threads"))) return false;
      o->threads = atoi(v);
    } else if (a == "--degree") {
      if (!(v = value("--degree"))) return false;
      o->degree = atoi(v);
    } else if (a == "--roaming") {
      if (!(v = value("--roaming"))) return false;
      o->roaming = atoi(v);
    } else if (a == "--call-links") {
      if (!(v = value("--call-links"))) return false;
      o->call_links = atoi(v);
    } else if (a == "--callers") {
      if (!(v = value("--callers"))) return false;
      o->callers = atoi(v);
    } else if (a == "--kill-every") {
      if (!(v = value("--kill-every"))) return false;
      o->kill_every = atof(v);
    } else if (a == "--no-kill") {
      o->kill_every = 0;
    } else if (a == "--max-bytes") {
      if (!(v = value("--max-bytes"))) return false;
      o->max_bytes = static_cast<uint32_t>(strtoul(v, nullptr, 0));
    } else if (a == "--buffer-bytes") {
      if (!(v = value("--buffer-bytes"))) return false;
      o->buffer_bytes = static_cast<uint32_t>(strtoul(v, nullptr, 0));
    } else if (a == "--drain") {
      if (!(v = value("--drain"))) return false;
      o->drain = atof(v);
    } else if (a == "--call-timeout") {
      if (!(v = value("--call-timeout"))) return false;
      o->call_timeout = atof(v);
    } else if (a == "--verbose") {
      o->verbose = true;
    } else if (a == "--worker-index") {
      if (!(v = value("--worker-index"))) return false;
      o->worker_index = atoi(v);
    } else if (a == "--service") {
      if (!(v = value("--service"))) return false;
      o->service = v;
    } else if (a == "--parent-pid") {
      if (!(v = value("--parent-pid"))) return false;
      o->parent_pid = atol(v);
    } else if (a == "-h" || a == "--help") {
      Usage(stdout);
      exit(0);
    } else {
      fprintf(stderr, "mx_soak: unknown argument %s\n", a.c_str());
      return false;
    }
  }
  if (o->seconds < 0 || o->workers < 2 || o->threads < 1 || o->degree < 1 || o->roaming < 0 ||
      o->call_links < 0 || o->callers < 0 || o->kill_every < 0 || o->drain <= 0 ||
      o->max_bytes < 1024 || o->max_bytes > 65536) {
    fprintf(stderr,
            "mx_soak: an option is out of range (workers >= 2, threads >= 1, "
            "degree >= 1, 1024 <= max-bytes <= 65536)\n");
    return false;
  }
  return true;
}

}  // namespace mx_soak
