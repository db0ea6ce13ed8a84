#!/usr/bin/env python3
"""Population screening on a Dask cluster, shuffled: map tasks each route a
share of the input files into per-shard files on the shared storage, then one
reduce task per shard screens its patients, then a merge. Every line is read
once in the whole cluster. (--no-shuffle: one task per shard, each reading
every input, as `regenpath screen --shard` does.)

Every worker must be able to import the `regenpath` module (build/python on
PYTHONPATH, or installed) and read the inputs and the output directory at the
same paths (shared storage): see docs/screening.md.

  # on one machine, a LocalCluster of 2 worker processes:
  /usr/bin/python3 examples/dask_screen.py --local 2 --shards 8 --now 2025-06-01 \
      --output /tmp/screen /data/bulk-export
  # on a cluster (dask scheduler + dask worker on each machine):
  /usr/bin/python3 examples/dask_screen.py --scheduler tcp://scheduler:8786 --shards 64 \
      --output /shared/screen /shared/bulk-export

The merged output is byte for byte what `regenpath screen` writes for the same
inputs and --now.
"""
import argparse
import ctypes.util
import os
import shutil
import sys
import time


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
        library = ctypes.util.find_library("tcmalloc_minimal")
        if library is None:
            raise SystemExit("dask_screen: libtcmalloc_minimal is not installed "
                             "(apt-get install libgoogle-perftools4, or pass --allocator system)")
        preload = os.environ.get("LD_PRELOAD", "")
        environ["LD_PRELOAD"] = library if not preload else preload + ":" + library
    return environ


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
    inputs = [os.path.abspath(path) for path in inputs]
    output = os.path.abspath(output)
    shard_root = os.path.join(output, ".shards")
    shuffle_dir = os.path.join(output, ".shuffle")
    shard_options = [dict(options, output=os.path.join(shard_root, "shard-%04d" % shard)) for shard in range(shards)]
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
        results = client.gather(futures)
        map_results = client.gather(map_futures)
    else:
        futures = [
            client.submit(run_shard, inputs, shard, shards, shard_options[shard],
                          pure=False, key="regenpath-shard-%d-of-%d" % (shard, shards))
            for shard in range(shards)
        ]
        results = client.gather(futures)
    merged = regenpath.merge([result["output"] for result in results], output)
    shutil.rmtree(shard_root, ignore_errors=True)
    shutil.rmtree(shuffle_dir, ignore_errors=True)
    merged["shards"] = results
    merged["maps"] = map_results
    return merged


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--scheduler", help="address of a running Dask scheduler")
    where.add_argument("--local", type=int, metavar="N", help="start a LocalCluster of N worker processes")
    parser.add_argument("--shards", type=int, default=0, help="shards (default: 4 per worker)")
    parser.add_argument("--maps", type=int, default=0, help="map tasks of the shuffle (default: one per shard)")
    parser.add_argument("--no-shuffle", action="store_true",
                        help="one task per shard, each reading every input (no shuffle directory)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--now")
    parser.add_argument("--jobs", type=int, default=1, help="threads per task (default 1)")
    parser.add_argument("--memory", default="512M", help="memory budget per task")
    parser.add_argument("--allocator", choices=["tcmalloc", "system"],
                        default="tcmalloc" if ctypes.util.find_library("tcmalloc_minimal") else "system",
                        help="malloc of the --local workers (default tcmalloc when installed); "
                             "see worker_environment()")
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args(argv)

    import dask
    from dask.distributed import Client, LocalCluster

    started = time.monotonic()
    if args.local:
        # The worker processes get their allocator when they are spawned (a
        # remote cluster's workers are started by their own command line:
        # docs/screening.md shows the same setting there).
        with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environment(args.allocator)}):
            cluster = LocalCluster(n_workers=args.local, threads_per_worker=1, processes=True)
        client = Client(cluster)
    else:
        cluster = None
        client = Client(args.scheduler)
    try:
        if args.local:
            client.wait_for_workers(args.local)
        ready = time.monotonic()
        workers = max(1, len(client.scheduler_info()["workers"]))
        shards = args.shards or 4 * workers
        options = {"jobs": args.jobs, "memory": args.memory}
        if args.now:
            options["now"] = args.now
        result = screen_on_dask(client, args.inputs, args.output, shards, options, maps=args.maps or None,
                                shuffle=not args.no_shuffle)
        done = time.monotonic()
        print("dask_screen: %d patients in %d shards on %d workers; output in %s"
              % (result["patients"], shards, workers, args.output), file=sys.stderr)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    # Seconds per phase (bench/screen_bench.sh reads this line): the cluster
    # start-up (workers up), the screening (tasks and merge), the shutdown;
    # shard_cpu is the CPU time of every task (map, reduce or shard).
    print("dask_screen_seconds: startup %.3f screen %.3f shutdown %.3f shard_cpu %.3f"
          % (ready - started, done - ready, time.monotonic() - done,
             sum(task["cpu_seconds"] for task in result["shards"] + result["maps"])), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
