#!/usr/bin/env python3
"""Population screening on a Dask cluster, shuffled: map tasks each route a
share of the input (8 MB pieces of the files) into per-shard files on the
shared storage, then one
reduce task per shard screens its patients, then a merge. Every line is read
once in the whole cluster. (--no-shuffle: one task per shard, each reading
every input, as `regenpath screen --shard` does.)

Every worker must be able to import the `regenpath` module (build/python on
PYTHONPATH, or installed) and read the inputs and the output directory at the
same paths (shared storage): see docs/screening.md.

On one machine, --local N runs one worker of N threads in this process (the
C++ releases the GIL, so the tasks run in parallel; no nanny or worker
process beside them, and the tasks share one loaded knowledge base and
engine); this process then needs tcmalloc (or glibc without Dask's
MALLOC_TRIM_THRESHOLD_), so it executes itself again with LD_PRELOAD set
when it lacks it (in_process_allocator()). --local N --local-processes runs
N worker processes of one thread each instead, as a cluster would.

  # on one machine, a LocalCluster of one worker of 2 threads in this process:
  PYTHONPATH=build/python /usr/bin/python3 examples/dask_screen.py --local 2 --shards 8 --now 2025-06-01 \
      --output /tmp/screen /data/bulk-export
  # on a cluster (dask scheduler + dask worker on each machine):
  /usr/bin/python3 examples/dask_screen.py --scheduler tcp://scheduler:8786 --shards 64 \
      --output /shared/screen /shared/bulk-export

The merged output is byte for byte what `regenpath screen` writes for the same
inputs and --now, but for run.json's input paths, which are absolute here (the
workers may run in other directories).
"""
import argparse
import ctypes.util
import datetime
import os
import shutil
import sys
import time


_tcmalloc_library = []


def tcmalloc_library():
    """The name of libtcmalloc_minimal to preload, or None when it is not
    installed (looked up once: the lookup runs ldconfig)."""
    if not _tcmalloc_library:
        _tcmalloc_library.append(ctypes.util.find_library("tcmalloc_minimal"))
    return _tcmalloc_library[0]


def tcmalloc_mapped():
    """Whether this process runs with tcmalloc (preloaded or linked)."""
    with open("/proc/self/maps") as maps:
        return any("libtcmalloc" in line for line in maps)


def worker_environment(allocator):
    """The environment the worker processes must start with (Dask's
    distributed.nanny.pre-spawn-environ), for `allocator`:

    - "tcmalloc" (the default when libtcmalloc_minimal is installed): preloaded,
      as the regenpath executables link it;
    - "system": glibc malloc, without Dask's default MALLOC_TRIM_THRESHOLD_=65536.

    Why: a shard parses and assesses one patient after another, each in a
    fresh arena of a few MB. Setting MALLOC_TRIM_THRESHOLD_ at all turns off
    glibc's dynamic mmap threshold, so every patient's large blocks are
    mmap'ed and unmapped again (and the top of the heap trimmed): measured,
    a shard then takes 1.8-2x the CPU of the same shard through the CLI.
    Either choice brings it back to the CLI's (docs/screening.md)."""
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    if allocator == "tcmalloc":
        environ["LD_PRELOAD"] = tcmalloc_preload()
    return environ


def tcmalloc_preload():
    """LD_PRELOAD with libtcmalloc_minimal added to this process's."""
    library = tcmalloc_library()
    if library is None:
        raise SystemExit("dask_screen: libtcmalloc_minimal is not installed "
                         "(apt-get install libgoogle-perftools4, or pass --allocator system)")
    preload = os.environ.get("LD_PRELOAD", "")
    return library if not preload else preload + ":" + library


def in_process_allocator(allocator):
    """Makes this process run with `allocator` (see worker_environment()),
    for a LocalCluster whose worker runs in it (--local without
    --local-processes): malloc is chosen when a process starts, so when this
    one does not have it, it executes itself again, once, with tcmalloc in
    LD_PRELOAD (or without MALLOC_TRIM_THRESHOLD_ for "system"), before
    anything imports Dask. Returns when the allocator is right."""
    right = tcmalloc_mapped() if allocator == "tcmalloc" else "MALLOC_TRIM_THRESHOLD_" not in os.environ
    if right:
        return
    if os.environ.get("REGENPATH_DASK_REEXECUTED") == "1":
        raise SystemExit("dask_screen: started again with the %s allocator, but still without it" % allocator)
    environ = dict(os.environ)
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    if allocator == "tcmalloc":
        environ["LD_PRELOAD"] = tcmalloc_preload()
    environ["REGENPATH_DASK_REEXECUTED"] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    # The interpreter's own options too (sys.orig_argv): the same command again.
    os.execve(sys.executable, sys.orig_argv, environ)


