"""What secrun's benchmark scripts share: the commit and machine a table
was measured at, paired timing (secrun and its anchor interleaved run by
run, so that both see the same machine state), spreads, memory as a
container pays for it (PSS and private bytes from smaps_rollup), and
rewriting one marked section of docs/BENCHMARKS.md.
"""

import os
import platform
import re
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def commit():
    """The commit measured, with `+dirty` when the tree has changes (other
    than the figures in docs/BENCHMARKS.md, which the scripts write)."""
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/BENCHMARKS.md"],
        cwd=ROOT, capture_output=True, text=True,
    ).stdout.strip()
    return rev + ("+dirty" if dirty else "")


def machine():
    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
        if m:
            cpu = m.group(1).strip()
    return "%s, %d cores, Linux %s" % (cpu, os.cpu_count(), platform.release())


def stamp():
    return "Measured %s at commit %s on %s." % (time.strftime("%Y-%m-%d"), commit(), machine())


def quantile(values, q):
    v = sorted(values)
    if not v:
        return float("nan")
    pos = q * (len(v) - 1)
    lo, hi = int(pos), min(int(pos) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def summary(values):
    """(median, p10, p90)."""
    return statistics.median(values), quantile(values, 0.1), quantile(values, 0.9)


def paired(cmds, runs, warmup=3, env=None):
    """Run every command once per round, in turn, `runs` rounds; return
    {name: [ms, ...]} with sample i of each from the same round."""
    for _ in range(warmup):
        for c in cmds.values():
            subprocess.run(c, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = {k: [] for k in cmds}
    for _ in range(runs):
        for name, c in cmds.items():
            t = time.perf_counter()
            subprocess.run(c, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            out[name].append((time.perf_counter() - t) * 1000)
    return out


def ratio(samples, a, b):
    """The per-round ratio a/b: (median, p10, p90), and whether it is a tie
    (1.0 lies within the spread)."""
    r = [x / y for x, y in zip(samples[a], samples[b])]
    med, lo, hi = summary(r)
    return med, lo, hi, lo <= 1.0 <= hi


def verdict(med, lo, hi, tie, target=None):
    if tie:
        return "tie (1.0 within p10-p90 %.2f-%.2f)" % (lo, hi)
    text = "%.2fx (p10-p90 %.2f-%.2f)" % (med, lo, hi)
    if target is not None:
        text += ", target %.2fx: %s" % (target, "met" if med <= target else "missed")
    return text


def memory_kib(pid):
    """RSS, PSS and USS (private clean + private dirty) of a process, KiB."""
    fields = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":"):
                try:
                    fields[parts[0][:-1]] = int(parts[1])
                except ValueError:
                    pass
    return {
        "rss": fields.get("Rss", 0),
        "pss": fields.get("Pss", 0),
        "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0),
    }


def write_section(name, text):
    """Replace the text between <!-- NAME:begin --> and <!-- NAME:end -->."""
    path = os.path.join(ROOT, "docs/BENCHMARKS.md")
    with open(path) as f:
        doc = f.read()
    begin, end = "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name
    if begin not in doc:
        doc += "\n%s\n%s" % (begin, end)
    doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: begin + "\n" + text + end, doc, flags=re.S)
    with open(path, "w") as f:
        f.write(doc)


def build_static():
    """The binary users get (scripts/build-static): its path."""
    out = subprocess.run([os.path.join(ROOT, "scripts/build-static")], cwd=ROOT, check=True, capture_output=True, text=True)
    return os.path.join(ROOT, out.stdout.strip().splitlines()[-1])


def build_dynamic():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target/release/secrun")
