#!/usr/bin/env bash
# Compares regenpath with fhirpath.js (npm fhirpath 5.2.2) on the bench
# workload: every expression of bench/workload.tsv over the Synthea bundles of
# shared/testdata/synthea/r4-bundles-pain-subset, the file list repeated
# REPEAT times.
#
# Usage: bench/compare_fhirpathjs.sh [-n REPEAT] [-r RUNS] [-m all|e2e|eval] [-x REGEX]
#   -n REPEAT  times each bundle is passed on one command line (default 3)
#   -r RUNS    timed runs per tool and expression (default 7)
#   -m MODE    e2e: whole processes (read + parse + evaluate + print);
#              eval: evaluation alone, timed inside the processes;
#              all: both (default)
#   -x REGEX   only the workload entries whose name matches REGEX
# Environment (all optional):
#   REGENPATH   the regenpath executable            (default build/regenpath)
#   FHIR_BENCH  the benchmark binary, for -m eval   (default build/bench/fhir_bench)
#   WORKLOAD    the workload file                   (default bench/workload.tsv)
#   DATA_DIR    the bundles                         (default ../shared/testdata/synthea/r4-bundles-pain-subset)
#   NODE, NPM   node and npm                        (default from PATH)
#
# First it installs fhirpath@5.2.2 into bench/node_modules when it is not
# there (git-ignored). Then, for each expression, it checks that both engines
# print the same results (JSON compared after normalisation) and stops with
# the difference if they do not. Then it times the two tools in alternation
# (run i starts with fhirpath.js when i is odd, with regenpath when even) and
# prints per-expression medians, the ratio fhirpath.js / regenpath, and the
# median of the ratios over the expressions.
#
# e2e:  each run is one process over the whole file list: `regenpath fhirpath
#       EXPR FILE...` against `node bench/fhirpathjs_runner.js EXPR FILE...`,
#       output to /dev/null, timed from outside (bash `time`: wall and CPU time).
# eval: each run is one process over the whole file list, but only the
#       evaluate calls are timed, summed over the files: fhirpath.js with
#       process.hrtime around compiled(resource) after JSON.parse
#       (fhirpathjs_runner.js --eval-only), regenpath with steady_clock around
#       CompiledExpression::Evaluate after parsing (fhir_bench --eval_only).
# Raw timings are kept in bench/results/ (git-ignored).
set -euo pipefail
export LC_ALL=C  # "." decimals from `time`, byte-order globs

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(dirname "$bench_dir")

repeat=3
runs=7
mode=all
name_filter=''
while getopts 'n:r:m:x:h' option; do
  case $option in
    n) repeat=$OPTARG ;;
    r) runs=$OPTARG ;;
    m) mode=$OPTARG ;;
    x) name_filter=$OPTARG ;;
    h) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [-n REPEAT] [-r RUNS] [-m all|e2e|eval] [-x REGEX]" >&2; exit 2 ;;
  esac
done
case $mode in all|e2e|eval) ;; *) echo "compare: -m must be all, e2e or eval" >&2; exit 2 ;; esac
[[ $repeat =~ ^[1-9][0-9]*$ ]] || { echo "compare: -n must be a positive integer" >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "compare: -r must be a positive integer" >&2; exit 2; }

regenpath=${REGENPATH:-$root_dir/build/regenpath}
fhir_bench=${FHIR_BENCH:-$root_dir/build/bench/fhir_bench}
workload=${WORKLOAD:-$bench_dir/workload.tsv}
data_dir=${DATA_DIR:-$root_dir/../shared/testdata/synthea/r4-bundles-pain-subset}
node=${NODE:-node}
npm=${NPM:-npm}
runner=$bench_dir/fhirpathjs_runner.js
fhirpath_js_version=5.2.2

die() { echo "compare: $*" >&2; exit 1; }

command -v "$node" >/dev/null || die "node not found (set NODE)"
command -v python3 >/dev/null || die "python3 not found"
[[ -x $regenpath ]] || die "$regenpath is not an executable (build it, or set REGENPATH)"
if [[ $mode != e2e ]]; then
  [[ -x $fhir_bench ]] || die "$fhir_bench is not an executable (build the fhir_bench target, set FHIR_BENCH, or use -m e2e)"
fi
[[ -f $workload ]] || die "no workload file $workload"
[[ -d $data_dir ]] || die "no data directory $data_dir"