def local_cluster(workers, processes=False, allocator="system"):
    """A LocalCluster on this machine for `workers` tasks at a time.

    By default (processes=False) one worker with `workers` threads, in this
    process: the C++ releases the GIL, so its tasks run in parallel (Dask's
    advice for such code), and there are no nannies or worker processes to
    start, to feed through sockets and to run beside the tasks on the same
    cores; the tasks share one loaded knowledge base and engine. This
    process must then run with `allocator` already (in_process_allocator()).

    processes=True: `workers` worker processes of one thread each, under
    nannies, spawned with `allocator` (worker_environment()); what a
    cluster of several machines runs."""
    import dask
    from dask.distributed import LocalCluster

    if not processes:
        return LocalCluster(n_workers=1, threads_per_worker=workers, processes=False)
    # The worker processes get their allocator when they are spawned (a
    # remote cluster's workers are started by their own command line:
    # docs/screening.md shows the same setting there).
    with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environment(allocator)}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)


def run_shard(inputs, shard, shards, options):
    """The task a worker runs: screen one shard (the C++ releases the GIL)."""
    import regenpath

    return regenpath.screen_shard(inputs, shard, shards, options)


def run_map(inputs, map_index, maps, shards, options):
    """A shuffle's map task: route a share of the inputs into per-shard files."""
    import regenpath

    return regenpath.screen_map(inputs, map_index, maps, shards, options)


def run_reduce(map_results, shard, shards, maps, options):
    """A shuffle's reduce task: screen one shard from the map tasks' files.
    `map_results` (the map tasks' counts) makes Dask run it after them all."""
    import regenpath

    assert len(map_results) == maps
    return regenpath.screen_reduce(shard, shards, maps, options)


