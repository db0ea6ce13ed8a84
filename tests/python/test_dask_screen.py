"""The Python binding and the Dask example (examples/dask_screen.py).

Run by ctest with PYTHONPATH holding build/python and examples/, and
REGENPATH_BINARY / REGENPATH_SHARED_DIR set. Uses Debian's /usr/bin/python3
(python3-distributed).
"""
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

import regenpath
import dask_screen

BINARY = os.environ["REGENPATH_BINARY"]
BULK = os.path.join(os.environ["REGENPATH_SHARED_DIR"], "testdata/synthea/bulk-ndjson-10-patients")
NOW = "2025-06-01"
OUTPUT_FILES = ["patients.ndjson", "patients.csv", "summary.json", "summary.txt",
                "MeasureReport.json", "Group.json", "run.json", "issues.ndjson"]


def worker_allocator():
    """Run in a worker: the tcmalloc library mapped into it (or None), and its
    MALLOC_TRIM_THRESHOLD_ (or None)."""
    with open("/proc/self/maps") as maps:
        mapped = next((line.split()[-1] for line in maps if "libtcmalloc" in line), None)
    return mapped, os.environ.get("MALLOC_TRIM_THRESHOLD_")


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


class DaskScreenTest(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory(prefix="regenpath-python-test-")
        self.dir = self.temp.name
        self.reference = os.path.join(self.dir, "reference")
        subprocess.run([BINARY, "screen", "--now", NOW, "--jobs", "2", "--output", self.reference, BULK],
                       check=True, capture_output=True)

    def tearDown(self):
        self.temp.cleanup()

    def assert_same_output(self, directory):
        for name in OUTPUT_FILES:
            self.assertEqual(read(os.path.join(self.reference, name)), read(os.path.join(directory, name)),
                             "%s differs from regenpath screen's" % name)

    def test_local_cluster_of_two_workers_gives_the_single_run_output(self):
        import ctypes.util
        import dask
        from dask.distributed import Client, LocalCluster

        # The workers as dask_screen.py --local starts them: tcmalloc when it
        # is installed (the CI machine has it: the executables link it), and
        # never Dask's MALLOC_TRIM_THRESHOLD_ (it doubled a shard's CPU).
        allocator = "tcmalloc" if ctypes.util.find_library("tcmalloc_minimal") else "system"
        with dask.config.set({"distributed.nanny.pre-spawn-environ": dask_screen.worker_environment(allocator)}):
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        try:
            self.assertEqual(len(client.scheduler_info()["workers"]), 2)
            for mapped, trim in client.run(worker_allocator).values():
                self.assertIsNone(trim, "a worker has MALLOC_TRIM_THRESHOLD_")
                if allocator == "tcmalloc":
                    self.assertIsNotNone(mapped, "a worker does not use tcmalloc")
            # Shuffled (3 map tasks, 4 reduce tasks), then one task per shard.
            output = os.path.join(self.dir, "dask")
            result = dask_screen.screen_on_dask(client, [BULK], output, 4, {"now": NOW, "jobs": 1}, maps=3)
            unshuffled = os.path.join(self.dir, "dask-no-shuffle")
            unshuffled_result = dask_screen.screen_on_dask(client, [BULK], unshuffled, 4, {"now": NOW, "jobs": 1},
                                                           shuffle=False)
        finally:
            client.close()
            cluster.close()
        self.assertEqual(result["patients"], 13)
        self.assertEqual(sum(shard["patients"] for shard in result["shards"]), 13)
        self.assertEqual(len(result["maps"]), 3)
        # Every line read once in the whole cluster: the map tasks' lines add
        # up to the run's, and their bytes to the input's (each task read its
        # own pieces).
        with open(os.path.join(output, "run.json")) as run:
            import json
            self.assertEqual(sum(m["lines"] for m in result["maps"]), json.load(run)["lines"])
        self.assertEqual(sum(m["bytes"] for m in result["maps"]), result["bytes"])
        self.assert_same_output(output)
        self.assertFalse(os.path.exists(os.path.join(output, ".shards")))
        self.assertFalse(os.path.exists(os.path.join(output, ".shuffle")))
        self.assertEqual(unshuffled_result["patients"], 13)
        self.assertEqual(unshuffled_result["maps"], [])
        self.assert_same_output(unshuffled)

    def test_local_cluster_of_threads_gives_the_single_run_output(self):
        from dask.distributed import Client

        # dask_screen.py --local's default: one worker of 2 threads in this
        # process. The reduce tasks share one engine: of the 4, at most the
        # first found none loaded (another test may have loaded it already).
        cluster = dask_screen.local_cluster(2)
        client = Client(cluster)
        try:
            workers = client.scheduler_info()["workers"]
            self.assertEqual([worker["nthreads"] for worker in workers.values()], [2])
            output = os.path.join(self.dir, "dask-threads")
            result = dask_screen.screen_on_dask(client, [BULK], output, 4, {"now": NOW, "jobs": 1}, maps=3)
            # Without "now", the driver fixes one instant for every task (each
            # taking its own, the shards could not be merged).
            untimed = os.path.join(self.dir, "dask-untimed")
            untimed_result = dask_screen.screen_on_dask(client, [BULK], untimed, 3, {"jobs": 1})
            # A failed run leaves none of its tasks' directories behind.
            failed = os.path.join(self.dir, "dask-failed")
            with self.assertRaises(Exception):
                dask_screen.screen_on_dask(client, [BULK, os.path.join(self.dir, "absent.ndjson")], failed, 2,
                                           {"now": NOW, "jobs": 1})
        finally:
            client.close()
            cluster.close()
        self.assertEqual(untimed_result["patients"], 13)
        self.assertRegex(json.loads(read(os.path.join(untimed, "run.json")))["now"], r"^\d{4}-\d\d-\d\dT")
        for directory in (untimed, failed):
            self.assertFalse(os.path.exists(os.path.join(directory, ".shards")), directory)
            self.assertFalse(os.path.exists(os.path.join(directory, ".shuffle")), directory)
        self.assertEqual(result["patients"], 13)
        self.assertEqual(len(result["maps"]), 3)
        self.assertLessEqual(sum(not shard["engine_reused"] for shard in result["shards"]), 1)
        self.assert_same_output(output)

    def test_the_script_runs_its_in_process_cluster_with_the_allocator(self):
        # Started with Dask's MALLOC_TRIM_THRESHOLD_ (it doubled a shard's
        # CPU), the script executes itself again without it, and with
        # tcmalloc preloaded when it is installed; it says which it ran with.
        import ctypes.util

        allocator = "tcmalloc" if ctypes.util.find_library("tcmalloc_minimal") else "system"
        output = os.path.join(self.dir, "script")
        environ = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536")
        environ.pop("LD_PRELOAD", None)
        run = subprocess.run(["/usr/bin/python3", dask_screen.__file__, "--local", "2", "--shards", "3", "--now", NOW,
                              "--output", output, BULK], env=environ, capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("13 patients in 3 shards on 2 worker threads", run.stderr)
        self.assertIn("malloc: %s, MALLOC_TRIM_THRESHOLD_ unset" % allocator, run.stderr)
        self.assert_same_output(output)

    def test_the_engine_is_loaded_once_per_knowledge_base(self):
        # A knowledge-base directory is loaded by the first call, reused by
        # the next, and loaded again once one of its files has changed.
        import shutil

        source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "knowledge")
        kb = os.path.join(self.dir, "kb")
        shutil.copytree(source, kb)

        def screen(name):
            out = os.path.join(self.dir, name)
            result = regenpath.screen_shard([BULK], 0, 1, {"output": out, "now": NOW, "kb": kb})
            self.assert_same_output(out)
            return result["engine_reused"]

        self.assertFalse(screen("kb-1"))
        self.assertTrue(screen("kb-2"))
        some_file = os.path.join(kb, sorted(name for name in os.listdir(kb) if name.endswith(".yaml"))[0])
        stat = os.stat(some_file)
        os.utime(some_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        self.assertFalse(screen("kb-3"))
        self.assertTrue(screen("kb-4"))
        with self.assertRaises(OSError):
            regenpath.screen_shard([BULK], 0, 1, {"output": os.path.join(self.dir, "kb-x"), "now": NOW,
                                                  "kb": os.path.join(self.dir, "absent")})

    def test_screen_shard_releases_the_gil(self):
        # While screen_shard runs in one thread, this thread keeps running
        # Python. Were the GIL held during the C++, this thread would stop for
        # the whole of each call (C++ has no bytecode boundary at which to
        # hand the GIL over): its long pauses would add up to about the time
        # of the calls. Released, it only pauses when the OS schedules it out
        # (rarely for more than 0.1 s even on a loaded machine).
        done = threading.Event()
        result = {}
        calls = []

        def work():
            for shard in range(4):
                started = time.monotonic()
                result[shard] = regenpath.screen_shard(
                    [BULK], shard, 4, {"output": os.path.join(self.dir, "gil-%d" % shard), "now": NOW, "jobs": 1})
                calls.append(time.monotonic() - started)
            done.set()

        worker = threading.Thread(target=work)
        long_pauses = []
        worker.start()
        last = time.monotonic()
        while not done.is_set():
            now = time.monotonic()
            if now - last > 0.1:
                long_pauses.append(now - last)
            last = now
        worker.join()
        self.assertEqual(sum(r["patients"] for r in result.values()), 13)
        # Each shard's lines fit in the default budget: held (when the shard
        # has patients; one of the four has none), none spilled.
        for r in result.values():
            self.assertEqual(r["partitions"], 1)
            self.assertEqual(r["held_bytes_peak"] > 0, r["patients"] > 0)
        self.assertLess(sum(long_pauses), 0.5 * sum(calls),
                        "pauses over 0.1 s: %s; calls %s" % (["%.3f" % p for p in long_pauses],
                                                             ["%.3f" % c for c in calls]))
        merged = os.path.join(self.dir, "gil-merged")
        regenpath.merge([os.path.join(self.dir, "gil-%d" % shard) for shard in range(4)], merged)
        self.assert_same_output(merged)

    def test_bad_options_raise(self):
        with self.assertRaises(ValueError):
            regenpath.screen_shard([BULK], 4, 4, {"output": os.path.join(self.dir, "x")})
        shuffle = os.path.join(self.dir, "shuffle")
        with self.assertRaises(ValueError):
            regenpath.screen_map([BULK], 2, 2, 4, {"shuffle_dir": shuffle})
        with self.assertRaises(ValueError):
            regenpath.screen_map([BULK], 0, 2, 4, {})  # no shuffle_dir
        with self.assertRaises(ValueError):
            regenpath.screen_reduce(0, 4, 2, {"shuffle_dir": shuffle})  # no output
        # A reduce before its map tasks have run names the missing one.
        with self.assertRaisesRegex(OSError, "map task 0 of 2 has not finished"):
            regenpath.screen_reduce(0, 4, 2, {"shuffle_dir": shuffle, "output": os.path.join(self.dir, "r")})
        regenpath.screen_map([BULK], 0, 2, 4, {"shuffle_dir": shuffle})
        with self.assertRaisesRegex(OSError, "map task 1 of 2 has not finished"):
            regenpath.screen_reduce(0, 4, 2, {"shuffle_dir": shuffle, "output": os.path.join(self.dir, "r")})
        with self.assertRaises(ValueError):
            regenpath.screen_shard([BULK], 0, 1, {})
        with self.assertRaises(OSError):
            regenpath.screen_shard([os.path.join(self.dir, "absent")], 0, 1, {"output": os.path.join(self.dir, "y")})
        # Checked as the command line checks --jobs and --memory; a misspelt
        # option or a negative index is a ValueError, not ignored or a TypeError.
        out = {"output": os.path.join(self.dir, "z")}
        for options, message in (({"memory": "1M"}, "at least 16M"), ({"memory": 1 << 20}, "at least 16M"),
                                 ({"jobs": -1}, "jobs must be"), ({"jobs": "2"}, "must be an int"),
                                 ({"jobs": 5000}, "jobs must be"), ({"mem": "64M"}, "'mem'] is not an option"),
                                 ({"jobs": True}, "must be an int"), ({"jobs": 1 << 70}, "out of range"),
                                 ({"memory": 1 << 70}, "out of range"), ({"memory": 64e6}, "must be a size")):
            with self.assertRaisesRegex(ValueError, message):
                regenpath.screen_shard([BULK], 0, 1, dict(out, **options))
        with self.assertRaisesRegex(ValueError, "shard must be in"):
            regenpath.screen_shard([BULK], -1, 2, out)
        with self.assertRaisesRegex(ValueError, "shards must be in"):
            regenpath.screen_reduce(0, -4, 2, {"shuffle_dir": shuffle, "output": os.path.join(self.dir, "r")})
        with self.assertRaisesRegex(ValueError, "'output'] is not an option"):
            regenpath.screen_map([BULK], 0, 2, 4, {"shuffle_dir": shuffle, "output": "x"})
        # Paths must be paths (None would make a directory named "None"); a
        # map task checks the now it leaves unused; indexes are ints.
        for options in ({"output": None}, {"output": 5}):
            with self.assertRaisesRegex(ValueError, "must be a path"):
                regenpath.screen_shard([BULK], 0, 1, options)
        with self.assertRaisesRegex(ValueError, "must be a path"):
            regenpath.screen_map([BULK], 0, 2, 4, {"shuffle_dir": None})
        with self.assertRaisesRegex(ValueError, r"options\['now'\]: 'garbage' is not a date"):
            regenpath.screen_map([BULK], 0, 2, 4, {"shuffle_dir": shuffle, "now": "garbage"})
        with self.assertRaisesRegex(ValueError, "shard is out of range"):
            regenpath.screen_shard([BULK], 2 ** 63, 2, out)
        with self.assertRaisesRegex(ValueError, "shard must be an int"):
            regenpath.screen_shard([BULK], True, 2, out)
        with self.assertRaisesRegex(ValueError, r"options\['memory'\]: 'abc' is not a size"):
            regenpath.screen_shard([BULK], 0, 1, dict(out, memory="abc"))
        self.assertEqual(regenpath.check_options({"kb": None, "now": "2025-06-01"}), "2025-06-01")
        # What a driver checks before its tasks run.
        self.assertEqual(regenpath.check_options({"now": "2025-06-01", "jobs": 2, "memory": "64M"}), "2025-06-01")
        with self.assertRaisesRegex(ValueError, "not a date"):
            regenpath.check_options({"now": "bogus"})
        self.assertFalse(os.path.exists(out["output"]))

    def test_the_script_refuses_bad_arguments_before_starting_a_cluster(self):
        for arguments, message in ((["--local", "0"], "--local N needs N >= 1"),
                                   (["--local", "2", "--now", "bogus"], "not a date"),
                                   (["--local", "2", "--shards", "-1"], "--shards and --maps are counts"),
                                   (["--local", "2", "--memory", "1M"], "at least 16M")):
            run = subprocess.run(["/usr/bin/python3", dask_screen.__file__] + arguments +
                                 ["--output", os.path.join(self.dir, "bad"), BULK], capture_output=True, text=True)
            self.assertEqual(run.returncode, 2, run.stderr)
            self.assertIn(message, run.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.dir, "bad")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