# fhirpath.js, pinned, in bench/node_modules.
installed_version() {
  "$node" -e 'try { console.log(require(process.argv[1]).version) } catch (e) { console.log("none") }' \
    "$bench_dir/node_modules/fhirpath/package.json"
}
if [[ $(installed_version) != "$fhirpath_js_version" ]]; then
  command -v "$npm" >/dev/null || die "npm not found (set NPM)"
  echo "Installing fhirpath@$fhirpath_js_version into $bench_dir/node_modules ..." >&2
  "$npm" install --prefix "$bench_dir" --no-save --no-audit --no-fund "fhirpath@$fhirpath_js_version" >&2
  [[ $(installed_version) == "$fhirpath_js_version" ]] || die "fhirpath@$fhirpath_js_version did not install"
fi

shopt -s nullglob
bundles=("$data_dir"/*.json)
shopt -u nullglob
(( ${#bundles[@]} > 0 )) || die "no *.json in $data_dir"
files=()
for (( copy = 0; copy < repeat; copy++ )); do files+=("${bundles[@]}"); done
input_bytes=$(cat "${bundles[@]}" | wc -c)

names=()
expressions=()
while IFS=$'\t' read -r name expression || [[ -n $name ]]; do
  [[ -z $name || $name == \#* ]] && continue
  [[ -n $expression ]] || die "$workload: '$name' has no expression (NAME<TAB>EXPRESSION)"
  if [[ -n $name_filter && ! $name =~ $name_filter ]]; then continue; fi
  names+=("$name")
  expressions+=("$expression")
done < "$workload"
(( ${#names[@]} > 0 )) || die "no workload entry selected"

mkdir -p "$bench_dir/results"
stamp=$(date +%Y%m%d-%H%M%S)
timings=$bench_dir/results/compare-$stamp.tsv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# same_results FILE_A FILE_B LABEL_A LABEL_B: true iff the two outputs hold
# the same results per input file, after normalising the JSON (key order,
# spacing, number spelling); else prints the first difference.
same_results() {
  python3 - "$@" <<'EOF'
import json, sys
def lines(path):
    with open(path) as f:
        return [json.dumps(json.loads(line), sort_keys=True) for line in f if line.strip()]
a, b = lines(sys.argv[1]), lines(sys.argv[2])
label_a, label_b = sys.argv[3], sys.argv[4]
if a == b:
    sys.exit(0)
if len(a) != len(b):
    print(f"  {label_a}: {len(a)} lines, {label_b}: {len(b)} lines", file=sys.stderr)
for index, (x, y) in enumerate(zip(a, b)):
    if x != y:
        print(f"  first difference, input file {index + 1}:\n    {label_a}: {x[:400]}\n    {label_b}: {y[:400]}",
              file=sys.stderr)
        break
sys.exit(1)
EOF
}

echo "regenpath:   $regenpath"
[[ $mode != e2e ]] && echo "fhir_bench:  $fhir_bench"
echo "fhirpath.js: $fhirpath_js_version ($("$node" --version))"
echo "input:       ${#bundles[@]} bundles ($((input_bytes / 1024)) KiB) x $repeat = ${#files[@]} files per run; $runs runs per tool"
echo

# Correctness first: identical results, or no timing at all.
for index in "${!names[@]}"; do
  name=${names[$index]}
  expression=${expressions[$index]}
  "$regenpath" fhirpath "$expression" "${bundles[@]}" > "$work/regenpath.out" \
    || die "$name: regenpath failed"
  "$node" "$runner" "$expression" "${bundles[@]}" > "$work/fhirpathjs.out" \
    || die "$name: fhirpath.js failed"
  same_results "$work/regenpath.out" "$work/fhirpathjs.out" regenpath fhirpath.js \
    || die "$name: regenpath and fhirpath.js give different results for: $expression"
  if [[ $mode != e2e ]]; then
    "$fhir_bench" --eval_only "$expression" "${bundles[@]}" > "$work/fhir_bench.out" 2>/dev/null \
      || die "$name: fhir_bench --eval_only failed"
    same_results "$work/regenpath.out" "$work/fhir_bench.out" regenpath "fhir_bench --eval_only" \
      || die "$name: fhir_bench --eval_only and regenpath give different results"
  fi
  nonempty=$(grep -cv '^\[\]$\|^\[0\]$\|^\[false\]$' "$work/regenpath.out" || true)
  echo "same results: $name ($nonempty of ${#bundles[@]} bundles give a non-empty, non-zero, non-false result)"
done
echo

# Prints "WALL_NS CPU_NS" for one run of "$@" (its output discarded): the
# elapsed time and the user + system CPU time of the process, as bash's `time`
# reports them (millisecond resolution). CPU time is less disturbed by other
# load on the machine; for node it includes its helper threads.
time_process() {
  local TIMEFORMAT='%3R %3U %3S' report wall user sys
  report=$( { time "$@" > /dev/null 2> "$work/tool.err"; } 2>&1 ) || { cat "$work/tool.err" >&2; return 1; }
  read -r wall user sys <<< "$report"
  python3 -c 'import sys; w, u, s = map(float, sys.argv[1:]); print(round(w * 1e9), round((u + s) * 1e9))' \
    "$wall" "$user" "$sys"
}

# Prints the eval_ns figure that one run of "$@" reports on stderr.
eval_ns_of() {
  "$@" > /dev/null 2> "$work/eval.err" || { cat "$work/eval.err" >&2; return 1; }
  awk '$1 == "eval_ns" { print $2 }' "$work/eval.err"
}

printf 'mode\tname\ttool\trun\tns\tcpu_ns\n' > "$timings"
for section in e2e eval; do
  [[ $mode == all || $mode == "$section" ]] || continue
  for index in "${!names[@]}"; do
    name=${names[$index]}
    expression=${expressions[$index]}
    echo -n "timing $section: $name " >&2
    for (( run = 1; run <= runs; run++ )); do
      if (( run % 2 == 1 )); then order=(js rp); else order=(rp js); fi
      for tool in "${order[@]}"; do
        if [[ $section == e2e ]]; then
          if [[ $tool == js ]]; then
            read -r ns cpu_ns < <(time_process "$node" "$runner" "$expression" "${files[@]}")
          else
            read -r ns cpu_ns < <(time_process "$regenpath" fhirpath "$expression" "${files[@]}")
          fi
        else
          if [[ $tool == js ]]; then
            ns=$(eval_ns_of "$node" "$runner" --eval-only --quiet "$expression" "${files[@]}")
          else
            ns=$(eval_ns_of "$fhir_bench" --eval_only --quiet "$expression" "${files[@]}")
          fi
          cpu_ns=
        fi
        [[ ${ns:-} =~ ^[0-9]+$ ]] || die "$section $name $tool: no timing"
        printf '%s\t%s\t%s\t%d\t%s\t%s\n' "$section" "$name" "$tool" "$run" "$ns" "${cpu_ns:-}" >> "$timings"
      done
      echo -n '.' >&2
    done
    echo >&2
  done
done
echo >&2

python3 - "$timings" "${#files[@]}" <<'EOF'
import collections, statistics, sys
path, files = sys.argv[1], int(sys.argv[2])
samples = collections.defaultdict(list)
names = collections.defaultdict(list)
with open(path) as f:
    next(f)
    for line in f:
        section, name, tool, _, ns, cpu_ns = line.rstrip("\n").split("\t")
        samples[(section, "wall", name, tool)].append(int(ns))
        if cpu_ns:
            samples[(section, "cpu", name, tool)].append(int(cpu_ns))
        if name not in names[section]:
            names[section].append(name)

def table(title, section, metric):
    print(f"{title} ({files} files per run)")
    width = max(len(n) for n in names[section])
    print(f"  {'expression':<{width}}  {'fhirpath.js':>12}  {'regenpath':>12}  {'ratio':>8}")
    ratios = []
    for name in names[section]:
        js = statistics.median(samples[(section, metric, name, "js")])
        rp = statistics.median(samples[(section, metric, name, "rp")])
        ratios.append(js / rp)
        print(f"  {name:<{width}}  {js / 1e6:>10.3f}ms  {rp / 1e6:>10.3f}ms  {js / rp:>7.1f}x")
    print(f"  median ratio over {len(ratios)} expressions: {statistics.median(ratios):.1f}x"
          f"  (min {min(ratios):.1f}x, max {max(ratios):.1f}x,"
          f" geometric mean {statistics.geometric_mean(ratios):.1f}x)")
    print()

if "e2e" in names:
    table("End to end, wall time: whole processes (read + parse + evaluate + print), median per run",
          "e2e", "wall")
    table("End to end, CPU time (user + system) of the same processes, median per run", "e2e", "cpu")
if "eval" in names:
    table("Evaluation only: evaluate calls timed inside the processes, summed over the files, median per run",
          "eval", "wall")
print(f"raw timings: {path}")
EOF