def screen_on_dask(client, inputs, output, shards, options=None, maps=None, shuffle=True):
    """Screens `inputs` on `client`'s cluster into `output`, in `shards`
    shards: shuffled (`maps` map tasks, default one per shard, then a reduce
    task per shard), or with shuffle=False one task per shard reading every
    input. Returns the merge's counts, with the tasks' under "shards" (and
    "maps")."""
    import regenpath

    options = dict(options or {})
    # Every task assesses as of one instant, fixed here when not given:
    # shards each run at its own "now" are not one screening (merge refuses them).
    options.setdefault("now", datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"))
    inputs = [os.path.abspath(path) for path in inputs]
    output = os.path.abspath(output)
    shard_root = os.path.join(output, ".shards")
    shuffle_dir = os.path.join(output, ".shuffle")
    shard_options = [dict(options, output=os.path.join(shard_root, "shard-%04d" % shard)) for shard in range(shards)]
    try:
        results, map_results = run_tasks(client, inputs, shards, options, shard_options, shuffle_dir, maps, shuffle)
        merged = regenpath.merge([result["output"] for result in results], output)
    finally:
        # The tasks' own directories go, whether the run succeeded or failed
        # (a failed task has removed its partial output itself).
        shutil.rmtree(shard_root, ignore_errors=True)
        shutil.rmtree(shuffle_dir, ignore_errors=True)
    merged["shards"] = results
    merged["maps"] = map_results
    return merged


def run_tasks(client, inputs, shards, options, shard_options, shuffle_dir, maps, shuffle):
    """screen_on_dask's tasks: returns the shard (or reduce) tasks' results
    and the map tasks' (empty without a shuffle)."""
    map_results = []
    if shuffle:
        maps = maps or shards
        map_futures = [
            client.submit(run_map, inputs, map_index, maps, shards, dict(options, shuffle_dir=shuffle_dir),
                          pure=False, key="regenpath-map-%d-of-%d" % (map_index, maps))
            for map_index in range(maps)
        ]
        futures = [
            client.submit(run_reduce, map_futures, shard, shards, maps,
                          dict(shard_options[shard], shuffle_dir=shuffle_dir),
                          pure=False, key="regenpath-reduce-%d-of-%d" % (shard, shards))
            for shard in range(shards)
        ]
        results, map_results = gather_or_wait(client, futures, map_futures)
    else:
        futures = [
            client.submit(run_shard, inputs, shard, shards, shard_options[shard],
                          pure=False, key="regenpath-shard-%d-of-%d" % (shard, shards))
            for shard in range(shards)
        ]
        results, _ = gather_or_wait(client, futures, [])
    return results, map_results


def gather_or_wait(client, futures, map_futures):
    """The results of `futures` and `map_futures`. When a task fails, the
    error is raised once every other task has ended (those depending on the
    failed one fail at once; a running one cannot be stopped, and must not
    write into the task directories after the caller has removed them)."""
    from dask.distributed import wait

    try:
        return client.gather(futures), client.gather(map_futures)
    except BaseException:
        wait(futures + map_futures)
        raise


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--scheduler", help="address of a running Dask scheduler")
    where.add_argument("--local", type=int, metavar="N",
                       help="start a LocalCluster in this process: one worker of N threads (see local_cluster())")
    parser.add_argument("--local-processes", action="store_true",
                        help="with --local N: N worker processes of one thread each, under nannies, instead")
    parser.add_argument("--shards", type=int, default=0, help="shards (default: 4 per worker thread)")
    parser.add_argument("--maps", type=int, default=0, help="map tasks of the shuffle (default: one per shard)")
    parser.add_argument("--no-shuffle", action="store_true",
                        help="one task per shard, each reading every input (no shuffle directory)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--now")
    parser.add_argument("--jobs", type=int, default=1, help="threads per task (default 1)")
    parser.add_argument("--memory", default="512M", help="memory budget per task")
    parser.add_argument("--allocator", choices=["tcmalloc", "system"],
                        default=None,
                        help="malloc of the --local workers (default tcmalloc when installed); "
                             "see worker_environment() and in_process_allocator()")
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args(argv)
    if args.local_processes and not args.local:
        parser.error("--local-processes goes with --local N")
    if args.local is not None and args.local < 1:
        parser.error("--local N needs N >= 1 (worker threads)")
    if args.shards < 0 or args.maps < 0:
        parser.error("--shards and --maps are counts (0: the default)")
    if args.allocator is None:
        args.allocator = "tcmalloc" if tcmalloc_mapped() or tcmalloc_library() else "system"

    if args.local and not args.local_processes:
        in_process_allocator(args.allocator)  # may re-execute this script
    # The options every task gets, checked before the cluster starts (a bad
    # --now would otherwise be found by the reduce tasks, after the maps).
    try:
        import regenpath
        regenpath.check_options({"jobs": args.jobs, "memory": args.memory, **({"now": args.now} if args.now else {})})
    except ImportError as error:
        parser.error("cannot import the regenpath module (put build/python on PYTHONPATH): %s" % error)
    except (ValueError, OSError) as error:
        parser.error(str(error))
    from dask.distributed import Client

    started = time.monotonic()
    if args.local:
        cluster = local_cluster(args.local, args.local_processes, args.allocator)
        client = Client(cluster)
    else:
        cluster = None
        client = Client(args.scheduler)
    try:
        if args.local:
            client.wait_for_workers(args.local if args.local_processes else 1)
        ready = time.monotonic()
        threads = max(1, sum(worker["nthreads"] for worker in client.scheduler_info()["workers"].values()))
        shards = args.shards or 4 * threads
        options = {"jobs": args.jobs, "memory": args.memory}
        if args.now:
            options["now"] = args.now
        result = screen_on_dask(client, args.inputs, args.output, shards, options, maps=args.maps or None,
                                shuffle=not args.no_shuffle)
        done = time.monotonic()
        print("dask_screen: %d patients in %d shards on %d worker threads; output in %s"
              % (result["patients"], shards, threads, args.output), file=sys.stderr)
        if args.local and not args.local_processes:
            print("dask_screen: the worker runs in this process (malloc: %s, MALLOC_TRIM_THRESHOLD_ %s)"
                  % ("tcmalloc" if tcmalloc_mapped() else "system",
                     "unset" if "MALLOC_TRIM_THRESHOLD_" not in os.environ else "set"), file=sys.stderr)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    # Seconds per phase (bench/screen_bench.sh reads this line): the cluster
    # start-up (workers up), the screening (tasks and merge), the shutdown;
    # shard_cpu is the CPU time of every task (map, reduce or shard), merge
    # the merge's wall time (in this process, after the tasks).
    print("dask_screen_seconds: startup %.3f screen %.3f shutdown %.3f shard_cpu %.3f merge %.3f"
          % (ready - started, done - ready, time.monotonic() - done,
             sum(task["cpu_seconds"] for task in result["shards"] + result["maps"]), result["seconds"]),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
